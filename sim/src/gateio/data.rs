//! The Gate.io simulator's account: generated from a seed, held as the JSON objects Gate's
//! APIv4 would serve.
//!
//! Spot trades come in orders of one to three fills; every fill moves the account book (base,
//! quote, fee), and so does every completed deposit and withdrawal, with a running balance per
//! currency. Some orders end cancelled without a fill, a few stay open. Wallets: spot, two
//! isolated-margin pairs, a USDT-settled futures account (no BTC-settled one: Gate answers
//! that the user has none), a delivery account, an options account and Earn lending positions.
//! Amounts are fixed-point integers (8 decimals) rendered as Gate's decimal strings, so every
//! figure is exact.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{DAY_MS, MINUTE_MS};

/// Fixed-point scale: 8 decimals.
pub const SCALE: i128 = 100_000_000;

/// The pairs the account trades, with a reference price in units.
pub const PAIRS: [(&str, i128); 5] = [
    ("BTC_USDT", 60_000 * SCALE),
    ("ETH_USDT", 3_000 * SCALE),
    ("ETH_BTC", 5 * SCALE / 100),
    ("SOL_USDT", 150 * SCALE),
    ("GT_USDT", 10 * SCALE),
];

/// One perpetual contract: name, base amount of one contract (0: inverse, one contract is
/// worth one USD), reference price.
pub type Contract = (&'static str, &'static str, i128);

/// USDT-settled (linear) perpetual contracts.
pub const CONTRACTS: [Contract; 2] = [
    ("BTC_USDT", "0.0001", 60_000 * SCALE),
    ("ETH_USDT", "0.01", 3_000 * SCALE),
];
/// BTC-settled (inverse) perpetual contracts.
pub const BTC_CONTRACTS: [Contract; 1] = [("BTC_USD", "0", 60_000 * SCALE)];

/// USDT-settled delivery (quarterly) contracts, with the base amount of one contract.
pub const DELIVERY_CONTRACTS: [Contract; 2] = [
    ("BTC_USDT_20261225", "0.0001", 60_000 * SCALE),
    ("ETH_USDT_20261225", "0.01", 3_000 * SCALE),
];

/// Options contracts (`{UNDERLYING}-{EXPIRY}-{STRIKE}-{C|P}`) with a reference premium in
/// units; the first two are on the two underlyings, and carry the positions held now.
pub const OPTIONS_CONTRACTS: [(&str, i128); 4] = [
    ("BTC_USDT-20261225-60000-C", 12 * SCALE / 100),
    ("ETH_USDT-20261225-3000-P", 5 * SCALE / 100),
    ("BTC_USDT-20261225-50000-P", 8 * SCALE / 100),
    ("ETH_USDT-20261225-3500-C", 3 * SCALE / 100),
];

/// The delivery orders of `fills` (oldest first, one fill per order): each fill's order,
/// filled, or every fourth one cancelled with more left unfilled; then three orders open
/// now. Ids as the fills' `order_id` (they grow with time, seven apart); the open ones
/// between them.
fn delivery_orders(r: &mut SimRng, fills: &[(i64, Value)]) -> Timed {
    let mut orders = Vec::with_capacity(fills.len() + 3);
    for (k, (t, fill)) in fills.iter().enumerate() {
        let id: i64 = fill["order_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("delivery fills carry their order id");
        let size = fill["size"].as_i64().expect("a fill size");
        let left = if k % 4 == 3 {
            (1 + r.below(9) as i64) * size.signum()
        } else {
            0
        };
        let price = fill["price"].clone();
        orders.push((
            *t,
            json!({
                "id": id,
                "user": 100_000,
                "contract": fill["contract"],
                "create_time": seconds(*t),
                "finish_time": seconds(*t + if left != 0 { 30_000 } else { 0 }),
                "finish_as": if left != 0 { "cancelled" } else { "filled" },
                "status": "finished",
                "size": size + left,
                "iceberg": 0,
                "left": left,
                "price": price,
                "fill_price": price,
                "mkfr": "-0.00025",
                "tkfr": "0.00075",
                "tif": "gtc",
                "refu": 0,
                "is_reduce_only": false,
                "is_close": false,
                "is_liq": false,
                "text": "web",
            }),
        ));
    }
    // Three orders open now: two after the newest fill, one in the middle of the history
    // (older than finished ones, as a resting order is).
    for (k, at) in [
        (1, fills.len() / 2),
        (2, fills.len().saturating_sub(1)),
        (3, fills.len().saturating_sub(1)),
    ] {
        let Some((t, fill)) = fills.get(at) else {
            continue;
        };
        let base: i64 = fill["order_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let size = if k == 2 { -5 } else { 3 * k };
        let t = if k == 1 { *t } else { *t + k * 1_000 };
        orders.push((
            t,
            json!({
                "id": base + 3 + k,
                "user": 100_000,
                "contract": fill["contract"],
                "create_time": seconds(t),
                "status": "open",
                "size": size,
                "iceberg": 0,
                "left": size,
                "price": fill["price"],
                "fill_price": "0",
                "tif": "gtc",
                "text": "api",
            }),
        ));
    }
    orders.sort_by_key(|(t, o)| (*t, o["id"].as_i64()));
    orders
}

/// A JSON string's text, or a number's digits.
fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A signed decimal string in units.
fn signed_units(text: &str) -> i128 {
    match text.strip_prefix('-') {
        Some(abs) => -parse_units(abs),
        None => parse_units(text),
    }
}

/// Marks a futures-shaped order filled at `t`: `finished`, `filled`, nothing left, filled at
/// its price.
fn finish(order: &mut Value, t: i64) {
    if let Some(o) = order.as_object_mut() {
        o.insert("status".into(), json!("finished"));
        o.insert("finish_as".into(), json!("filled"));
        o.insert("finish_time".into(), seconds(t));
        o.insert("left".into(), json!(0));
        let price = o.get("price").cloned().unwrap_or(Value::Null);
        o.insert("fill_price".into(), price);
    }
}

/// The contracts of a settle currency.
pub fn contracts_of(settle: &str) -> &'static [Contract] {
    if settle == "btc" {
        &BTC_CONTRACTS
    } else {
        &CONTRACTS
    }
}

/// JSON objects with their time (ms), oldest first.
type Timed = Vec<(i64, Value)>;

/// One settle currency's futures history.
#[derive(Debug, Clone, Default)]
pub struct FuturesHistory {
    pub trades: Vec<(i64, Value)>,
    pub orders: Vec<(i64, Value)>,
    pub account_book: Vec<(i64, Value)>,
}

/// Candle intervals Gate serves, with their length in seconds.
pub const INTERVALS: [(&str, i64); 11] = [
    ("10s", 10),
    ("1m", 60),
    ("5m", 300),
    ("15m", 900),
    ("30m", 1800),
    ("1h", 3600),
    ("4h", 14_400),
    ("8h", 28_800),
    ("1d", 86_400),
    ("7d", 604_800),
    ("30d", 2_592_000),
];

/// The length of `interval` in seconds.
pub fn interval_seconds(interval: &str) -> Option<i64> {
    INTERVALS
        .iter()
        .find(|(i, _)| *i == interval)
        .map(|(_, s)| *s)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// The end of the history, UTC ms.
    pub end_ms: i64,
    pub days: i64,
    /// Spot fills.
    pub trades: usize,
    /// Orders cancelled without a fill.
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// USDT futures fills (in orders of one or two); a third as many BTC-settled ones.
    pub futures_trades: usize,
    /// Whether the account has a BTC-settled futures account.
    pub btc_futures: bool,
    /// Entries of the USDT delivery account book.
    pub delivery_book: usize,
    /// Options fills, one order each.
    pub options_trades: usize,
    /// `classic`, or a unified account's mode (`single_currency`, `multi_currency`,
    /// `portfolio`): then its spot and margin balances are one `unified` wallet.
    pub unified_mode: String,
}

/// Everything the account holds.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub user_id: i64,
    pub spot: Vec<Value>,
    pub margin: Vec<Value>,
    /// Perpetual futures accounts by settle currency; a settle missing here has no account.
    pub futures: BTreeMap<String, Value>,
    pub delivery: BTreeMap<String, Value>,
    pub options: Option<Value>,
    pub earn: Vec<Value>,
    /// The classic cross-margin account's balances by currency.
    pub cross_margin: BTreeMap<String, Value>,
    /// A unified account's balances by currency (empty for a classic account).
    pub unified: BTreeMap<String, Value>,
    /// With their time (ms), oldest first.
    pub trades: Vec<(i64, Value)>,
    /// Finished and open, by creation time (ms), oldest first.
    pub orders: Vec<(i64, Value)>,
    pub account_book: Vec<(i64, Value)>,
    pub deposits: Vec<(i64, Value)>,
    pub withdrawals: Vec<(i64, Value)>,
    /// Futures histories by settle currency (`usdt`, `btc`).
    pub futures_history: BTreeMap<String, FuturesHistory>,
    /// The isolated-margin accounts' book.
    pub margin_book: Vec<(i64, Value)>,
    /// The options account's book (Gate gives its entries no id).
    pub options_book: Vec<(i64, Value)>,
    /// The delivery account books by settle currency (`usdt`), oldest first.
    pub delivery_books: BTreeMap<String, Vec<(i64, Value)>>,
    /// The delivery fills by settle currency, oldest first: one per fee in the book.
    pub delivery_trades: BTreeMap<String, Vec<(i64, Value)>>,
    /// The delivery orders by settle currency, oldest first (ids grow with time): one per
    /// fill, some cancelled part-filled, and a few still open.
    pub delivery_orders: BTreeMap<String, Vec<(i64, Value)>>,
    /// Options fills by underlying, oldest first; each its own order.
    pub options_trades: BTreeMap<String, Vec<(i64, Value)>>,
    /// Options orders (every underlying), oldest first: one per fill, and a few open.
    pub options_orders: Vec<(i64, Value)>,
    /// Options positions held now: one on every underlying the account traded.
    pub options_positions: Vec<Value>,
    next_trade_id: u64,
    next_order_id: u64,
    next_book_id: u64,
    running: BTreeMap<String, i128>,
}

/// `units` (8 decimals) as a decimal string without trailing zeros: `"0.015"`, `"-2"`.
pub fn dec(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let a = units.unsigned_abs();
    let whole = a / SCALE as u128;
    let frac = a % SCALE as u128;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let f = format!("{frac:08}");
        format!("{sign}{whole}.{}", f.trim_end_matches('0'))
    }
}

/// A time in ms as Gate's futures API writes it: seconds with a fraction, a JSON number.
pub fn seconds(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// A decimal string (no sign) in units.
fn parse_units(text: &str) -> i128 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = format!("{frac:0<8}");
    whole.parse::<i128>().unwrap_or(0) * SCALE + frac[..8].parse::<i128>().unwrap_or(0)
}

/// `a × b` of two unit amounts, in units, rounded down.
fn mul(a: i128, b: i128) -> i128 {
    a * b / SCALE
}

fn split(pair: &str) -> (&str, &str) {
    pair.split_once('_').expect("pairs are BASE_QUOTE")
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let rng = SimRng::new(config.seed);
        let mut ds = Dataset {
            config: config.clone(),
            user_id: 10_000_000 + rng.fork("user").below(9_000_000) as i64,
            spot: Vec::new(),
            margin: Vec::new(),
            futures: BTreeMap::new(),
            delivery: BTreeMap::new(),
            options: None,
            earn: Vec::new(),
            cross_margin: BTreeMap::new(),
            unified: BTreeMap::new(),
            trades: Vec::new(),
            orders: Vec::new(),
            account_book: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            futures_history: BTreeMap::new(),
            margin_book: Vec::new(),
            options_book: Vec::new(),
            delivery_books: BTreeMap::new(),
            delivery_trades: BTreeMap::new(),
            delivery_orders: BTreeMap::new(),
            options_trades: BTreeMap::new(),
            options_orders: Vec::new(),
            options_positions: Vec::new(),
            next_trade_id: 5_000_000_000,
            next_order_id: 300_000_000_000,
            next_book_id: 20_000_000_000,
            running: BTreeMap::new(),
        };
        ds.wallets(&mut rng.fork("wallets"));
        if config.unified_mode != "classic" {
            ds.unified_wallet(&mut rng.fork("unified"));
        }
        let start = config.end_ms - config.days * DAY_MS;
        let end = config.end_ms - MINUTE_MS;

        // Events in time order, so the account book's running balances add up.
        let mut events: Vec<(i64, u8)> = Vec::new();
        let mut r = rng.fork("times");
        // Filled orders: about two fills each.
        let filled_orders = config.trades.div_ceil(2);
        for _ in 0..filled_orders {
            events.push((r.range_i64(start, end - 10 * MINUTE_MS), 0));
        }
        for _ in 0..config.orders_extra {
            events.push((r.range_i64(start, end), 1));
        }
        for _ in 0..config.deposits {
            events.push((r.range_i64(start, end), 2));
        }
        for _ in 0..config.withdrawals {
            events.push((r.range_i64(start, end), 3));
        }
        events.sort_unstable();
        let mut r = rng.fork("events");
        let mut fills_left = config.trades;
        for (i, (t, kind)) in events.into_iter().enumerate() {
            match kind {
                0 if fills_left > 0 => {
                    let n = (1 + r.below(3) as usize).min(fills_left);
                    fills_left -= n;
                    ds.filled_order(&mut r, t, n);
                }
                0 => {}
                1 => ds.unfilled_order(&mut r, t, "cancelled"),
                2 => ds.transfer(&mut r, t, true, i),
                _ => ds.transfer(&mut r, t, false, i),
            }
        }
        let mut r = rng.fork("open");
        for _ in 0..config.open_orders {
            let t = r.range_i64(end - 20 * DAY_MS, end);
            ds.unfilled_order(&mut r, t, "open");
        }
        ds.orders
            .sort_by_key(|(t, o)| (*t, o["id"].as_str().unwrap_or("").to_owned()));
        ds.rebalance();
        let usdt = ds.futures(
            &mut rng.fork("futures"),
            (start, end),
            &CONTRACTS,
            config.futures_trades,
            5_000 * SCALE,
        );
        ds.futures_history.insert("usdt".into(), usdt);
        if config.btc_futures {
            let btc = ds.futures(
                &mut rng.fork("btc-futures"),
                (start, end),
                &BTC_CONTRACTS,
                config.futures_trades / 3,
                SCALE,
            );
            ds.futures_history.insert("btc".into(), btc);
        }
        ds.margin_book(&mut rng.fork("margin"), start, end);
        ds.options_book(&mut rng.fork("options"), start, end);
        let (delivery, fills) = ds.delivery_book(&mut rng.fork("delivery"), start, end);
        ds.delivery_books.insert("usdt".into(), delivery);
        let orders = delivery_orders(&mut rng.fork("delivery-orders"), &fills);
        ds.delivery_trades.insert("usdt".into(), fills);
        ds.delivery_orders.insert("usdt".into(), orders);
        ds.options_history(&mut rng.fork("options-trades"), start, end);
        ds
    }

    /// Options fills on two underlyings (`BTC_USDT`, `ETH_USDT`), one order each (now and
    /// then cancelled with part of it filled), a few orders still open, and one position on
    /// each underlying. Fill and order ids grow with time.
    fn options_history(&mut self, r: &mut SimRng, start: i64, end: i64) {
        let n = self.config.options_trades;
        let mut times: Vec<i64> = (0..n)
            .map(|_| r.range_i64(start, end) / 1000 * 1000 + if r.chance(0.5) { 250 } else { 0 })
            .collect();
        times.sort_unstable();
        let mut order_id: i64 = 700_000;
        for (k, t) in times.into_iter().enumerate() {
            let (contract, reference) = *r.pick(&OPTIONS_CONTRACTS);
            let underlying = contract.split('-').next().expect("contract names have a -");
            let contracts = 1 + r.below(20) as i64;
            let sell = r.chance(0.4);
            let price = dec(reference + r.below(100) as i128 * SCALE / 100);
            order_id += 1 + r.below(3) as i64;
            let fill_id = 9_000 + k as i64;
            self.options_trades
                .entry(underlying.to_owned())
                .or_default()
                .push((
                    t,
                    json!({
                        "id": fill_id,
                        "create_time": seconds(t),
                        "contract": contract,
                        "order_id": order_id,
                        "size": if sell { -contracts } else { contracts },
                        "price": price,
                        "underlying_price": dec(60_000 * SCALE),
                        "role": if k % 3 == 0 { "maker" } else { "taker" },
                    }),
                ));
            // Every fifth order was larger and cancelled with the rest unfilled.
            let left = if k % 5 == 4 { 1 + r.below(5) as i64 } else { 0 };
            let size = contracts + left;
            self.options_orders.push((
                t,
                json!({
                    "id": order_id,
                    "user": self.user_id,
                    "create_time": seconds(t),
                    "finish_time": seconds(t + if left > 0 { 60_000 } else { 0 }),
                    "finish_as": if left > 0 { "cancelled" } else { "filled" },
                    "status": "finished",
                    "contract": contract,
                    "size": if sell { -size } else { size },
                    "iceberg": 0,
                    "price": price,
                    "is_close": false,
                    "is_reduce_only": false,
                    "is_liq": false,
                    "tif": "gtc",
                    "left": if sell { -left } else { left },
                    "fill_price": price,
                    "text": "api",
                    "tkfr": "0.0003",
                    "mkfr": "0.0003",
                    "refu": 0,
                    "refr": "0",
                }),
            ));
        }
        for k in 0..2 {
            let t = end - (k + 1) * 3_600_000;
            let (contract, reference) = OPTIONS_CONTRACTS[k as usize];
            order_id += 1;
            self.options_orders.push((
                t,
                json!({
                    "id": order_id,
                    "user": self.user_id,
                    "create_time": seconds(t),
                    "status": "open",
                    "contract": contract,
                    "size": 2 + k,
                    "iceberg": 0,
                    "price": dec(reference / 2),
                    "tif": "gtc",
                    "left": 2 + k,
                    "fill_price": "0",
                    "text": "api",
                }),
            ));
        }
        self.options_orders
            .sort_by_key(|(t, o)| (*t, o["id"].as_i64()));
        for (contract, reference) in OPTIONS_CONTRACTS.iter().take(2) {
            self.options_positions.push(json!({
                "user": self.user_id,
                "underlying": contract.split('-').next(),
                "contract": contract,
                "size": 3,
                "entry_price": dec(*reference),
                "mark_price": dec(*reference),
                "realised_pnl": "0",
                "unrealised_pnl": "0",
                "pending_orders": 0,
                "close_order": null,
            }));
        }
    }

    /// The USDT delivery account book: fees and realised profit of fills on quarterly
    /// contracts, transfers in and out, now and then a referral rebate, with the running
    /// balance. A fill's fee and profit share its second, as on Gate. Each fee's fill is in
    /// the returned fills (its fee the fee booked, its contracts and side from its id).
    fn delivery_book(&mut self, r: &mut SimRng, start: i64, end: i64) -> (Timed, Timed) {
        let mut book = Vec::with_capacity(self.config.delivery_book);
        let mut fills = Vec::new();
        let mut balance: i128 = 1_000 * SCALE;
        let mut times: Vec<i64> = (0..self.config.delivery_book)
            .map(|_| r.range_i64(start, end) / 1000 * 1000)
            .collect();
        times.sort_unstable();
        let mut trade_id = 40_000_000u64;
        let mut k = 0;
        while k < times.len() {
            let t = times[k];
            let (contract, _, reference) = *r.pick(&DELIVERY_CONTRACTS);
            let kind = *r.pick(&["fee", "fee", "pnl", "dnw", "refr"]);
            let mut entries: Vec<(&str, i128, String)> = Vec::new();
            let size = (1 + r.below(10_000) as i128) * SCALE / 100;
            match kind {
                "fee" | "pnl" => {
                    trade_id += 1;
                    let fee = (size / 500).max(1);
                    entries.push(("fee", -fee, trade_id.to_string()));
                    let contracts = 1 + (trade_id % 97) as i64;
                    let sell = trade_id % 2 == 0;
                    fills.push((
                        t,
                        json!({
                            "id": trade_id,
                            "create_time": seconds(t),
                            "contract": contract,
                            "order_id": (trade_id * 7 + 58_900_000_000).to_string(),
                            "size": if sell { -contracts } else { contracts },
                            "price": dec(reference + (trade_id % 50) as i128 * SCALE / 10),
                            "role": if trade_id % 3 == 0 { "maker" } else { "taker" },
                            "text": "web",
                            "fee": dec(fee),
                            "point_fee": "0",
                        }),
                    ));
                    // The fill's profit in the same second, where there is room for it.
                    if kind == "pnl" && k + 1 < times.len() {
                        let pnl = if r.chance(0.5) { size / 10 } else { -size / 20 };
                        entries.push(("pnl", pnl, trade_id.to_string()));
                    }
                }
                "dnw" => entries.push((
                    "dnw",
                    if r.chance(0.6) { size } else { -size / 2 },
                    String::new(),
                )),
                _ => entries.push(("refr", (size / 1000).max(1), String::new())),
            }
            for (kind, change, trade) in entries {
                balance += change;
                self.next_book_id += 1;
                let text = if trade.is_empty() {
                    kind.to_owned()
                } else {
                    format!("{contract}:{trade}")
                };
                book.push((
                    t,
                    json!({
                        "time": seconds(t),
                        "change": dec(change),
                        "balance": dec(balance),
                        "text": text,
                        "type": kind,
                        "contract": if kind == "dnw" { "" } else { contract },
                        "trade_id": trade,
                        "id": (self.next_book_id + 9_000_000_000).to_string(),
                    }),
                ));
                k += 1;
            }
        }
        book.truncate(self.config.delivery_book);
        (book, fills)
    }

    /// Premiums, fees and settlements of options in USDT, about one a day, with the running
    /// balance; two entries share a second now and then, as on Gate.
    fn options_book(&mut self, r: &mut SimRng, start: i64, end: i64) {
        let mut balance: i128 = 2_000 * SCALE;
        let n = self.config.days.max(1);
        let mut times: Vec<i64> = (0..n)
            .map(|_| r.range_i64(start, end) / 1000 * 1000 + if r.chance(0.5) { 500 } else { 0 })
            .collect();
        times.sort_unstable();
        for (k, t) in times.into_iter().enumerate() {
            let kind = *r.pick(&["prem", "fee", "set", "dnw"]);
            let size = (1 + r.below(5_000) as i128) * SCALE / 100;
            let change = match kind {
                "fee" => -(size / 100),
                "prem" | "set" if r.chance(0.5) => -size,
                _ => size,
            };
            balance += change;
            let strike = 50_000 + 5_000 * (k as i64 % 5);
            self.options_book.push((
                t,
                json!({
                    "time": seconds(t),
                    "change": dec(change),
                    "balance": dec(balance),
                    "text": format!("BTC_USDT-20261225-{strike}-C:{}", k % 3),
                    "type": kind,
                }),
            ));
        }
    }

    /// Transfers in and out, borrowing, repaying and interest on the two margin pairs: one
    /// entry every few hours, with a running balance per pair and currency.
    fn margin_book(&mut self, r: &mut SimRng, start: i64, end: i64) {
        let mut balances: BTreeMap<(String, String), i128> = BTreeMap::new();
        let n = (self.config.days * 3).max(1);
        let mut times: Vec<i64> = (0..n).map(|_| r.range_i64(start, end)).collect();
        times.sort_unstable();
        for (k, t) in times.into_iter().enumerate() {
            let pair = if r.chance(0.5) {
                "BTC_USDT"
            } else {
                "ETH_USDT"
            };
            let (base, quote) = split(pair);
            let currency = if r.chance(0.4) { base } else { quote };
            let unit = if currency == "USDT" {
                100 * SCALE
            } else {
                SCALE / 100
            };
            let kind = *r.pick(&["in", "out", "borrow", "repay", "interest"]);
            let size = unit * (1 + r.below(20) as i128) / 10;
            let change = match kind {
                "in" | "borrow" => size,
                "interest" => -(size / 1000).max(1),
                _ => -size,
            };
            let balance = balances
                .entry((pair.to_owned(), currency.to_owned()))
                .or_insert(0);
            *balance += change;
            self.margin_book.push((
                t,
                json!({
                    "id": (40_000_000 + k as u64 * 3).to_string(),
                    "time": (t / 1000).to_string(),
                    "time_ms": t,
                    "currency": currency,
                    "currency_pair": pair,
                    "change": dec(change),
                    "balance": dec(*balance),
                    "type": kind,
                }),
            ));
        }
    }

    /// One settle currency's futures: orders of one or two fills (a few cancelled, two still
    /// open), a fee per fill and funding every few days in the account book, with its running
    /// balance from `opening`. Fees are in the settle currency: for an inverse contract, the
    /// contracts' USD over the price.
    fn futures(
        &mut self,
        r: &mut SimRng,
        (start, end): (i64, i64),
        contracts: &[Contract],
        fills_total: usize,
        opening: i128,
    ) -> FuturesHistory {
        let mut h = FuturesHistory::default();
        let mut balance: i128 = opening;
        let mut trade_id = 900_000_000u64;
        let mut order_id = 58_000_000_000u64;
        let n_orders = fills_total.div_ceil(2);
        let mut times: Vec<i64> = (0..n_orders)
            .map(|_| r.range_i64(start + MINUTE_MS, end - 10 * MINUTE_MS))
            .collect();
        times.sort_unstable();
        let mut fills_left = fills_total;
        let mut next_funding = start + 3 * DAY_MS;
        for t in times {
            while next_funding < t {
                let change = (r.below(2_000) as i128 - 1_000) * opening / 5_000_000;
                let funded = contracts[0].0;
                self.futures_book(
                    &mut h,
                    next_funding,
                    change,
                    "fund",
                    funded,
                    "",
                    &mut balance,
                );
                next_funding += 3 * DAY_MS;
            }
            let (contract, multiplier, reference) = *r.pick(contracts);
            let mult = parse_units(multiplier);
            let sell = r.chance(0.5);
            let price = reference - reference / 50 + (reference / 25) * r.below(100) as i128 / 100;
            let price = price - price % (SCALE / 10);
            order_id += 1 + r.below(9);
            let id = order_id;
            let fills = (1 + r.below(2) as usize).min(fills_left);
            fills_left -= fills;
            let mut filled = 0i64;
            let mut last = t;
            for k in 0..fills {
                let at = t + k as i64 * r.range_i64(500, 20_000);
                last = at;
                let size = 1 + r.below(300) as i64;
                filled += size;
                trade_id += 1 + r.below(4);
                // The value in the settle currency: base amount times price (linear), or USD
                // over the price (inverse).
                let value = if mult == 0 {
                    size as i128 * SCALE * SCALE / price
                } else {
                    mul(mul(size as i128 * SCALE, mult), price)
                };
                let fee = value * 5 / 10_000;
                let signed = if sell { -size } else { size };
                let role = if r.chance(0.3) { "maker" } else { "taker" };
                h.trades.push((
                    at,
                    json!({
                        "id": trade_id,
                        "trade_id": trade_id.to_string(),
                        "create_time": seconds(at),
                        "contract": contract,
                        "order_id": id.to_string(),
                        "size": signed,
                        "close_size": 0,
                        "price": dec(price),
                        "role": role,
                        "text": "web",
                        "fee": dec(fee),
                        "point_fee": "0",
                    }),
                ));
                let trade = trade_id.to_string();
                self.futures_book(&mut h, at, -fee, "fee", contract, &trade, &mut balance);
            }
            let cancelled = fills == 0 || r.chance(0.1);
            let size = if cancelled {
                filled + 1 + r.below(50) as i64
            } else {
                filled
            };
            let left = size - filled;
            let sign = if sell { -1 } else { 1 };
            h.orders.push((
                t,
                json!({
                    "id": id,
                    "user": self.user_id,
                    "contract": contract,
                    "create_time": seconds(t),
                    "finish_time": seconds(last + 300),
                    "finish_as": if cancelled { "cancelled" } else { "filled" },
                    "status": "finished",
                    "size": sign * size,
                    "iceberg": 0,
                    "price": dec(price),
                    "is_close": false,
                    "is_reduce_only": false,
                    "is_liq": false,
                    "tif": "gtc",
                    "left": sign * left,
                    "fill_price": if filled > 0 { dec(price) } else { "0".to_owned() },
                    "text": "web",
                    "tkfr": "0.0005",
                    "mkfr": "0.0002",
                    "refu": 0,
                    "stp_act": "-",
                    "amend_text": "-",
                }),
            ));
        }
        for k in 0..2 {
            let t = end - (k + 1) * 5 * DAY_MS;
            order_id += 1;
            let (contract, _, reference) = contracts[contracts.len() - 1];
            h.orders.push((
                t,
                json!({
                    "id": order_id,
                    "user": self.user_id,
                    "contract": contract,
                    "create_time": seconds(t),
                    "status": "open",
                    "size": 10 + k,
                    "iceberg": 0,
                    "price": dec(reference / 2),
                    "is_close": false,
                    "is_reduce_only": false,
                    "is_liq": false,
                    "tif": "gtc",
                    "left": 10 + k,
                    "fill_price": "0",
                    "text": "api",
                    "tkfr": "0.0005",
                    "mkfr": "0.0002",
                    "refu": 0,
                }),
            ));
        }
        h.orders.sort_by_key(|(t, _)| *t);
        h.account_book.sort_by_key(|(t, _)| *t);
        h
    }

    /// One futures account-book entry, with the running balance after it.
    #[allow(clippy::too_many_arguments)]
    fn futures_book(
        &mut self,
        h: &mut FuturesHistory,
        t: i64,
        change: i128,
        kind: &str,
        contract: &str,
        trade: &str,
        balance: &mut i128,
    ) {
        *balance += change;
        self.next_book_id += 1;
        let text = if trade.is_empty() {
            kind.to_owned()
        } else {
            format!("{contract}:{trade}")
        };
        h.account_book.push((
            t,
            json!({
                "time": seconds(t),
                "change": dec(change),
                "balance": dec(*balance),
                "text": text,
                "type": kind,
                "contract": contract,
                "trade_id": trade,
                "id": (self.next_book_id + 7_000_000_000).to_string(),
            }),
        ));
    }

    fn wallets(&mut self, r: &mut SimRng) {
        let mut amount = |lo: i128, hi: i128| -> i128 { lo + r.below((hi - lo) as u64) as i128 };
        for (currency, lo, hi) in [
            ("BTC", SCALE / 10, 3 * SCALE),
            ("ETH", SCALE, 40 * SCALE),
            ("USDT", 1_000 * SCALE, 90_000 * SCALE),
            ("SOL", 5 * SCALE, 300 * SCALE),
            ("GT", 10 * SCALE, 5_000 * SCALE),
            ("POINT", SCALE, 100 * SCALE),
            ("狗狗币", 100 * SCALE, 10_000 * SCALE),
        ] {
            let total = amount(lo, hi);
            let locked = total / 7;
            self.spot.push(json!({
                "currency": currency,
                "available": dec(total - locked),
                "locked": dec(locked),
                "update_id": 1000 + amount(0, 90_000) / SCALE,
            }));
        }
        for (pair, risk) in [("BTC_USDT", "2.3"), ("ETH_USDT", "999")] {
            let (base, quote) = split(pair);
            let side = |currency: &str, available: i128, locked: i128, borrowed: i128| {
                json!({
                    "currency": currency,
                    "available": dec(available),
                    "locked": dec(locked),
                    "borrowed": dec(borrowed),
                    "interest": dec(borrowed / 1000),
                })
            };
            let b = side(base, amount(SCALE / 100, SCALE), 0, amount(0, SCALE / 10));
            let q = side(
                quote,
                amount(100 * SCALE, 5_000 * SCALE),
                amount(0, 50 * SCALE),
                0,
            );
            self.margin.push(json!({
                "currency_pair": pair,
                "account_type": "mmr",
                "leverage": "10",
                "locked": false,
                "risk": risk,
                "mmr": "1.5",
                "base": b,
                "quote": q,
            }));
        }
        for (currency, unit) in [("USDT", 100 * SCALE), ("ETH", SCALE / 10)] {
            let available = amount(unit, 50 * unit);
            let freeze = amount(0, unit);
            let borrowed = if currency == "ETH" { unit / 4 } else { 0 };
            self.cross_margin.insert(
                currency.to_owned(),
                json!({
                    "available": dec(available),
                    "freeze": dec(freeze),
                    "borrowed": dec(borrowed),
                    "interest": dec(borrowed / 10_000),
                }),
            );
        }
        let contract = |currency: &str, available: i128, position: i128, order: i128| {
            json!({
                "user": 0,
                "total": dec(available + position + order),
                "unrealised_pnl": dec(position / 13),
                "position_margin": dec(position),
                "order_margin": dec(order),
                "available": dec(available),
                "point": "0",
                "currency": currency,
                "in_dual_mode": false,
                "enable_credit": false,
                "bonus": "0",
            })
        };
        let user = self.user_id;
        let with_user = |mut v: Value| {
            v["user"] = json!(user);
            v
        };
        self.futures.insert(
            "usdt".into(),
            with_user(contract(
                "USDT",
                amount(100 * SCALE, 9_000 * SCALE),
                amount(0, 900 * SCALE),
                amount(0, 90 * SCALE),
            )),
        );
        if self.config.btc_futures {
            self.futures.insert(
                "btc".into(),
                with_user(contract(
                    "BTC",
                    amount(SCALE / 10, 2 * SCALE),
                    amount(0, SCALE / 50),
                    0,
                )),
            );
        }
        self.delivery.insert(
            "usdt".into(),
            with_user(contract("USDT", amount(10 * SCALE, 900 * SCALE), 0, 0)),
        );
        let mut options = with_user(contract(
            "USDT",
            amount(10 * SCALE, 500 * SCALE),
            amount(0, 20 * SCALE),
            0,
        ));
        if let Some(o) = options.as_object_mut() {
            o.remove("in_dual_mode");
            o.remove("enable_credit");
            o.remove("bonus");
            o.insert("position_value".into(), json!("0"));
        }
        self.options = Some(options);
        for (currency, lo, hi) in [
            ("USDT", 500 * SCALE, 20_000 * SCALE),
            ("BTC", SCALE / 100, SCALE),
        ] {
            let total = amount(lo, hi);
            let frozen = total / 20;
            self.earn.push(json!({
                "currency": currency,
                "current_amount": dec(total),
                "amount": dec(total),
                "lent_amount": dec(total - frozen),
                "frozen_amount": dec(frozen),
                "min_rate": "0.0001",
                "interest_status": "interest_dividend",
                "reinvest_left_amount": "0",
                "create_time": 1_700_000_000_000_i64,
                "update_time": 1_710_000_000_000_i64,
            }));
        }
    }

    fn unified_wallet(&mut self, r: &mut SimRng) {
        for (currency, unit) in [
            ("USDT", 1_000 * SCALE),
            ("BTC", SCALE / 10),
            ("ETH", SCALE),
            ("GT", 10 * SCALE),
        ] {
            let available = unit * (1 + r.below(500) as i128) / 7;
            let freeze = unit * r.below(20) as i128 / 13;
            let borrowed = if currency == "USDT" { unit / 3 } else { 0 };
            self.unified.insert(
                currency.to_owned(),
                json!({
                    "available": dec(available),
                    "freeze": dec(freeze),
                    "borrowed": dec(borrowed),
                    "negative_liab": "0",
                    "futures_pos_liab": "0",
                    "equity": dec(available + freeze - borrowed),
                    "total_freeze": dec(freeze),
                    "total_liab": dec(borrowed),
                    "spot_in_use": dec(freeze),
                }),
            );
        }
    }

    fn order_id(&mut self) -> String {
        self.next_order_id += 1 + (hash_parts(&[self.next_order_id]) % 7);
        self.next_order_id.to_string()
    }

    /// An order of `n` fills from `t` on, closed (or cancelled part-filled), with its fills and
    /// their account-book entries.
    fn filled_order(&mut self, r: &mut SimRng, t: i64, n: usize) {
        let (pair, reference) = *r.pick(&PAIRS);
        let (base, quote) = split(pair);
        let side = if r.chance(0.5) { "buy" } else { "sell" };
        // Price within ±5 % of the reference, on 4 significant decimals of the quote.
        let price = reference - reference / 20 + (reference / 10) * r.below(1000) as i128 / 1000;
        let price = price - price % 10_000;
        let id = self.order_id();
        let mut filled = 0i128;
        let mut filled_total = 0i128;
        let mut fee_total = 0i128;
        let mut last = t;
        let fee_currency = if side == "buy" { base } else { quote };
        for k in 0..n {
            let at = t + k as i64 * r.range_i64(1_000, 50_000);
            last = at;
            // 0.0001 .. 2 of the base, on 4 decimals.
            let amount = (1 + r.below(20_000) as i128) * 10_000;
            let amount = if reference < SCALE {
                amount * 100
            } else {
                amount / 4
            };
            let amount = amount - amount % 10_000 + 10_000;
            let value = mul(price, amount);
            let fee = if side == "buy" {
                amount * 2 / 1000
            } else {
                value * 2 / 1000
            };
            filled += amount;
            filled_total += value;
            fee_total += fee;
            self.next_trade_id += 1 + r.below(5);
            let trade_id = self.next_trade_id.to_string();
            let role = if r.chance(0.4) { "maker" } else { "taker" };
            self.trades.push((
                at,
                json!({
                    "id": trade_id,
                    "create_time": (at / 1000).to_string(),
                    "create_time_ms": format!("{}.{:03}", at, at.rem_euclid(997)),
                    "currency_pair": pair,
                    "side": side,
                    "role": role,
                    "amount": dec(amount),
                    "price": dec(price),
                    "order_id": id,
                    "fee": dec(fee),
                    "fee_currency": fee_currency,
                    "point_fee": "0",
                    "gt_fee": "0",
                    "amend_text": "-",
                    "sequence_id": (self.next_trade_id % 1_000_000).to_string(),
                    "text": format!("t-{}", hash_str(&trade_id) % 100_000),
                }),
            ));
            let (base_change, quote_change) = if side == "buy" {
                (amount, -value)
            } else {
                (-amount, value)
            };
            self.book(at, base, base_change, "trade", &id);
            self.book(at, quote, quote_change, "trade", &id);
            self.book(at, fee_currency, -fee, "fee", &id);
        }
        let cancelled_rest = r.chance(0.15);
        let amount = if cancelled_rest {
            filled + filled / 3 + 10_000
        } else {
            filled
        };
        let left = amount - filled;
        let finished = last + r.range_i64(0, 5_000);
        let avg = filled_total * SCALE / filled;
        self.orders.push((
            t,
            order_json(OrderFields {
                id,
                pair,
                side,
                t,
                updated: finished,
                status: if cancelled_rest {
                    "cancelled"
                } else {
                    "closed"
                },
                finish_as: if cancelled_rest {
                    "cancelled"
                } else {
                    "filled"
                },
                amount,
                price,
                left,
                filled_total,
                avg,
                fee: fee_total,
                fee_currency,
            }),
        ));
    }

    /// An order without a fill: `cancelled` (finished) or `open`.
    fn unfilled_order(&mut self, r: &mut SimRng, t: i64, status: &str) {
        let (pair, reference) = *r.pick(&PAIRS);
        let (base, quote) = split(pair);
        let side = if r.chance(0.5) { "buy" } else { "sell" };
        let price = reference - reference / 5 + (reference / 100) * r.below(40) as i128;
        let price = price - price % 10_000;
        let amount = (1 + r.below(500) as i128) * 1_000_000;
        let id = self.order_id();
        let updated = if status == "open" {
            t
        } else {
            t + r.range_i64(1_000, 3_600_000)
        };
        self.orders.push((
            t,
            order_json(OrderFields {
                id,
                pair,
                side,
                t,
                updated,
                status,
                finish_as: if status == "open" {
                    "open"
                } else {
                    "cancelled"
                },
                amount,
                price,
                left: amount,
                filled_total: 0,
                avg: 0,
                fee: 0,
                fee_currency: if side == "buy" { base } else { quote },
            }),
        ));
    }

    fn transfer(&mut self, r: &mut SimRng, t: i64, deposit: bool, n: usize) {
        let (currency, chain, unit) = *r.pick(&[
            ("USDT", "TRX", 1_000 * SCALE),
            ("USDT", "ETH", 1_000 * SCALE),
            ("BTC", "BTC", SCALE / 10),
            ("ETH", "ETH", SCALE),
            ("SOL", "SOL", 10 * SCALE),
        ]);
        let amount = unit / 10 + unit * r.below(100) as i128 / 10;
        let amount = amount - amount % 10_000;
        let recent = t > self.config.end_ms - 3 * DAY_MS;
        let status = if recent && r.chance(0.5) {
            if deposit {
                "PEND"
            } else {
                "MANUAL"
            }
        } else if r.chance(0.06) {
            if deposit {
                "FAIL"
            } else {
                "CANCEL"
            }
        } else {
            "DONE"
        };
        let hash = hash_parts(&[self.config.seed, n as u64, t as u64]);
        let txid = format!("{hash:016x}{:016x}", hash_parts(&[hash]));
        let address = format!("addr{:012x}", hash_parts(&[hash, 7]) % (1 << 48));
        if deposit {
            let id = (1_000_000 + n as u64 * 13).to_string();
            self.deposits.push((
                t,
                json!({
                    "id": id,
                    "txid": txid,
                    "withdraw_order_id": "",
                    "timestamp": (t / 1000).to_string(),
                    "amount": dec(amount),
                    "currency": currency,
                    "address": address,
                    "memo": "",
                    "status": status,
                    "chain": chain,
                }),
            ));
            if status == "DONE" {
                self.book(t, currency, amount, "deposit", &id);
            }
        } else {
            let id = format!("w{}", 80_000_000 + n as u64 * 17);
            let fee = unit / 1000;
            self.withdrawals.push((
                t,
                json!({
                    "id": id,
                    "txid": txid,
                    "block_number": (18_000_000 + n as u64).to_string(),
                    "withdraw_order_id": format!("client-{n}"),
                    "timestamp": (t / 1000).to_string(),
                    "amount": dec(amount),
                    "fee": dec(fee),
                    "currency": currency,
                    "address": address,
                    "memo": "",
                    "status": status,
                    "chain": chain,
                }),
            ));
            if status == "DONE" {
                self.book(t, currency, -(amount + fee), "withdraw", &id);
            }
        }
    }

    /// One account-book entry, with the currency's running balance after it.
    fn book(&mut self, t: i64, currency: &str, change: i128, kind: &str, text: &str) {
        if change == 0 {
            return;
        }
        let balance = self.running.entry(currency.to_owned()).or_insert(0);
        *balance += change;
        let balance = *balance;
        self.next_book_id += 1;
        self.account_book.push((
            t,
            json!({
                "id": self.next_book_id.to_string(),
                "time": t,
                "currency": currency,
                "change": dec(change),
                "balance": dec(balance),
                "type": kind,
                "code": match kind {
                    "trade" => "105",
                    "fee" => "106",
                    "deposit" => "1",
                    _ => "2",
                },
                "text": text,
            }),
        ));
    }

    /// Sorts the account book by time and writes each entry's running balance in that order
    /// (an order's later fills may fall after the next order's first).
    fn rebalance(&mut self) {
        self.account_book.sort_by_key(|(t, _)| *t);
        let mut running: BTreeMap<String, i128> = BTreeMap::new();
        for (_, e) in &mut self.account_book {
            let currency = e["currency"].as_str().unwrap_or_default().to_owned();
            let change = e["change"].as_str().unwrap_or("0");
            let units = parse_units(change.trim_start_matches('-'));
            let signed = if change.starts_with('-') {
                -units
            } else {
                units
            };
            let balance = running.entry(currency).or_insert(0);
            *balance += signed;
            e["balance"] = json!(dec(*balance));
        }
        self.running = running;
    }

    /// Fills every delivery and options order open now, at `now`: each becomes `finished`
    /// (`filled`, nothing left) with one fill of its whole size, ids after every existing
    /// one; a delivery fill's fee goes to the delivery account book. Returns how many orders
    /// were filled.
    pub fn fill_open_orders(&mut self, now: i64) -> usize {
        let t = now / 1000 * 1000;
        let mut filled = 0;
        for (settle, orders) in &mut self.delivery_orders {
            let fills = self.delivery_trades.entry(settle.clone()).or_default();
            let book = self.delivery_books.entry(settle.clone()).or_default();
            for (_, o) in orders.iter_mut().filter(|(_, o)| o["status"] == "open") {
                let next_id = fills
                    .iter()
                    .filter_map(|(_, f)| f["id"].as_i64())
                    .max()
                    .unwrap_or(0)
                    + 1;
                let size = o["size"].as_i64().unwrap_or(0);
                let fee = (size.unsigned_abs() as i128 * SCALE / 1000).max(1);
                fills.push((
                    t,
                    json!({
                        "id": next_id,
                        "create_time": seconds(t),
                        "contract": o["contract"],
                        "order_id": text_of(&o["id"]),
                        "size": size,
                        "price": o["price"],
                        "role": "maker",
                        "text": "web",
                        "fee": dec(fee),
                        "point_fee": "0",
                    }),
                ));
                let balance = book
                    .last()
                    .and_then(|(_, e)| e["balance"].as_str())
                    .map_or(0, signed_units)
                    - fee;
                self.next_book_id += 1;
                book.push((
                    t,
                    json!({
                        "time": seconds(t),
                        "change": dec(-fee),
                        "balance": dec(balance),
                        "text": format!("{}:{next_id}", text_of(&o["contract"])),
                        "type": "fee",
                        "contract": o["contract"],
                        "trade_id": next_id.to_string(),
                        "id": (self.next_book_id + 9_000_000_000).to_string(),
                    }),
                ));
                finish(o, t);
                filled += 1;
            }
        }
        let mut next_id = self
            .options_trades
            .values()
            .flatten()
            .filter_map(|(_, f)| f["id"].as_i64())
            .max()
            .unwrap_or(0);
        for (_, o) in self
            .options_orders
            .iter_mut()
            .filter(|(_, o)| o["status"] == "open")
        {
            next_id += 1;
            let contract = text_of(&o["contract"]);
            let underlying = contract.split('-').next().unwrap_or("").to_owned();
            self.options_trades.entry(underlying).or_default().push((
                t,
                json!({
                    "id": next_id,
                    "create_time": seconds(t),
                    "contract": contract,
                    "order_id": o["id"],
                    "size": o["size"],
                    "price": o["price"],
                    "underlying_price": dec(60_000 * SCALE),
                    "role": "maker",
                }),
            ));
            finish(o, t);
            filled += 1;
        }
        filled
    }

    /// Appends `n` fills (in orders) from `now` on; returns how many were added.
    pub fn append_trades(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        let mut added = 0;
        // After everything already there, so no running balance already served changes.
        let latest = self.account_book.last().map_or(i64::MIN, |(t, _)| *t);
        let mut t = (now - 2 * MINUTE_MS).max(latest + 1_000);
        while added < n {
            let k = (1 + rng.below(3) as usize).min(n - added);
            self.filled_order(rng, t, k);
            added += k;
            t += 1_000;
        }
        self.trades.sort_by_key(|(t, _)| *t);
        self.orders.sort_by_key(|(t, _)| *t);
        self.rebalance();
        added
    }
}

struct OrderFields<'a> {
    id: String,
    pair: &'a str,
    side: &'a str,
    t: i64,
    updated: i64,
    status: &'a str,
    finish_as: &'a str,
    amount: i128,
    price: i128,
    left: i128,
    filled_total: i128,
    avg: i128,
    fee: i128,
    fee_currency: &'a str,
}

fn order_json(o: OrderFields<'_>) -> Value {
    json!({
        "id": o.id,
        "text": format!("t-{}", hash_str(&o.id) % 100_000),
        "amend_text": "-",
        "create_time": (o.t / 1000).to_string(),
        "update_time": (o.updated / 1000).to_string(),
        "create_time_ms": o.t,
        "update_time_ms": o.updated,
        "status": o.status,
        "currency_pair": o.pair,
        "type": "limit",
        "account": "spot",
        "side": o.side,
        "amount": dec(o.amount),
        "price": dec(o.price),
        "time_in_force": "gtc",
        "iceberg": "0",
        "left": dec(o.left),
        "filled_amount": dec(o.amount - o.left),
        "fill_price": dec(o.filled_total),
        "filled_total": dec(o.filled_total),
        "avg_deal_price": dec(o.avg),
        "fee": dec(o.fee),
        "fee_currency": o.fee_currency,
        "point_fee": "0",
        "gt_fee": "0",
        "gt_maker_fee": "0",
        "gt_taker_fee": "0",
        "gt_discount": false,
        "rebated_fee": "0",
        "rebated_fee_currency": "USDT",
        "finish_as": o.finish_as,
    })
}

/// One candlestick row of `pair` in `interval` opening at `t_s` (seconds), as Gate writes it:
/// `[t, quote volume, close, high, low, open, base volume, window closed]`. Deterministic in
/// the seed, pair, interval and open time, so any range can be served and checked.
pub fn candle(
    seed: u64,
    pair: &str,
    reference: i128,
    interval: &str,
    t_s: i64,
    now_ms: i64,
) -> Value {
    let h = |k: u64| hash_parts(&[seed, hash_str(pair), hash_str(interval), t_s as u64, k]);
    let step = reference / 1000;
    let open = reference - 20 * step + step * (h(1) % 40) as i128;
    let close = reference - 20 * step + step * (h(2) % 40) as i128;
    let high = open.max(close) + step * (h(3) % 5) as i128;
    let low = open.min(close) - step * (h(4) % 5) as i128;
    let volume = (1 + (h(5) % 100_000) as i128) * SCALE / 1000;
    let quote_volume = mul(volume, close);
    let seconds = interval_seconds(interval).unwrap_or(60);
    let closed = (t_s + seconds) * 1000 <= now_ms;
    json!([
        t_s.to_string(),
        dec(quote_volume),
        dec(close),
        dec(high),
        dec(low),
        dec(open),
        dec(volume),
        closed.to_string(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DatasetConfig {
        DatasetConfig {
            seed: 7,
            end_ms: 1_800_000_000_000,
            days: 60,
            trades: 500,
            orders_extra: 20,
            open_orders: 3,
            deposits: 10,
            withdrawals: 8,
            futures_trades: 60,
            btc_futures: true,
            delivery_book: 400,
            options_trades: 50,
            unified_mode: "classic".into(),
        }
    }

    #[test]
    fn the_delivery_book_adds_up_and_shares_seconds() {
        let ds = Dataset::generate(&config());
        let book = &ds.delivery_books["usdt"];
        assert_eq!(book.len(), 400);
        let mut sum: i128 = 1_000 * SCALE;
        let mut ids = std::collections::BTreeSet::new();
        for (_, e) in book {
            let change = e["change"].as_str().unwrap();
            let units = parse_units(change.trim_start_matches('-'));
            sum += if change.starts_with('-') {
                -units
            } else {
                units
            };
            assert_eq!(e["balance"].as_str().unwrap(), dec(sum));
            assert!(ids.insert(e["id"].as_str().unwrap().to_owned()));
        }
        let times: Vec<i64> = book.iter().map(|(t, _)| *t).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            times.windows(2).any(|w| w[0] == w[1]),
            "a fee and its profit"
        );
    }

    #[test]
    fn the_same_seed_makes_the_same_account() {
        let a = Dataset::generate(&config());
        let b = Dataset::generate(&config());
        assert_eq!(a.trades, b.trades);
        assert_eq!(a.account_book, b.account_book);
        assert_eq!(
            a.futures_history["btc"].orders,
            b.futures_history["btc"].orders
        );
        assert_eq!(a.trades.len(), 500);
        let other = Dataset::generate(&DatasetConfig {
            seed: 8,
            ..config()
        });
        assert_ne!(a.trades, other.trades);
    }

    #[test]
    fn every_fill_belongs_to_an_order_and_the_book_adds_up() {
        let ds = Dataset::generate(&config());
        let orders: BTreeMap<String, &Value> = ds
            .orders
            .iter()
            .map(|(_, o)| (o["id"].as_str().unwrap().to_owned(), o))
            .collect();
        for (_, t) in &ds.trades {
            let order = orders[t["order_id"].as_str().unwrap()];
            assert_eq!(order["currency_pair"], t["currency_pair"]);
            assert_eq!(order["side"], t["side"]);
        }
        // The last entry of each currency carries the sum of every change before it.
        let mut sums: BTreeMap<String, i128> = BTreeMap::new();
        let mut last: BTreeMap<String, String> = BTreeMap::new();
        for (_, e) in &ds.account_book {
            let c = e["currency"].as_str().unwrap().to_owned();
            let change = e["change"].as_str().unwrap();
            let negative = change.starts_with('-');
            let units = parse_units(change.trim_start_matches('-'));
            *sums.entry(c.clone()).or_default() += if negative { -units } else { units };
            last.insert(c, e["balance"].as_str().unwrap().to_owned());
        }
        for (c, sum) in sums {
            assert_eq!(dec(sum), last[&c], "{c}");
        }
        let times: Vec<i64> = ds.account_book.iter().map(|(t, _)| *t).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn decimals_are_written_as_gate_writes_them() {
        assert_eq!(dec(150_000_000), "1.5");
        assert_eq!(dec(-2 * SCALE), "-2");
        assert_eq!(dec(1), "0.00000001");
        assert_eq!(parse_units("0.0001"), 10_000);
        assert_eq!(seconds(1_500), json!(1.5));
        assert_eq!(seconds(2_000), json!(2));
    }

    #[test]
    fn every_delivery_and_options_fill_has_its_order_and_ids_grow_with_time() {
        let ds = Dataset::generate(&config());
        let orders: BTreeMap<i64, &Value> = ds.delivery_orders["usdt"]
            .iter()
            .map(|(_, o)| (o["id"].as_i64().unwrap(), o))
            .collect();
        let fills = &ds.delivery_trades["usdt"];
        assert_eq!(orders.len(), fills.len() + 3, "unique ids, three open");
        for (_, f) in fills {
            let id: i64 = f["order_id"].as_str().unwrap().parse().unwrap();
            let o = orders[&id];
            assert_eq!(o["contract"], f["contract"]);
            let (size, left) = (o["size"].as_i64().unwrap(), o["left"].as_i64().unwrap());
            assert_eq!(
                size - left,
                f["size"].as_i64().unwrap(),
                "filled = the fill"
            );
        }
        let by_time: Vec<(i64, i64)> = ds.delivery_orders["usdt"]
            .iter()
            .map(|(t, o)| (*t, o["id"].as_i64().unwrap()))
            .collect();
        assert!(by_time
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));

        let orders: BTreeMap<i64, &Value> = ds
            .options_orders
            .iter()
            .map(|(_, o)| (o["id"].as_i64().unwrap(), o))
            .collect();
        let mut n = 0;
        for (underlying, fills) in &ds.options_trades {
            for (_, f) in fills {
                n += 1;
                assert!(f["contract"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{underlying}-")));
                let o = orders[&f["order_id"].as_i64().unwrap()];
                let (size, left) = (o["size"].as_i64().unwrap(), o["left"].as_i64().unwrap());
                assert_eq!(size - left, f["size"].as_i64().unwrap());
            }
            assert!(
                ds.options_positions
                    .iter()
                    .any(|p| p["underlying"] == *underlying),
                "a position shows {underlying}"
            );
        }
        assert_eq!(n, 50);
        assert_eq!(orders.len(), 52, "two open");
    }

    #[test]
    fn filling_the_open_orders_finishes_them_with_one_fill_each() {
        let mut ds = Dataset::generate(&config());
        let fills_before = ds.delivery_trades["usdt"].len();
        let book_before = ds.delivery_books["usdt"].len();
        let options_before: usize = ds.options_trades.values().map(Vec::len).sum();
        assert_eq!(
            ds.fill_open_orders(1_800_000_000_000),
            5,
            "three delivery, two options"
        );
        assert_eq!(ds.fill_open_orders(1_800_000_000_000), 0, "none left open");
        assert_eq!(ds.delivery_trades["usdt"].len(), fills_before + 3);
        assert_eq!(ds.delivery_books["usdt"].len(), book_before + 3);
        let options_after: usize = ds.options_trades.values().map(Vec::len).sum();
        assert_eq!(options_after, options_before + 2);
        let orders: BTreeMap<String, &Value> = ds.delivery_orders["usdt"]
            .iter()
            .map(|(_, o)| (o["id"].to_string(), o))
            .collect();
        let ids: Vec<i64> = ds.delivery_trades["usdt"]
            .iter()
            .map(|(_, f)| f["id"].as_i64().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "fill ids grow");
        for (_, f) in &ds.delivery_trades["usdt"][fills_before..] {
            let o = orders[f["order_id"].as_str().unwrap()];
            assert_eq!(
                (o["status"].as_str(), o["left"].as_i64()),
                (Some("finished"), Some(0))
            );
            assert_eq!(o["size"], f["size"]);
        }
        // The book still adds up.
        let book = &ds.delivery_books["usdt"];
        let (_, last) = &book[book.len() - 1];
        let (_, before) = &book[book.len() - 2];
        assert_eq!(
            signed_units(last["balance"].as_str().unwrap()),
            signed_units(before["balance"].as_str().unwrap())
                + signed_units(last["change"].as_str().unwrap())
        );
    }
}
