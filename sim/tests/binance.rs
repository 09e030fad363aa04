//! Integration tests of the Binance simulator: real HTTP on loopback against a spawned sim.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

use exsync_sim::binance::{spawn, BinanceSimConfig, LimitConfig, SimHandle};
use exsync_sim::time::real_now_ms;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const DAY: i64 = 86_400_000;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn code(&self) -> i64 {
        self.json()["code"].as_i64().expect("error code")
    }
}

/// A minimal HTTP/1.1 client: one request per connection.
fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect to the sim");
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut payload = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &payload[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let len = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if len == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + len]);
            rest = &rest[nl + 2 + len + 2..];
        }
        payload = out;
    }
    Reply {
        status,
        headers,
        body: String::from_utf8(payload).expect("UTF-8 body"),
    }
}

fn sign(secret: &str, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Signs `params` (already URL-encoded) plus a fresh timestamp, as a Binance client does.
fn signed_get(addr: SocketAddr, path: &str, params: &str) -> Reply {
    signed_get_with(addr, KEY, SECRET, path, params, real_now_ms())
}

fn signed_get_with(
    addr: SocketAddr,
    key: &str,
    secret: &str,
    path: &str,
    params: &str,
    ts: i64,
) -> Reply {
    let total = if params.is_empty() {
        format!("timestamp={ts}")
    } else {
        format!("{params}&timestamp={ts}")
    };
    let sig = sign(secret, &total);
    http(
        addr,
        "GET",
        &format!("{path}?{total}&signature={sig}"),
        &[("X-MBX-APIKEY", key)],
        "",
    )
}

fn get(addr: SocketAddr, target: &str) -> Reply {
    http(addr, "GET", target, &[], "")
}

fn config() -> BinanceSimConfig {
    let mut c = BinanceSimConfig::new(KEY, SECRET);
    c.dataset.trades = 3_000;
    c
}

fn start(c: BinanceSimConfig) -> (SocketAddr, SimHandle) {
    spawn(c).expect("spawn the sim")
}

fn truth(addr: SocketAddr) -> Value {
    let r = get(addr, "/__sim/truth");
    assert_eq!(r.status, 200);
    r.json()
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[test]
fn public_endpoints_answer() {
    let (addr, _h) = start(config());
    let r = get(addr, "/api/v3/ping");
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    assert_eq!(r.header("X-MBX-USED-WEIGHT-1M"), Some("1"));
    let t = get(addr, "/api/v3/time").json()["serverTime"]
        .as_i64()
        .unwrap();
    assert!((t - real_now_ms()).abs() < 5_000);
    let info = get(addr, "/api/v3/exchangeInfo").json();
    assert_eq!(info["symbols"].as_array().unwrap().len(), 200);
    assert_eq!(info["rateLimits"][0]["limit"], 6000);
    let one = get(
        addr,
        &format!("/api/v3/exchangeInfo?symbol={}", encode("币安人生USDT")),
    )
    .json();
    assert_eq!(one["symbols"][0]["baseAsset"], "币安人生");
    let bad = get(addr, "/api/v3/exchangeInfo?symbol=NOPE");
    assert_eq!((bad.status, bad.code()), (400, -1121));
    assert_eq!(get(addr, "/api/v3/nothing").status, 404);
}

#[test]
fn signature_key_and_timestamp_are_checked() {
    let (addr, _h) = start(config());
    let ok = signed_get(addr, "/api/v3/account", "");
    assert_eq!(ok.status, 200, "{}", ok.body);
    let acc = ok.json();
    assert_eq!(acc["accountType"], "SPOT");
    assert_eq!(acc["balances"].as_array().unwrap().len(), 60);

    let bad_sig = signed_get_with(
        addr,
        KEY,
        "wrong-secret",
        "/api/v3/account",
        "",
        real_now_ms(),
    );
    assert_eq!((bad_sig.status, bad_sig.code()), (400, -1022));
    assert_eq!(
        bad_sig.json()["msg"],
        "Signature for this request is not valid."
    );

    let other_key = "A".repeat(64);
    let bad_key = signed_get_with(
        addr,
        &other_key,
        SECRET,
        "/api/v3/account",
        "",
        real_now_ms(),
    );
    assert_eq!((bad_key.status, bad_key.code()), (401, -2015));
    assert_eq!(
        bad_key.json()["msg"],
        "Invalid API-key, IP, or permissions for action."
    );

    let no_key = http(
        addr,
        "GET",
        "/api/v3/account?timestamp=1&signature=00",
        &[],
        "",
    );
    assert_eq!((no_key.status, no_key.code()), (401, -2014));

    let stale = signed_get_with(
        addr,
        KEY,
        SECRET,
        "/api/v3/account",
        "",
        real_now_ms() - 10_000,
    );
    assert_eq!((stale.status, stale.code()), (400, -1021));
    assert_eq!(
        stale.json()["msg"],
        "Timestamp for this request is outside of the recvWindow."
    );
    let wide = signed_get_with(
        addr,
        KEY,
        SECRET,
        "/api/v3/account",
        "recvWindow=60000",
        real_now_ms() - 10_000,
    );
    assert_eq!(wide.status, 200);
    let ahead = signed_get_with(
        addr,
        KEY,
        SECRET,
        "/api/v3/account",
        "",
        real_now_ms() + 5_000,
    );
    assert_eq!(ahead.code(), -1021);

    let no_sig = http(
        addr,
        "GET",
        &format!("/api/v3/account?timestamp={}", real_now_ms()),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!((no_sig.status, no_sig.code()), (400, -1102));

    // Signing the decoded symbol but sending it encoded must fail, as on Binance.
    let ts = real_now_ms();
    let signed_raw = format!("symbol=币安人生USDT&timestamp={ts}");
    let sent = format!("symbol={}&timestamp={ts}", encode("币安人生USDT"));
    let r = http(
        addr,
        "GET",
        &format!(
            "/api/v3/myTrades?{sent}&signature={}",
            sign(SECRET, &signed_raw)
        ),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.code(), -1022);
    let stats = get(addr, "/__sim/stats").json();
    assert!(stats["auth_failures"].as_u64().unwrap() >= 6);
}

#[test]
fn from_id_paging_returns_exactly_the_truth() {
    let (addr, _h) = start(config());
    let truth = truth(addr);
    for symbol in ["币安人生USDT", "BTCUSDT", "DOGEUSDT", "1000SATSUSDT"] {
        let expected = truth["trades"][symbol].as_array().unwrap().clone();
        assert!(!expected.is_empty(), "{symbol} has trades");
        let mut got: Vec<Value> = Vec::new();
        let mut from = 0u64;
        loop {
            let r = signed_get(
                addr,
                "/api/v3/myTrades",
                &format!("symbol={}&fromId={from}&limit=100", encode(symbol)),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            let page = r.json().as_array().unwrap().clone();
            if page.is_empty() {
                break;
            }
            from = page.last().unwrap()["id"].as_u64().unwrap() + 1;
            let full = page.len() == 100;
            got.extend(page);
            if !full {
                break;
            }
        }
        assert_eq!(got, expected, "{symbol}");
        // allOrders paging by orderId, too.
        let orders = truth["orders"][symbol].as_array().unwrap();
        let first = orders[0]["orderId"].as_u64().unwrap();
        let r = signed_get(
            addr,
            "/api/v3/allOrders",
            &format!("symbol={}&orderId={first}&limit=1000", encode(symbol)),
        );
        let page = r.json();
        assert_eq!(
            page.as_array().unwrap()[..],
            orders[..orders.len().min(1000)]
        );
    }
    // No parameters: the most recent trades, ascending.
    let recent = signed_get(addr, "/api/v3/myTrades", "symbol=BTCUSDT&limit=5").json();
    let all = truth["trades"]["BTCUSDT"].as_array().unwrap();
    assert_eq!(recent.as_array().unwrap()[..], all[all.len() - 5..]);
    // By order.
    let t = &all[10];
    let by_order = signed_get(
        addr,
        "/api/v3/myTrades",
        &format!("symbol=BTCUSDT&orderId={}", t["orderId"]),
    )
    .json();
    assert!(by_order.as_array().unwrap().contains(t));
    let unknown = signed_get(addr, "/api/v3/myTrades", "symbol=NOPEUSDT");
    assert_eq!(unknown.code(), -1121);
}

#[test]
fn time_windows_are_limited_as_binance_does() {
    let (addr, _h) = start(config());
    let t0 = 1_717_200_000_000i64; // 2024-06-01
    let r = signed_get(
        addr,
        "/api/v3/myTrades",
        &format!("symbol=BTCUSDT&startTime={t0}&endTime={}", t0 + DAY + 1),
    );
    assert_eq!((r.status, r.code()), (400, -1127));
    assert_eq!(
        r.json()["msg"],
        "More than 24 hours between startTime and endTime."
    );
    let ok = signed_get(
        addr,
        "/api/v3/myTrades",
        &format!("symbol=BTCUSDT&startTime={t0}&endTime={}", t0 + DAY),
    );
    assert_eq!(ok.status, 200);
    for trade in ok.json().as_array().unwrap() {
        let time = trade["time"].as_i64().unwrap();
        assert!(time >= t0 && time <= t0 + DAY);
    }
    let combo = signed_get(
        addr,
        "/api/v3/myTrades",
        &format!("symbol=BTCUSDT&fromId=1&startTime={t0}"),
    );
    assert_eq!(combo.code(), -1128);
    let orders = signed_get(
        addr,
        "/api/v3/allOrders",
        &format!("symbol=BTCUSDT&startTime={t0}&endTime={}", t0 + 2 * DAY),
    );
    assert_eq!(orders.code(), -1127);

    // Deposits: 90-day windows, newest first, and they tile the history exactly.
    let too_long = signed_get(
        addr,
        "/sapi/v1/capital/deposit/hisrec",
        &format!("startTime={t0}&endTime={}", t0 + 90 * DAY + 1),
    );
    assert_eq!((too_long.status, too_long.code()), (400, -1127));
    let old_start_only = signed_get(
        addr,
        "/sapi/v1/capital/deposit/hisrec",
        &format!("startTime={t0}"),
    );
    assert_eq!(old_start_only.code(), -1127, "endTime defaults to now");
    assert_eq!(
        old_start_only.header("X-SAPI-USED-IP-WEIGHT-1M"),
        Some("2"),
        "SAPI weight is counted apart"
    );
    let truth = truth(addr);
    for (path, kind, key) in [
        ("/sapi/v1/capital/deposit/hisrec", "deposits", "insertTime"),
        (
            "/sapi/v1/capital/withdraw/history",
            "withdrawals",
            "applyTime",
        ),
    ] {
        let mut got: Vec<Value> = Vec::new();
        let mut empty_windows = 0;
        let mut s = 1_704_067_200_000i64;
        while s < 1_780_272_000_000 {
            let e = s + 90 * DAY - 1;
            let r = signed_get(addr, path, &format!("startTime={s}&endTime={e}"));
            assert_eq!(r.status, 200, "{}", r.body);
            let page = r.json().as_array().unwrap().clone();
            if page.is_empty() {
                empty_windows += 1;
            }
            if kind == "deposits" {
                let times: Vec<i64> = page.iter().map(|d| d[key].as_i64().unwrap()).collect();
                assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
            }
            got.extend(page);
            s = e + 1;
        }
        assert!(empty_windows >= 1, "{kind}: some windows are empty");
        let mut expected = truth[kind].as_array().unwrap().clone();
        let id = |v: &Value| v["id"].as_str().unwrap().to_string();
        expected.sort_by_key(id);
        got.sort_by_key(id);
        assert_eq!(got, expected, "{kind}");
    }
}

#[test]
fn weight_limit_gives_429_then_418() {
    let mut c = config();
    c.limits = LimitConfig {
        weight_limit: 50,
        ..LimitConfig::default()
    };
    let (addr, _h) = start(c);
    // Stay clear of a window edge so the test does not straddle two windows.
    while real_now_ms() % 60_000 > 50_000 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        get(addr, "/api/v3/exchangeInfo").header("X-MBX-USED-WEIGHT-1M"),
        Some("20")
    );
    assert_eq!(
        get(addr, "/api/v3/exchangeInfo").header("X-MBX-USED-WEIGHT-1M"),
        Some("40")
    );
    let r = get(addr, "/api/v3/exchangeInfo");
    assert_eq!((r.status, r.code()), (429, -1003));
    assert_eq!(
        r.json()["msg"],
        "Too many requests; current limit of IP(127.0.0.1) request weight is 50 per 1 MINUTE. \
         Please use WebSocket Streams for live updates to avoid polling the API."
    );
    let retry: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    for _ in 0..3 {
        assert_eq!(get(addr, "/api/v3/ping").status, 429);
    }
    let banned = get(addr, "/api/v3/ping");
    assert_eq!((banned.status, banned.code()), (418, -1003));
    assert_eq!(banned.header("Retry-After"), Some("120"));
    assert!(banned.json()["msg"]
        .as_str()
        .unwrap()
        .starts_with("Way too many requests; IP(127.0.0.1) banned until "));
    assert_eq!(get(addr, "/api/v3/time").status, 418);
    let stats = get(addr, "/__sim/stats").json();
    assert_eq!(stats["by_status"]["429"], 4);
    assert_eq!(stats["by_status"]["418"], 2);
    assert_eq!(stats["weight_used_max"], 40);
    assert_eq!(stats["weight_limit"], 50);
}

#[test]
fn truth_holds_the_odd_asset_and_extreme_decimals() {
    let (addr, _h) = start(config());
    let t = truth(addr);
    assert_eq!(t["exchange"], "binance");
    let balances = t["balances"].as_array().unwrap();
    assert!(balances.iter().any(|b| b["asset"] == "币安人生"));
    assert!(balances.iter().any(|b| b["asset"] == "1000SATS"));
    let doge = balances.iter().find(|b| b["asset"] == "DOGE").unwrap();
    assert_eq!(
        (doge["free"].as_str(), doge["locked"].as_str()),
        (Some("0.00000000"), Some("0.00000000"))
    );
    let text = t.to_string();
    assert!(text.contains("\"98765432109.87654321\""));
    assert!(text.contains("\"0.00000001\""));
    assert!(t["trades"]["币安人生USDT"].as_array().unwrap().len() > 1);
    assert!(t["deposits"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["coin"] == "币安人生"));
    assert!(t["withdrawals"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["coin"] == "1000SATS"));
    let apply = t["withdrawals"][0]["applyTime"].as_str().unwrap();
    assert_eq!(apply.len(), 19, "YYYY-MM-DD HH:MM:SS: {apply}");
    // The account as served equals the truth's pieces.
    let acc = signed_get(addr, "/api/v3/account", "").json();
    assert_eq!(acc["balances"], t["balances"]);
    let nonzero = signed_get(addr, "/api/v3/account", "omitZeroBalances=true").json();
    assert!(nonzero["balances"].as_array().unwrap().len() < balances.len());
    let restr = signed_get(addr, "/sapi/v1/account/apiRestrictions", "").json();
    assert_eq!(restr["enableReading"], true);
}

#[test]
fn same_seed_same_truth_other_seed_other_truth() {
    let (a, _ha) = start(config());
    let (b, _hb) = start(config());
    let mut other = config();
    other.dataset.seed = 7;
    let (c, _hc) = start(other);
    let (ta, tb, tc) = (
        get(a, "/__sim/truth").body,
        get(b, "/__sim/truth").body,
        get(c, "/__sim/truth").body,
    );
    assert_eq!(ta, tb);
    assert_ne!(ta, tc);
}

#[test]
fn klines_match_the_truth_and_closed_candles_do_not_change() {
    let (addr, _h) = start(config());
    let start = 1_717_200_000_000i64;
    let r = get(
        addr,
        &format!("/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={start}&limit=24"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-MBX-USED-WEIGHT-1M"), Some("2"));
    let page = r.json();
    let rows = page.as_array().unwrap();
    assert_eq!(rows.len(), 24);
    assert_eq!(rows[0].as_array().unwrap().len(), 12);
    assert_eq!(rows[0][0], start);
    assert_eq!(rows[0][6], start + 3_600_000 - 1);
    let truth = get(
        addr,
        &format!(
            "/__sim/truth/klines?symbol=BTCUSDT&interval=1h&startTime={start}&endTime={}",
            start + DAY
        ),
    )
    .json();
    assert_eq!(&truth, &page);
    for iv in [
        "1m", "3m", "5m", "15m", "30m", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M", "1s",
    ] {
        let r = get(
            addr,
            &format!("/api/v3/klines?symbol=ETHBTC&interval={iv}&limit=3"),
        );
        assert_eq!(r.status, 200, "{iv}: {}", r.body);
        assert_eq!(r.json().as_array().unwrap().len(), 3, "{iv}");
    }
    let recent = get(addr, "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=2").json();
    let open = recent[1][0].as_i64().unwrap();
    assert!(
        recent[1][6].as_i64().unwrap() >= real_now_ms() - 1_000,
        "the last candle is open"
    );
    let again = get(
        addr,
        &format!(
            "/api/v3/klines?symbol=BTCUSDT&interval=1m&endTime={}&limit=1",
            open - 1
        ),
    )
    .json();
    assert_eq!(again[0], recent[0], "closed candles never change");
    assert_eq!(
        get(addr, "/api/v3/klines?symbol=BTCUSDT&interval=2d").json()["code"],
        -1120
    );
}

#[test]
fn faults_and_appends_at_runtime() {
    let (addr, _h) = start(config());
    let r = http(
        addr,
        "POST",
        "/__sim/faults",
        &[],
        r#"{"fail_next":{"count":2,"status":503}}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(addr, "/api/v3/ping").status, 503);
    let second = get(addr, "/api/v3/time");
    assert_eq!((second.status, second.code()), (503, -1008));
    assert_eq!(get(addr, "/api/v3/ping").status, 200);
    http(
        addr,
        "POST",
        "/__sim/faults",
        &[],
        r#"{"malformed_rate":1.0}"#,
    );
    let bad = get(addr, "/api/v3/exchangeInfo");
    assert_eq!(bad.status, 200);
    assert!(serde_json::from_str::<Value>(&bad.body).is_err());
    let cfg = http(
        addr,
        "POST",
        "/__sim/faults",
        &[],
        r#"{"malformed_rate":0.0}"#,
    )
    .json();
    assert_eq!(cfg["malformed_rate"], 0.0);
    assert_eq!(get(addr, "/__sim/faults").json()["error_rate"], 0.0);

    let before = truth(addr);
    let count = |t: &Value| -> usize {
        t["trades"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_array().unwrap().len())
            .sum()
    };
    let r = http(addr, "POST", "/__sim/append", &[], r#"{"trades":25}"#).json();
    assert_eq!(r["appended"], 25);
    let after = truth(addr);
    assert_eq!(count(&after), count(&before) + 25);
    for (symbol, trades) in after["trades"].as_object().unwrap() {
        let old = before["trades"][symbol].as_array().unwrap();
        let new = trades.as_array().unwrap();
        if new.len() == old.len() {
            continue;
        }
        let last = old.last().unwrap()["id"].as_u64().unwrap();
        let page = signed_get(
            addr,
            "/api/v3/myTrades",
            &format!("symbol={}&fromId={}", encode(symbol), last + 1),
        )
        .json();
        assert_eq!(page.as_array().unwrap()[..], new[old.len()..]);
        for t in &new[old.len()..] {
            let order = after["orders"][symbol]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["orderId"] == t["orderId"])
                .unwrap();
            assert_eq!(order["status"], "FILLED");
        }
    }
    let stats = get(addr, "/__sim/stats").json();
    assert!(
        stats["by_endpoint"]["GET /api/v3/myTrades"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(stats["by_endpoint_symbol"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.starts_with("GET /api/v3/myTrades ")));
    http(addr, "POST", "/__sim/stats/reset", &[], "");
    assert_eq!(get(addr, "/__sim/stats").json()["requests_total"], 0);
}

#[test]
fn the_binary_announces_its_url_and_prints_the_truth() {
    let exe = env!("CARGO_BIN_EXE_exsync-sim");
    let mut child = Command::new(exe)
        .args([
            "binance",
            "--api-key",
            KEY,
            "--api-secret",
            SECRET,
            "--trades",
            "500",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start exsync-sim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("exsync-sim binance listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let addr: SocketAddr = url.parse().unwrap();
    let served = get(addr, "/__sim/truth").body;
    child.kill().unwrap();
    child.wait().unwrap();
    let out = Command::new(exe)
        .args(["binance-truth", "--trades", "500"])
        .output()
        .expect("run binance-truth");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim_end(), served);
}
