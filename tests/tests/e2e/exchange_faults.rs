//! Faults from exchanges (issue 9): 429 with and without `Retry-After`, Binance's 418 ban,
//! Kraken's lockout, 5xx bursts, stalls past the request timeout, connections reset mid-body,
//! truncated and non-JSON bodies, schema drift, pages that shift while they are walked, and a
//! skewed server clock.
//!
//! Every fault comes from the simulators' shared exchange-fault layer
//! (`/__sim/exchange_faults`), which picks requests by path and position: the first page of a
//! walk goes through, the next ones are faulted. For each fault: the operator sees the right
//! error kind (`sync --json --wait`, `status --json`), retries stop at a bound (the layer
//! counts the requests it faulted), nothing from a failed page is stored (what is stored is a
//! part of the exchange's account, record for record), and the next sync with the fault off
//! ends with exactly the account.
//!
//! "The account", for the connectors whose own tests compare with the simulator's truth
//! field by field, is what a fault-free integration of the same daemon stored from the same
//! simulator (`reference`); Binance, Kraken and Gemini are also compared with the truth
//! directly.
//!
//! Per connector, on the endpoint of its trades walk (`generic_faults_<exchange>`, about 30 s
//! each in a debug build), every generic fault of [`generic_cases`] — 429 with and without
//! `Retry-After` in the exchange's own body, a 5xx burst retried through, a 5xx outage
//! (`exchange_unavailable`), a stall past the request timeout, a reset (`network`), a truncated
//! and a non-JSON body and a renamed amount (`bad_response`):
//!
//! | connector | endpoint faulted | renamed field |
//! |---|---|---|
//! | Binance | `/api/v3/myTrades` | `qty` |
//! | Kraken | `/0/private/TradesHistory` | `vol` |
//! | OKX | `/api/v5/trade/fills` | `fillSz` |
//! | KuCoin | `/fills` | `size` |
//! | Bybit | `/v5/execution/list` | `execQty` |
//! | Coinbase Exchange | `/fills` | `size` |
//! | Bitget | `/api/v2/spot/trade/fills` | `size` |
//! | Gate.io | `/spot/my_trades` | `amount` |
//! | BitMEX | `/api/v1/execution/tradeHistory` | `lastQty` |
//! | Bitfinex | `/v2/auth/r/trades/hist` | none: its rows are arrays, no drift case |
//! | Gemini | `/v1/mytrades` | `amount` |
//! | Deribit | `private/get_user_trades_by_currency*` | `amount` |
//! | Crypto.com | `private/get-trades` | `traded_quantity` |
//! | Coinbase (Advanced Trade) | `/api/v3/brokerage/orders/historical/fills` | `size` |
//! | Coinbase Prime | `/v1/portfolios/{id}/fills` | `filled_quantity` |
//! | FalconX | `/v1/quotes` | `quantity_requested` |
//! | B2C2 | `/trade/` | `quantity` |
//! | Copper | `/platform/orders` | `amount` |
//!
//! Binance and Kraken also have the 418 ban and the lockout kept across a restart, a long
//! `Retry-After`, a stall on every attempt, clock skew (Binance) and pages shifted by trades
//! arriving mid-walk. The connectors other than Binance, Kraken and Gemini are compared with the
//! `reference` integration only, not with the simulator's truth (their truth comparisons live
//! in their own e2e files).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use exsync_e2e::daemon::{integration, Daemon, Setup};
use exsync_e2e::dates::{date_of, days_ago, now_ms};
use exsync_e2e::faults::assert_kraken_stored_exactly;
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::{assert_kind_exactly, assert_stored_exactly};
use exsync_e2e::{streams, text};
use serde_json::{json, Value};

/// Attempts the host makes for one request that meets 5xx, 429 or a network error.
const MAX_ATTEMPTS: u64 = 5;
/// The request timeout the fault tests give the daemon (`[http] request_timeout`).
const REQUEST_TIMEOUT: &str = "2s";
/// Every record kind an account stream stores.
const KINDS: [&str; 6] = [
    "balance",
    "trade",
    "order",
    "deposit",
    "withdrawal",
    "ledger",
];

const KRAKEN_KEY: &str = "e2eKRAKENkeyA1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8U9v0W1x2Y3z4aBcD";
const KRAKEN_SECRET: &str =
    "uP9q/AYIed79I4K5A91M48K5H7YHsDB3u9OOngk3kdMOCZZ2fHpnHjgYWp/v/8vb7RW5xw7uCRebj90ncCEz8w==";
const OKX_KEY: &str = "e2eOKXkey7f3a9c1e-5b2d-4e8f-a6c0-91d4b7e2f3a8";
const OKX_SECRET: &str = "e2eOKXsecretD41D8CD98F00B204E9800998ECF8427E";
const OKX_PASSPHRASE: &str = "e2eOKXpassphraseZq7Wm";
const KUCOIN_PASSPHRASE: &str = "e2ePASSPHRASEkc7Lm2Nq4Rs6Tu8Vw0Xy";
const CBX_KEY: &str = "e2eCBXkey7f3a9c1d5e8b2046";
const CBX_SECRET: &str =
    "ZTJlQ0JYc2VjcmV0LXE4WHYyTG1ONHBSN3NUMXVXM3laNWFCNmNEOWVGMGdIMmpLNGxNNm5QOA==";
const CBX_PASSPHRASE: &str = "e2eCBXpassphraseQ7w8E9r0";
const BITGET_PASSPHRASE: &str = "e2ePASSbitgetW7x8y9z0Q1w2e3";

const CB_KEY_NAME: &str = "organizations/e2e0rg00-0000-4000-8000-000000000001/apiKeys/e2e0key0-0000-4000-8000-000000000002";
const CB_PRIVATE_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIJ21pH2KHdENwpDLuCuMLFmGgDoRwcYB8ITuaA41zcLPoAoGCCqGSM49
AwEHoUQDQgAEXNm3JQ9Fe3ku/LmyysD9lBclmf1NksUAqzxEzIwX/U6wN/xDaqGe
gXF57vkrCkG+wniVF98G5tMWZUnOrj7G4Q==
-----END EC PRIVATE KEY-----
";
const CB_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXNm3JQ9Fe3ku/LmyysD9lBclmf1N
ksUAqzxEzIwX/U6wN/xDaqGegXF57vkrCkG+wniVF98G5tMWZUnOrj7G4Q==
-----END PUBLIC KEY-----";
const PRIME_ACCESS_KEY: &str = "e2ePRIMEaccessKEY7f3a9c1d5e8b2a4c6d8e0f1a3b5c7d9e";
const PRIME_PASSPHRASE: &str = "e2ePRIMEpassphraseQ4w7E2r9T5y1";
const PRIME_SIGNING_KEY: &str = "e2ePRIMEsigningKEYm3N8b5V2c7X4z9L1k6J0h3G8f5D2s7A4";
const PRIME_PORTFOLIO: &str = "0c6f8a2e-4d1b-4e7a-9b3c-5a8d2f6e1c90";
const FALCONX_KEY: &str = "e2eFALCONXkeyR5t8Y1u4I7o0P3a6S9d2F5g8H1j4K7";
const FALCONX_PASSPHRASE: &str = "e2eFALCONXpassphraseW3e6R9t2Y5";
const FALCONX_SECRET: &str = "ZTJlRkFMQ09OWHNlY3JldFE5dzhFN3I2VDV5NFUzaTJPMXAw";
const B2C2_TOKEN: &str = "e2eB2C2tokenf3a9c1d5e8b2a4c6d8e0f1a3b5c7d9";
const COPPER_KEY: &str = "e2eCOPPERapiKEY3c9a7f1d5e2b8a4c6d0e9f1a3b5c7d9e";
const COPPER_SECRET: &str = "e2eCOPPERapiSECRETm4N8b6V2c9X3z7L1k5J0h2G8f4D6s1";
const COPPER_ORGANIZATION: &str = "e2e-copper-org-5b1e";

/// One connector as these tests drive it: its simulator with a small account, its plugin,
/// its integration file, and where its trade walk can be faulted.
struct Connector {
    exchange: &'static str,
    plugin: &'static str,
    sim: &'static str,
    sim_args: Vec<String>,
    /// Credential environment variables (registered as secrets).
    env: Vec<(&'static str, &'static str)>,
    /// The integration file less `enabled` and the streams: exchange, base URL, start,
    /// credentials.
    head: fn(&str) -> String,
    /// A path fragment of the trade walk's endpoint.
    trades_path: &'static str,
    /// The amount field of a trade in that endpoint's answer (removed by the drift fault).
    amount_field: &'static str,
    /// Matching requests let through before the fault: at least one page is stored first.
    skip: u64,
    /// The body of the exchange's own 429.
    rate_limit_body: &'static str,
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn binance() -> Connector {
    Connector {
        exchange: "binance",
        plugin: "libexsync_plugin_binance.so",
        sim: "binance",
        sim_args: args(&[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--seed",
            "901",
            "--history-start",
            "2025-06-01",
            "--symbols",
            "6",
            "--traded-symbols",
            "3",
            "--trades",
            "150",
            "--deposits",
            "5",
            "--withdrawals",
            "5",
            "--no-weight-limit",
        ]),
        env: vec![
            ("E2E_BINANCE_KEY", API_KEY),
            ("E2E_BINANCE_SECRET", API_SECRET),
        ],
        head: |url| {
            format!(
                "exchange = \"binance\"\nbase_url = \"{url}\"\nstart = \"2025-06-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_BINANCE_KEY\"\napi_secret = \"env:E2E_BINANCE_SECRET\"\n"
            )
        },
        trades_path: "/api/v3/myTrades",
        amount_field: "qty",
        skip: 1,
        rate_limit_body: "{\"code\":-1003,\"msg\":\"Too many requests; current limit of IP is 6000 requests per minute.\"}",
    }
}

fn kraken() -> Connector {
    Connector {
        exchange: "kraken",
        plugin: "libexsync_plugin_kraken.so",
        sim: "kraken",
        sim_args: args(&[
            "--api-key",
            KRAKEN_KEY,
            "--api-secret",
            KRAKEN_SECRET,
            "--seed",
            "902",
            "--no-rate-limit",
            "--history-start",
            "2025-06-01",
            "--trades",
            "120",
            "--deposits",
            "5",
            "--withdrawals",
            "5",
        ]),
        env: vec![
            ("E2E_KRAKEN_KEY", KRAKEN_KEY),
            ("E2E_KRAKEN_SECRET", KRAKEN_SECRET),
        ],
        head: |url| {
            format!(
                "exchange = \"kraken\"\nbase_url = \"{url}\"\nstart = \"2025-06-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_KRAKEN_KEY\"\napi_secret = \"env:E2E_KRAKEN_SECRET\"\n"
            )
        },
        trades_path: "/0/private/TradesHistory",
        amount_field: "vol",
        skip: 1,
        rate_limit_body: "{\"error\":[\"EAPI:Rate limit exceeded\"]}",
    }
}

fn okx() -> Connector {
    Connector {
        exchange: "okx",
        plugin: "libexsync_plugin_okx.so",
        sim: "okx",
        sim_args: args(&[
            "--api-key",
            OKX_KEY,
            "--api-secret",
            OKX_SECRET,
            "--passphrase",
            OKX_PASSPHRASE,
            "--seed",
            "903",
            "--fills",
            "150",
            "--no-rate-limit",
        ]),
        env: vec![
            ("E2E_OKX_KEY", OKX_KEY),
            ("E2E_OKX_SECRET", OKX_SECRET),
            ("E2E_OKX_PASSPHRASE", OKX_PASSPHRASE),
        ],
        head: |url| {
            format!(
                "exchange = \"okx\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_OKX_KEY\"\napi_secret = \"env:E2E_OKX_SECRET\"\n\
                 passphrase = \"env:E2E_OKX_PASSPHRASE\"\n"
            )
        },
        trades_path: "/api/v5/trade/fills",
        amount_field: "fillSz",
        skip: 1,
        rate_limit_body: "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}",
    }
}

fn kucoin() -> Connector {
    let start = date_of(now_ms() - 30 * 86_400_000);
    let end = date_of(now_ms() - 86_400_000);
    let mut sim_args = args(&[
        "--api-key",
        API_KEY,
        "--api-secret",
        API_SECRET,
        "--passphrase",
        KUCOIN_PASSPHRASE,
        "--seed",
        "904",
        "--orders",
        "30",
        "--hf-fills",
        "20",
        "--no-rate-limit",
        "--history-start",
    ]);
    sim_args.extend([start, "--history-end".to_owned(), end]);
    Connector {
        exchange: "kucoin",
        plugin: "libexsync_plugin_kucoin.so",
        sim: "kucoin",
        sim_args,
        env: vec![
            ("E2E_KUCOIN_KEY", API_KEY),
            ("E2E_KUCOIN_SECRET", API_SECRET),
            ("E2E_KUCOIN_PASSPHRASE", KUCOIN_PASSPHRASE),
        ],
        head: |url| {
            format!(
                "exchange = \"kucoin\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_KUCOIN_KEY\"\napi_secret = \"env:E2E_KUCOIN_SECRET\"\n\
                 passphrase = \"env:E2E_KUCOIN_PASSPHRASE\"\n",
                date_of(now_ms() - 30 * 86_400_000)
            )
        },
        trades_path: "/fills",
        amount_field: "size",
        skip: 1,
        rate_limit_body: "{\"code\":\"429000\",\"msg\":\"Too Many Requests\"}",
    }
}

fn bybit() -> Connector {
    Connector {
        exchange: "bybit",
        plugin: "libexsync_plugin_bybit.so",
        sim: "bybit",
        sim_args: args(&[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--seed",
            "905",
            "--trades",
            "60",
            "--no-rate-limit",
        ]),
        env: vec![("E2E_BYBIT_KEY", API_KEY), ("E2E_BYBIT_SECRET", API_SECRET)],
        head: |url| {
            format!(
                "exchange = \"bybit\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_BYBIT_KEY\"\napi_secret = \"env:E2E_BYBIT_SECRET\"\n",
                days_ago(200)
            )
        },
        trades_path: "/v5/execution/list",
        amount_field: "execQty",
        skip: 1,
        rate_limit_body: "{\"retCode\":10006,\"retMsg\":\"Too many visits. Exceeded the API Rate Limit.\",\"result\":{},\"retExtInfo\":{},\"time\":0}",
    }
}

fn coinbase_exchange() -> Connector {
    Connector {
        exchange: "coinbase-exchange",
        plugin: "libexsync_plugin_coinbase_exchange.so",
        sim: "coinbase-exchange",
        sim_args: args(&[
            "--api-key",
            CBX_KEY,
            "--api-secret",
            CBX_SECRET,
            "--passphrase",
            CBX_PASSPHRASE,
            "--seed",
            "906",
            "--orders",
            "40",
            "--no-rate-limit",
        ]),
        env: vec![
            ("E2E_CBX_KEY", CBX_KEY),
            ("E2E_CBX_SECRET", CBX_SECRET),
            ("E2E_CBX_PASSPHRASE", CBX_PASSPHRASE),
        ],
        head: |url| {
            format!(
                "exchange = \"coinbase-exchange\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_CBX_KEY\"\napi_secret = \"env:E2E_CBX_SECRET\"\n\
                 passphrase = \"env:E2E_CBX_PASSPHRASE\"\n",
                days_ago(200)
            )
        },
        trades_path: "/fills",
        amount_field: "size",
        skip: 1,
        rate_limit_body: "{\"message\":\"Private rate limit exceeded\"}",
    }
}

fn bitget() -> Connector {
    Connector {
        exchange: "bitget",
        plugin: "libexsync_plugin_bitget.so",
        sim: "bitget",
        sim_args: args(&[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--passphrase",
            BITGET_PASSPHRASE,
            "--seed",
            "907",
            "--trades",
            "60",
            "--no-rate-limit",
        ]),
        env: vec![
            ("E2E_BITGET_KEY", API_KEY),
            ("E2E_BITGET_SECRET", API_SECRET),
            ("E2E_BITGET_PASSPHRASE", BITGET_PASSPHRASE),
        ],
        head: |url| {
            format!(
                "exchange = \"bitget\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_BITGET_KEY\"\napi_secret = \"env:E2E_BITGET_SECRET\"\n\
                 passphrase = \"env:E2E_BITGET_PASSPHRASE\"\n",
                days_ago(200)
            )
        },
        trades_path: "/api/v2/spot/trade/fills",
        amount_field: "size",
        skip: 1,
        rate_limit_body:
            "{\"code\":\"429\",\"msg\":\"Too Many Requests\",\"requestTime\":0,\"data\":null}",
    }
}

/// A connector whose simulator takes the shared test credentials (`API_KEY`, `API_SECRET`),
/// the seed and `args`, and whose integration needs only `api_key` and `api_secret`.
fn keyed(seed: &str, extra_args: &[&str]) -> Vec<String> {
    let mut all = args(&[
        "--api-key",
        API_KEY,
        "--api-secret",
        API_SECRET,
        "--seed",
        seed,
    ]);
    all.extend(args(extra_args));
    all
}

fn gateio() -> Connector {
    Connector {
        exchange: "gateio",
        plugin: "libexsync_plugin_gateio.so",
        sim: "gateio",
        sim_args: keyed("908", &["--trades", "120", "--endpoint-limit", "100000"]),
        env: vec![
            ("E2E_GATEIO_KEY", API_KEY),
            ("E2E_GATEIO_SECRET", API_SECRET),
        ],
        head: |url| {
            format!(
                "exchange = \"gateio\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_GATEIO_KEY\"\napi_secret = \"env:E2E_GATEIO_SECRET\"\n",
                days_ago(100)
            )
        },
        trades_path: "/spot/my_trades",
        amount_field: "amount",
        skip: 1,
        rate_limit_body:
            "{\"label\":\"TOO_MANY_REQUESTS\",\"message\":\"Request Rate limit Exceeded\"}",
    }
}

fn bitmex() -> Connector {
    Connector {
        exchange: "bitmex",
        plugin: "libexsync_plugin_bitmex.so",
        sim: "bitmex",
        sim_args: keyed("909",
            &["--trades", "120", "--private-limit", "100000", "--public-limit", "100000"],
        ),
        env: vec![("E2E_BITMEX_KEY", API_KEY), ("E2E_BITMEX_SECRET", API_SECRET)],
        head: |url| {
            format!(
                "exchange = \"bitmex\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_BITMEX_KEY\"\napi_secret = \"env:E2E_BITMEX_SECRET\"\n",
                days_ago(200)
            )
        },
        trades_path: "/api/v1/execution/tradeHistory",
        amount_field: "lastQty",
        skip: 1,
        rate_limit_body: "{\"error\":{\"message\":\"Rate limit exceeded, retry in 1 seconds.\",\"name\":\"RateLimitError\"}}",
    }
}

fn bitfinex() -> Connector {
    Connector {
        exchange: "bitfinex",
        plugin: "libexsync_plugin_bitfinex.so",
        sim: "bitfinex",
        sim_args: keyed(
            "910",
            &[
                "--trades",
                "120",
                "--auth-per-minute",
                "100000",
                "--candles-per-minute",
                "100000",
            ],
        ),
        env: vec![
            ("E2E_BITFINEX_KEY", API_KEY),
            ("E2E_BITFINEX_SECRET", API_SECRET),
        ],
        head: |url| {
            format!(
                "exchange = \"bitfinex\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_BITFINEX_KEY\"\napi_secret = \"env:E2E_BITFINEX_SECRET\"\n",
                days_ago(200)
            )
        },
        trades_path: "/v2/auth/r/trades/hist",
        // Bitfinex answers arrays, not objects: there is no field name to drift.
        amount_field: "",
        skip: 1,
        rate_limit_body: "{\"error\":\"ERR_RATE_LIMIT\"}",
    }
}

fn gemini() -> Connector {
    Connector {
        exchange: "gemini",
        plugin: "libexsync_plugin_gemini.so",
        sim: "gemini",
        sim_args: keyed("911",
            &[
                "--trades",
                "120",
                "--transfers-interval-ms",
                "0",
                "--private-per-minute",
                "100000",
                "--public-per-minute",
                "100000",
            ],
        ),
        env: vec![("E2E_GEMINI_KEY", API_KEY), ("E2E_GEMINI_SECRET", API_SECRET)],
        head: |url| {
            format!(
                "exchange = \"gemini\"\nbase_url = \"{url}\"\nstart = \"2023-06-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_GEMINI_KEY\"\napi_secret = \"env:E2E_GEMINI_SECRET\"\n"
            )
        },
        trades_path: "/v1/mytrades",
        amount_field: "amount",
        skip: 1,
        rate_limit_body: "{\"result\":\"error\",\"reason\":\"RateLimit\",\"message\":\"Requests were made too frequently in the last minute.\"}",
    }
}

fn deribit() -> Connector {
    Connector {
        exchange: "deribit",
        plugin: "libexsync_plugin_deribit.so",
        sim: "deribit",
        sim_args: keyed("912", &["--trades", "120"]),
        env: vec![
            ("E2E_DERIBIT_ID", API_KEY),
            ("E2E_DERIBIT_SECRET", API_SECRET),
        ],
        head: |url| {
            format!(
                "exchange = \"deribit\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_DERIBIT_ID\"\napi_secret = \"env:E2E_DERIBIT_SECRET\"\n",
                days_ago(130)
            )
        },
        trades_path: "get_user_trades_by_currency",
        amount_field: "amount",
        skip: 1,
        rate_limit_body:
            "{\"jsonrpc\":\"2.0\",\"error\":{\"message\":\"too_many_requests\",\"code\":10028}}",
    }
}

fn cryptocom() -> Connector {
    Connector {
        exchange: "cryptocom",
        plugin: "libexsync_plugin_cryptocom.so",
        sim: "cryptocom",
        sim_args: keyed("913",
            &["--trades", "120", "--history-days", "10", "--no-rate-limit"],
        ),
        env: vec![("E2E_CRYPTOCOM_KEY", API_KEY), ("E2E_CRYPTOCOM_SECRET", API_SECRET)],
        // The exchange's base URL names the API version; the simulator serves it there too.
        head: |url| {
            format!(
                "exchange = \"cryptocom\"\nbase_url = \"{url}/exchange/v1\"\nstart = \"{}\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_CRYPTOCOM_KEY\"\napi_secret = \"env:E2E_CRYPTOCOM_SECRET\"\n",
                days_ago(12)
            )
        },
        trades_path: "private/get-trades",
        amount_field: "traded_quantity",
        skip: 1,
        rate_limit_body: "{\"id\":1,\"method\":\"private/get-trades\",\"code\":10006,\"message\":\"TOO_MANY_REQUESTS\"}",
    }
}

fn coinbase() -> Connector {
    Connector {
        exchange: "coinbase",
        plugin: "libexsync_plugin_coinbase.so",
        sim: "coinbase",
        sim_args: args(&[
            "--key-name",
            CB_KEY_NAME,
            "--public-key",
            CB_PUBLIC_KEY,
            "--seed",
            "914",
        ]),
        env: vec![
            ("E2E_COINBASE_KEY_NAME", CB_KEY_NAME),
            ("E2E_COINBASE_PRIVATE_KEY", CB_PRIVATE_KEY),
        ],
        head: |url| {
            format!(
                "exchange = \"coinbase\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_COINBASE_KEY_NAME\"\napi_secret = \"env:E2E_COINBASE_PRIVATE_KEY\"\n"
            )
        },
        trades_path: "/api/v3/brokerage/orders/historical/fills",
        amount_field: "size",
        skip: 1,
        rate_limit_body: "{\"error\":\"RESOURCE_EXHAUSTED\",\"message\":\"Too many requests\"}",
    }
}

fn coinbase_prime() -> Connector {
    Connector {
        exchange: "coinbase-prime",
        plugin: "libexsync_plugin_coinbase_prime.so",
        sim: "coinbase-prime",
        sim_args: args(&[
            "--access-key",
            PRIME_ACCESS_KEY,
            "--passphrase",
            PRIME_PASSPHRASE,
            "--signing-key",
            PRIME_SIGNING_KEY,
            "--portfolio-id",
            PRIME_PORTFOLIO,
            "--seed",
            "915",
            "--fills",
            "150",
            "--no-rate-limit",
        ]),
        env: vec![
            ("E2E_PRIME_ACCESS_KEY", PRIME_ACCESS_KEY),
            ("E2E_PRIME_PASSPHRASE", PRIME_PASSPHRASE),
            ("E2E_PRIME_SIGNING_KEY", PRIME_SIGNING_KEY),
        ],
        head: |url| {
            format!(
                "exchange = \"coinbase-prime\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                 [credentials]\nportfolio_id = \"{PRIME_PORTFOLIO}\"\napi_key = \"env:E2E_PRIME_ACCESS_KEY\"\n\
                 passphrase = \"env:E2E_PRIME_PASSPHRASE\"\napi_secret = \"env:E2E_PRIME_SIGNING_KEY\"\n\
                 [options]\npage_limit = 100\n"
            )
        },
        trades_path: "/fills",
        amount_field: "filled_quantity",
        skip: 1,
        rate_limit_body: "{\"message\":\"Rate limit exceeded\"}",
    }
}

fn falconx() -> Connector {
    Connector {
        exchange: "falconx",
        plugin: "libexsync_plugin_falconx.so",
        sim: "falconx",
        sim_args: args(&[
            "--api-key",
            FALCONX_KEY,
            "--passphrase",
            FALCONX_PASSPHRASE,
            "--secret",
            FALCONX_SECRET,
            "--seed",
            "916",
            "--quotes",
            "150",
            "--no-rate-limit",
        ]),
        env: vec![
            ("E2E_FALCONX_KEY", FALCONX_KEY),
            ("E2E_FALCONX_PASSPHRASE", FALCONX_PASSPHRASE),
            ("E2E_FALCONX_SECRET", FALCONX_SECRET),
        ],
        head: |url| {
            format!(
                "exchange = \"falconx\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_FALCONX_KEY\"\napi_secret = \"env:E2E_FALCONX_SECRET\"\n\
                 passphrase = \"env:E2E_FALCONX_PASSPHRASE\"\n"
            )
        },
        trades_path: "/v1/quotes",
        amount_field: "quantity_requested",
        skip: 1,
        rate_limit_body: "{\"status\":\"failure\",\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\",\"reason\":\"Too many requests\"}}",
    }
}

fn b2c2() -> Connector {
    Connector {
        exchange: "b2c2",
        plugin: "libexsync_plugin_b2c2.so",
        sim: "b2c2",
        sim_args: args(&["--token", B2C2_TOKEN, "--seed", "917", "--no-rate-limit"]),
        env: vec![("E2E_B2C2_TOKEN", B2C2_TOKEN)],
        head: |url| {
            format!(
                "exchange = \"b2c2\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_B2C2_TOKEN\"\n[options]\npage_limit = 10\n"
            )
        },
        trades_path: "/trade/",
        amount_field: "quantity",
        skip: 1,
        rate_limit_body: "{\"detail\":\"Request was throttled.\"}",
    }
}

fn copper() -> Connector {
    Connector {
        exchange: "copper",
        plugin: "libexsync_plugin_copper.so",
        sim: "copper",
        sim_args: args(&[
            "--api-key",
            COPPER_KEY,
            "--api-secret",
            COPPER_SECRET,
            "--organization-id",
            COPPER_ORGANIZATION,
            "--seed",
            "918",
            "--trades",
            "120",
            "--no-rate-limit",
        ]),
        env: vec![
            ("E2E_COPPER_KEY", COPPER_KEY),
            ("E2E_COPPER_SECRET", COPPER_SECRET),
        ],
        head: |url| {
            format!(
                "exchange = \"copper\"\nbase_url = \"{url}/platform\"\nstart = \"2024-01-01\"\nbudget = false\n\
                 [credentials]\napi_key = \"env:E2E_COPPER_KEY\"\napi_secret = \"env:E2E_COPPER_SECRET\"\n\
                 [options]\npage_limit = 50\n"
            )
        },
        trades_path: "/orders",
        amount_field: "amount",
        skip: 1,
        rate_limit_body: "{\"error\":\"too-many-requests\",\"message\":\"Too many requests\"}",
    }
}

/// The account streams every connector here syncs; `enabled = false` keeps the scheduler out
/// of the way (each sync is `sync --force`, so one sync sees one fault setting).
const STREAMS: &str = "[streams]\nbalances = \"1h\"\ntrades = \"1h\"\norders = \"1h\"\n\
                       deposits = \"1h\"\nwithdrawals = \"1h\"\nledger = \"1h\"\n";

/// The stream the generic faults are tried on.
const TRADES_ONLY: &str = "[streams]\ntrades = \"1h\"\n";

/// A connector's simulator and a daemon with the integrations `names` against it (every one
/// paused: synced only by `sync --force`), and a 2 s request timeout.
struct Bench {
    sim: Sim,
    setup: Setup,
    daemon: Daemon,
    connector: Connector,
}

impl Bench {
    fn start(connector: Connector, names: &[&str]) -> Bench {
        Bench::start_with(connector, names, "", STREAMS)
    }

    /// [`Bench::start`] with more `[http]` settings and other streams.
    fn start_with(connector: Connector, names: &[&str], http: &str, streams: &str) -> Bench {
        let sim_args: Vec<&str> = connector.sim_args.iter().map(String::as_str).collect();
        let sim = Sim::start(connector.sim, &sim_args);
        let mut setup = Setup::new();
        setup.install_plugin(connector.plugin);
        for (k, v) in &connector.env {
            setup.env(k, v);
        }
        std::fs::write(
            setup.config_dir().join("exsyncd.toml"),
            format!("[http]\nrequest_timeout = \"{REQUEST_TIMEOUT}\"\n{http}"),
        )
        .expect("writing exsyncd.toml");
        for name in names {
            setup.integration(
                name,
                &format!("enabled = false\n{}{streams}", (connector.head)(&sim.url)),
            );
        }
        let daemon = Daemon::start(&setup);
        Bench {
            sim,
            setup,
            daemon,
            connector,
        }
    }

    /// Stops the daemon and starts it again on the same store.
    fn restart(&mut self) {
        self.daemon.terminate();
        self.daemon = Daemon::start(&self.setup);
    }

    /// `sync NAME --force --wait --json`.
    fn sync(&self, name: &str) -> Value {
        self.daemon
            .ctl(&["--json", "sync", name, "--force", "--wait"])
            .json()
    }

    fn faults(&self, faults: Value) {
        self.sim.set_exchange_faults(faults);
    }

    fn fault_stats(&self) -> (u64, u64) {
        let s = self.sim.exchange_fault_stats();
        (
            s["matched"].as_u64().expect("matched"),
            s["faulted"].as_u64().expect("faulted"),
        )
    }
}

/// What an integration stored: `(kind, id) -> raw`, the exchange's object as received.
type Stored = BTreeMap<(String, String), Value>;

fn stored(daemon: &Daemon, name: &str) -> Stored {
    let mut out = Stored::new();
    for kind in KINDS {
        for r in daemon.records(name, kind) {
            let mut id = text(&r["id"]);
            if kind == "balance" {
                id = format!("{id}|{}|{}", text(&r["asset_native"]), text(&r["wallet"]));
            }
            let key = (kind.to_owned(), id);
            assert!(
                out.insert(key.clone(), r["raw"].clone()).is_none(),
                "{name}: {key:?} stored twice"
            );
        }
    }
    out
}

fn count(stored: &Stored, kind: &str) -> usize {
    stored.keys().filter(|(k, _)| k == kind).count()
}

/// Asserts that `part` holds only records of `whole`, each exactly as in `whole`.
fn assert_part_of(part: &Stored, whole: &Stored, what: &str) {
    for (key, raw) in part {
        match whole.get(key) {
            Some(w) => assert_eq!(raw, w, "{what}: {key:?} differs from the account"),
            None => panic!("{what}: {key:?} is not in the account"),
        }
    }
}

fn assert_same(got: &Stored, want: &Stored, what: &str) {
    assert_part_of(got, want, what);
    let missing: Vec<&(String, String)> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "{what}: {} records missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

fn stream_result<'a>(report: &'a Value, stream: &str) -> &'a Value {
    streams(report)
        .iter()
        .find(|s| s["stream"] == stream)
        .unwrap_or_else(|| panic!("no {stream} in the sync report: {report}"))
}

fn assert_all_ok(report: &Value, what: &str) {
    assert!(!streams(report).is_empty(), "{what}: no stream: {report}");
    for s in streams(report) {
        assert_eq!(s["result"], "ok", "{what}: stream failed: {s}");
    }
}

/// Asserts that the trades stream failed with `kind` (the error says while doing what) and
/// that `status --json` shows the same kind on the integration's trades stream.
fn assert_trades_failed(bench: &Bench, name: &str, report: &Value, kind: &str, what: &str) {
    let s = stream_result(report, "trades");
    assert_eq!(s["result"], "failed", "{what}: {s}");
    assert_eq!(s["error"]["kind"], kind, "{what}: {s}");
    assert!(
        s["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("while "),
        "{what}: the error does not say what was being done: {s}"
    );
    let status = bench.daemon.status();
    let it = integration(&status, name).unwrap_or_else(|| panic!("{name} not in {status}"));
    let trades = it["streams"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["stream"] == "trades"))
        .unwrap_or_else(|| panic!("{what}: no trades stream in the status: {it}"));
    assert_eq!(
        trades["last_error"]["kind"], kind,
        "{what}: status {trades}"
    );
}

/// One generic fault: what it is, whether the sync still completes, the error kind it must
/// show otherwise, and the bound on the requests it faulted.
struct Case {
    name: &'static str,
    faults: Value,
    /// `None`: the sync completes (the fault is retried through).
    kind: Option<&'static str>,
    /// How many requests it may fault.
    bound: Bound,
}

/// The bound on the requests one generic fault may fault in one sync of a trade walk with
/// `partitions` partitions (symbols, accounts) past the skipped request.
#[derive(Clone, Copy, Debug)]
enum Bound {
    /// Exactly this many (a fault that clears: retried through).
    Exactly(u64),
    /// A request the host retries: [`MAX_ATTEMPTS`] per partition the walk tried, at least one.
    Retried,
    /// A request nobody retries (a 200 the plugin cannot read): one per partition tried.
    Once,
}

impl Bound {
    fn check(self, faulted: u64, partitions: u64) -> bool {
        match self {
            Bound::Exactly(n) => faulted == n,
            Bound::Retried => {
                faulted % MAX_ATTEMPTS == 0 && (1..=partitions).contains(&(faulted / MAX_ATTEMPTS))
            }
            Bound::Once => (1..=partitions).contains(&faulted),
        }
    }
}

fn generic_cases(c: &Connector) -> Vec<Case> {
    let on = |fault: Value, count: Option<u64>| json!({"path": c.trades_path, "skip": c.skip, "count": count, "fault": fault});
    let mut cases = vec![
        Case {
            name: "429-retry-after",
            faults: on(
                json!({"kind": "status", "status": 429, "retry_after_s": 1, "body": c.rate_limit_body}),
                Some(2),
            ),
            kind: None,
            bound: Bound::Exactly(2),
        },
        Case {
            name: "429-bare",
            faults: on(
                json!({"kind": "status", "status": 429, "body": c.rate_limit_body}),
                Some(2),
            ),
            kind: None,
            bound: Bound::Exactly(2),
        },
        Case {
            name: "5xx-burst",
            faults: on(json!({"kind": "status", "status": 503}), Some(3)),
            kind: None,
            bound: Bound::Exactly(3),
        },
        Case {
            name: "5xx-down",
            faults: on(json!({"kind": "status", "status": 502}), None),
            kind: Some("exchange_unavailable"),
            bound: Bound::Retried,
        },
        Case {
            name: "stall-once",
            faults: on(json!({"kind": "stall", "ms": 3500}), Some(1)),
            kind: None,
            bound: Bound::Exactly(1),
        },
        Case {
            name: "reset",
            faults: on(json!({"kind": "reset"}), None),
            kind: Some("network"),
            bound: Bound::Retried,
        },
        Case {
            name: "truncated",
            faults: on(json!({"kind": "truncate"}), None),
            kind: Some("bad_response"),
            bound: Bound::Once,
        },
        Case {
            name: "not-json",
            faults: on(json!({"kind": "garbage"}), None),
            kind: Some("bad_response"),
            bound: Bound::Once,
        },
    ];
    // A renamed amount, where the answer's records are objects with named fields.
    if !c.amount_field.is_empty() {
        cases.push(Case {
                name: "drift",
                faults: on(
                    json!({"kind": "drift", "field": c.amount_field, "rename_to": format!("{}_v2", c.amount_field)}),
                    None,
                ),
                kind: Some("bad_response"),
                bound: Bound::Once,
            });
    }
    cases
}

/// Runs every generic fault against one connector: a reference integration synced without
/// faults, then one fresh integration per fault, synced with it and then without it.
fn generic_faults(connector: Connector, truth_check: Option<fn(&Bench, &str)>) {
    let started = Instant::now();
    let cases = generic_cases(&connector);
    let mut names = vec!["reference".to_owned()];
    names.extend(cases.iter().map(|c| format!("v-{}", c.name)));
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    // The trades stream only: the one faulted (the others meet the same host code).
    let bench = Bench::start_with(connector, &name_refs, "", TRADES_ONLY);
    let exchange = bench.connector.exchange;

    let report = bench.sync("reference");
    assert_all_ok(&report, &format!("{exchange} reference"));
    if let Some(check) = truth_check {
        check(&bench, "reference");
    }
    let partitions = stream_result(&report, "trades")["partitions"]
        .as_u64()
        .expect("trades partitions");
    let account = stored(&bench.daemon, "reference");
    let trades = count(&account, "trade");
    assert!(trades > 1, "{exchange}: the account has {trades} trades");

    for case in &cases {
        let what = format!("{exchange} {}", case.name);
        let name = format!("v-{}", case.name);
        bench.faults(case.faults.clone());
        let report = bench.sync(&name);
        let (matched, faulted) = bench.fault_stats();
        eprintln!("{what}: matched {matched}, faulted {faulted}");
        assert!(
            case.bound.check(faulted, partitions),
            "{what}: {faulted} requests faulted, expected {:?} of {partitions} partitions \
             (matched {matched}): {report}",
            case.bound
        );
        let got = stored(&bench.daemon, &name);
        match case.kind {
            None => {
                assert_all_ok(&report, &what);
                assert_same(&got, &account, &what);
            }
            Some(kind) => {
                assert_trades_failed(&bench, &name, &report, kind, &what);
                assert_part_of(&got, &account, &what);
                assert!(
                    count(&got, "trade") < trades,
                    "{what}: every trade stored although a page failed"
                );
                bench.faults(json!({}));
                let report = bench.sync(&name);
                assert_all_ok(&report, &format!("{what}, fault off"));
                assert_same(
                    &stored(&bench.daemon, &name),
                    &account,
                    &format!("{what}, fault off"),
                );
            }
        }
        bench.faults(json!({}));
    }
    if let Some(check) = truth_check {
        for name in &names {
            check(&bench, name);
        }
    }
    eprintln!("{exchange}: generic faults in {:?}", started.elapsed());
}

/// Asserts that integration `name` holds exactly the simulated Binance account's trades.
fn binance_trades_truth(bench: &Bench, name: &str) {
    let truth = bench.sim.truth();
    let mut trades = Vec::new();
    for (symbol, list) in truth["trades"].as_object().expect("truth.trades") {
        for t in list.as_array().expect("trades of a symbol") {
            trades.push((format!("{symbol}:{}", text(&t["id"])), t));
        }
    }
    assert_kind_exactly(&bench.daemon, name, "trade", &trades, |_, _, _| {});
}

/// Asserts that integration `name` holds exactly the simulated Kraken account's trades.
fn kraken_trades_truth(bench: &Bench, name: &str) {
    let truth = bench.sim.truth();
    let trades: Vec<(String, &Value)> = truth["trades"]
        .as_object()
        .expect("kraken truth.trades")
        .iter()
        .map(|(id, raw)| (id.clone(), raw))
        .collect();
    assert_kind_exactly(&bench.daemon, name, "trade", &trades, |_, _, _| {});
}

/// Asserts that integration `name` holds exactly the simulated Gemini account's trades.
fn gemini_trades_truth(bench: &Bench, name: &str) {
    let truth = bench.sim.truth();
    let trades: Vec<(String, &Value)> = truth["trades"]
        .as_array()
        .expect("gemini truth.trades")
        .iter()
        .map(|t| (text(&t["tid"]), t))
        .collect();
    assert!(!trades.is_empty(), "no trade in the gemini truth");
    assert_kind_exactly(&bench.daemon, name, "trade", &trades, |_, _, _| {});
}

fn binance_truth(bench: &Bench, name: &str) {
    assert_stored_exactly(&bench.daemon, name, &bench.sim.truth());
}

fn kraken_truth(bench: &Bench, name: &str) {
    assert_kraken_stored_exactly(&bench.daemon, name, &bench.sim.truth());
}

#[test]
fn generic_faults_binance() {
    generic_faults(binance(), Some(binance_trades_truth));
}

#[test]
fn generic_faults_kraken() {
    generic_faults(kraken(), Some(kraken_trades_truth));
}

#[test]
fn generic_faults_okx() {
    generic_faults(okx(), None);
}

#[test]
fn generic_faults_kucoin() {
    generic_faults(kucoin(), None);
}

#[test]
fn generic_faults_bybit() {
    generic_faults(bybit(), None);
}

#[test]
fn generic_faults_bitget() {
    generic_faults(bitget(), None);
}

#[test]
fn generic_faults_coinbase_exchange() {
    generic_faults(coinbase_exchange(), None);
}

#[test]
fn generic_faults_gateio() {
    generic_faults(gateio(), None);
}

#[test]
fn generic_faults_bitmex() {
    generic_faults(bitmex(), None);
}

#[test]
fn generic_faults_bitfinex() {
    generic_faults(bitfinex(), None);
}

#[test]
fn generic_faults_gemini() {
    generic_faults(gemini(), Some(gemini_trades_truth));
}

#[test]
fn generic_faults_deribit() {
    generic_faults(deribit(), None);
}

#[test]
fn generic_faults_cryptocom() {
    generic_faults(cryptocom(), None);
}

#[test]
fn generic_faults_coinbase() {
    generic_faults(coinbase(), None);
}

#[test]
fn generic_faults_coinbase_prime() {
    generic_faults(coinbase_prime(), None);
}

#[test]
fn generic_faults_falconx() {
    generic_faults(falconx(), None);
}

#[test]
fn generic_faults_b2c2() {
    generic_faults(b2c2(), None);
}

#[test]
fn generic_faults_copper() {
    generic_faults(copper(), None);
}

/// Waits until `until_ms` (Unix ms) has passed.
fn sleep_until(until_ms: i64) {
    let left = until_ms - now_ms();
    if left > 0 {
        std::thread::sleep(Duration::from_millis(left as u64));
    }
}

/// Asserts that every stream of a sync failed with `kind`.
fn assert_all_failed(report: &Value, kind: &str, what: &str) {
    assert!(!streams(report).is_empty(), "{what}: no stream: {report}");
    for s in streams(report) {
        assert_eq!(s["result"], "failed", "{what}: {s}");
        assert_eq!(s["error"]["kind"], kind, "{what}: {s}");
    }
}

/// A ban (`exchange` answered `ban`) is kept in the store: the rest of the sync and, after a
/// restart, the next one send nothing to the exchange until it ends; then the sync completes.
fn ban_is_kept_across_a_restart(mut bench: Bench, ban: Value, ban_s: i64, check: fn(&Bench, &str)) {
    let exchange = bench.connector.exchange;
    bench.faults(json!({"fault": ban}));
    let banned_at = now_ms();
    let report = bench.sync("victim");
    let (_, faulted) = bench.fault_stats();
    assert_eq!(
        faulted, 1,
        "{exchange}: only the request that met the ban reached the exchange: {report}"
    );
    assert_all_failed(&report, "banned", exchange);
    let status = bench.daemon.status();
    let it = integration(&status, "victim").expect("victim in status");
    assert!(
        it["streams"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["last_error"]["kind"] != "unsupported")
            .all(|s| s["last_error"]["kind"] == "banned"),
        "{exchange}: status {it}"
    );
    assert_part_of(&stored(&bench.daemon, "victim"), &Stored::new(), exchange);

    bench.restart();
    let report = bench.sync("victim");
    assert_all_failed(&report, "banned", &format!("{exchange} after a restart"));
    let (matched, _) = bench.fault_stats();
    assert_eq!(
        matched, 1,
        "{exchange}: a request reached the exchange during the ban, after a restart"
    );

    sleep_until(banned_at + ban_s * 1000 + 500);
    bench.faults(json!({}));
    let report = bench.sync("victim");
    assert_all_ok(&report, &format!("{exchange} after the ban"));
    check(&bench, "victim");
}

#[test]
fn binance_418_ban_is_kept_across_a_restart() {
    let bench = Bench::start(binance(), &["victim"]);
    let ban = json!({
        "kind": "status",
        "status": 418,
        "retry_after_s": 6,
        "body": "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until later.\"}",
    });
    ban_is_kept_across_a_restart(bench, ban, 6, binance_truth);
}

#[test]
fn kraken_lockout_is_kept_across_a_restart() {
    // Kraken locks a key out inside a 200 answer, without saying for how long: the daemon
    // keeps the ban for `[http] default_ban` (5 s here).
    let bench = Bench::start_with(kraken(), &["victim"], "default_ban = \"5s\"\n", STREAMS);
    let lockout = json!({
        "kind": "status",
        "status": 200,
        "body": "{\"error\":[\"EGeneral:Temporary lockout\"]}",
    });
    ban_is_kept_across_a_restart(bench, lockout, 5, kraken_truth);
}

#[test]
fn kraken_rate_limit_in_a_200_is_waited_out_and_the_sync_completes() {
    let bench = Bench::start(kraken(), &["victim"]);
    bench.faults(json!({
        "path": "/0/private/TradesHistory",
        "skip": 1,
        "count": 2,
        "fault": {"kind": "status", "status": 200, "body": "{\"error\":[\"EAPI:Rate limit exceeded\"]}"},
    }));
    let report = bench.sync("victim");
    assert_all_ok(&report, "kraken rate limit");
    assert_eq!(bench.fault_stats().1, 2);
    kraken_truth(&bench, "victim");
}

#[test]
fn binance_long_retry_after_is_rate_limited_and_asks_once() {
    // A Retry-After beyond what a sync waits out inline: the stream fails `rate_limited`
    // after the engine's pauses, and the exchange saw the one request that was told to wait.
    let mut bench = Bench::start(binance(), &["reference", "victim"]);
    let account = stored_truth_of(&bench);
    bench.faults(json!({
        "path": "/api/v3/myTrades",
        "fault": {
            "kind": "status",
            "status": 429,
            "retry_after_s": 600,
            "body": "{\"code\":-1003,\"msg\":\"Too many requests; current limit is 6000 request weight per 1 MINUTE.\"}",
        },
    }));
    let report = bench.sync("victim");
    assert_trades_failed(
        &bench,
        "victim",
        &report,
        "rate_limited",
        "binance long 429",
    );
    assert_eq!(bench.fault_stats().1, 1, "{report}");
    assert_part_of(
        &stored(&bench.daemon, "victim"),
        &account,
        "binance long 429",
    );
    // A 429 is not a ban: a restart may ask again, and the sync completes.
    bench.faults(json!({}));
    bench.restart();
    assert_all_ok(&bench.sync("victim"), "binance after the 429");
    binance_truth(&bench, "victim");
}

/// What a fault-free integration stores from the bench's simulator.
fn stored_truth_of(bench: &Bench) -> Stored {
    let report = bench.sync("reference");
    assert_all_ok(&report, "reference");
    stored(&bench.daemon, "reference")
}

#[test]
fn binance_request_that_stalls_every_time_is_a_network_error_after_bounded_attempts() {
    let bench = Bench::start(binance(), &["victim"]);
    bench.faults(
        json!({"path": "/api/v3/myTrades", "skip": 1, "fault": {"kind": "stall", "ms": 4000}}),
    );
    let started = Instant::now();
    let report = bench.sync("victim");
    assert_trades_failed(&bench, "victim", &report, "network", "binance stall");
    let faulted = bench.fault_stats().1;
    assert_eq!(faulted % MAX_ATTEMPTS, 0, "{report}");
    assert!(faulted > 0, "{report}");
    assert!(
        report.to_string().contains("timed out") || report.to_string().contains("timeout"),
        "the error says the request timed out: {report}"
    );
    eprintln!(
        "binance stall: {faulted} requests in {:?}",
        started.elapsed()
    );
    bench.faults(json!({}));
    assert_all_ok(&bench.sync("victim"), "binance after the stall");
    binance_truth(&bench, "victim");
}

#[test]
fn binance_clock_skew_is_corrected_from_the_server_time() {
    let bench = Bench::start(binance(), &["victim"]);
    // The first sync measures Binance's clock: in step.
    assert_all_ok(&bench.sync("victim"), "binance in step");

    // Binance's clock jumps five minutes ahead: signed requests are refused (-1021), the
    // plugin measures the offset again from /api/v3/time once and signs in Binance's time.
    bench.faults(json!({"path": "/api/v3/time", "fault": {"kind": "delay", "ms": 0}, "clock_skew_ms": 300_000}));
    bench.sim.append_trades(7);
    let report = bench.sync("victim");
    assert_all_ok(&report, "binance 5 minutes ahead");
    let (measured, _) = bench.fault_stats();
    assert_eq!(measured, 1, "one new measurement of the offset: {report}");
    binance_truth(&bench, "victim");

    // Binance's time endpoint says one thing and its signature check another: the measured
    // offset does not help, and the sync fails `clock` (not auth) after one more measurement.
    // Its clock jumps again, to ten minutes ahead, and the time endpoint lags behind.
    let lying = json!({"serverTime": now_ms()}).to_string();
    bench.faults(json!({
        "path": "/api/v3/time",
        "fault": {"kind": "status", "status": 200, "body": lying},
        "clock_skew_ms": 600_000,
    }));
    bench.sim.append_trades(5);
    let report = bench.sync("victim");
    let clock: Vec<&Value> = streams(&report)
        .iter()
        .filter(|s| s["result"] == "failed")
        .collect();
    assert!(!clock.is_empty(), "{report}");
    for s in &clock {
        assert_eq!(s["error"]["kind"], "clock", "{s}");
    }
    let (measured, _) = bench.fault_stats();
    assert!(
        (1..=MAX_ATTEMPTS).contains(&measured),
        "{measured} measurements: {report}"
    );

    // The endpoint tells the truth again: the next sync measures again and completes.
    bench.faults(json!({"clock_skew_ms": 600_000}));
    assert_all_ok(&bench.sync("victim"), "binance corrected");
    binance_truth(&bench, "victim");
}

/// Trades appended while a walk is under way: each page of `path` is answered a second late,
/// and `append` trades arrive while the second page is being answered (after its request,
/// before its answer). The sync completes, stores each record once and as the exchange has
/// it, and the next sync ends exactly at the truth. Returns the sync's report and what the
/// walk stored.
fn appends_mid_walk(
    bench: &Bench,
    path: &str,
    append: u64,
    check: fn(&Bench, &str),
) -> (Value, Stored) {
    let exchange = bench.connector.exchange;
    bench.faults(json!({"path": path, "fault": {"kind": "delay", "ms": 1000}}));
    let report = std::thread::scope(|s| {
        let walk = s.spawn(|| bench.sync("victim"));
        let started = Instant::now();
        while bench.fault_stats().0 < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{exchange}: the walk never asked for a second page"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        bench.sim.append_trades(append);
        walk.join().expect("the sync thread")
    });
    let (pages, _) = bench.fault_stats();
    eprintln!("{exchange}: {pages} pages of {path} while trades arrived: {report}");
    assert!(pages >= 2, "{exchange}: the walk had {pages} pages");
    assert_all_ok(
        &report,
        &format!("{exchange} with trades arriving mid-walk"),
    );
    // Everything stored is as the exchange has it, once (`stored` refuses a record stored twice).
    let truth_now = {
        bench.faults(json!({}));
        let report = bench.sync("reference");
        assert_all_ok(&report, "reference");
        stored(&bench.daemon, "reference")
    };
    // Balances are a snapshot of their own moment: the trades that arrived changed them.
    let mut got = stored(&bench.daemon, "victim");
    got.retain(|(kind, _), _| kind != "balance");
    assert_part_of(&got, &truth_now, exchange);
    let report_next = bench.sync("victim");
    assert_all_ok(&report_next, &format!("{exchange} after the walk"));
    check(bench, "victim");
    (report, got)
}

#[test]
fn kraken_offsets_shifted_by_new_trades_mid_walk_lose_and_double_nothing() {
    // Kraken pages TradesHistory newest first by offset (`ofs`, 50 a page): 30 trades arriving
    // after the first page shift every older one 30 places down, so the next page starts with
    // 30 trades the walk has already seen (the same records on two consecutive pages).
    let bench = Bench::start(kraken(), &["reference", "victim"]);
    let (_, walked) = appends_mid_walk(&bench, "/0/private/TradesHistory", 30, kraken_truth);
    // The walk kept every trade there was when it started (none slipped past the shift),
    // each once; the 30 newer ones came with the next sync.
    assert_eq!(
        count(&walked, "trade"),
        120,
        "trades stored by the shifted walk"
    );
    assert_eq!(count(&stored(&bench.daemon, "victim"), "trade"), 150);
}

#[test]
fn binance_id_walk_with_trades_arriving_mid_walk_ends_exactly_at_the_truth() {
    let bench = Bench::start(binance(), &["reference", "victim"]);
    let (_, walked) = appends_mid_walk(&bench, "/api/v3/myTrades", 40, binance_truth);
    assert!(
        count(&walked, "trade") >= 150,
        "the walk kept the trades there were"
    );
    assert_eq!(count(&stored(&bench.daemon, "victim"), "trade"), 190);
}
