//! The simulated Bitfinex account: generated from a seed, rendered as Bitfinex's positional
//! arrays.
//!
//! Every record is kept as the exact JSON text of its array (amounts are JSON numbers,
//! written without trailing zeros), with the time and id the endpoints filter and sort on.
//! The same text is served by the API and by the ground truth, so a client that stores what
//! it received stores exactly the truth.

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// How the data set is generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// The end of the history (server ms): no record is later.
    pub end_ms: i64,
    pub days: i64,
    pub trades: usize,
    /// Closed and cancelled orders of the last two weeks (the order history).
    pub orders: usize,
    pub active_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    pub ledgers: usize,
    /// Whether the key may trade and withdraw (its `permissions` say so).
    pub can_trade: bool,
    pub can_withdraw: bool,
}

/// One record: its array's JSON text, the time endpoints select on, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: i64,
    pub time: i64,
    pub text: String,
}

/// The whole account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub user_id: i64,
    pub wallets: Vec<String>,
    /// Oldest first, by time.
    pub trades: Vec<Row>,
    /// Closed and cancelled orders; time = `MTS_UPDATE`.
    pub orders: Vec<Row>,
    /// Open orders; time = `MTS_CREATE`.
    pub active: Vec<Row>,
    /// Deposits (positive amounts) and withdrawals (negative); time = `MTS_STARTED`.
    pub movements: Vec<Row>,
    pub ledgers: Vec<Row>,
    next_trade_id: i64,
}

/// A trading pair: Bitfinex symbol, price in units of `price_scale`, quote currency.
struct Pair {
    symbol: &'static str,
    price: i64,
    price_scale: u32,
    quote: &'static str,
    derivative: bool,
}

const PAIRS: [Pair; 6] = [
    Pair {
        symbol: "tBTCUSD",
        price: 30_000,
        price_scale: 0,
        quote: "USD",
        derivative: false,
    },
    Pair {
        symbol: "tETHUSD",
        price: 2_000,
        price_scale: 0,
        quote: "USD",
        derivative: false,
    },
    Pair {
        symbol: "tETHUST",
        price: 2_001,
        price_scale: 0,
        quote: "UST",
        derivative: false,
    },
    Pair {
        symbol: "tBTCUST",
        price: 30_010,
        price_scale: 0,
        quote: "UST",
        derivative: false,
    },
    Pair {
        symbol: "tXRPUSD",
        price: 5_000,
        price_scale: 4,
        quote: "USD",
        derivative: false,
    },
    Pair {
        symbol: "tBTCF0:USTF0",
        price: 30_020,
        price_scale: 0,
        quote: "USTF0",
        derivative: true,
    },
];

/// The symbols whose candles the simulator serves, and their price level.
pub const CANDLE_SYMBOLS: [(&str, i64); 3] =
    [("tBTCUSD", 30_000), ("tETHUSD", 2_000), ("tBTCUST", 30_010)];

/// Currencies that move in and out: code, method name (network), amount scale.
const TRANSFER_CURRENCIES: [(&str, &str); 5] = [
    ("BTC", "BITCOIN"),
    ("ETH", "ETHEREUM"),
    ("UST", "TETHERUSE"),
    ("XRP", "RIPPLE"),
    ("USD", "WIRE"),
];

/// `units / 10^scale` as a JSON number without trailing zeros: `(15000, 4)` → `1.5`.
pub fn dec(units: i64, scale: u32) -> String {
    let negative = units < 0;
    let digits = units.unsigned_abs().to_string();
    let scale = scale as usize;
    let text = if scale == 0 {
        digits
    } else {
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (i, f) = padded.split_at(padded.len() - scale);
        let f = f.trim_end_matches('0');
        if f.is_empty() {
            i.to_owned()
        } else {
            format!("{i}.{f}")
        }
    };
    if negative && text != "0" {
        format!("-{text}")
    } else {
        text
    }
}

/// A JSON string literal.
fn s(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let end = config.end_ms;
        let begin = end - config.days * DAY_MS;
        let mut ds = Dataset {
            config: config.clone(),
            user_id: 4_000_000 + (config.seed % 1_000_000) as i64,
            wallets: Vec::new(),
            trades: Vec::new(),
            orders: Vec::new(),
            active: Vec::new(),
            movements: Vec::new(),
            ledgers: Vec::new(),
            next_trade_id: 400_000_000,
        };
        ds.wallets = wallets(&mut root.fork("wallets"));

        let mut rng = root.fork("trades");
        let mut times: Vec<i64> = (0..config.trades)
            .map(|_| rng.range_i64(begin, end - MINUTE_MS))
            .collect();
        times.sort_unstable();
        for t in times {
            ds.push_trade(t, &mut rng);
        }

        // The order history: closed and cancelled orders of the last 13 days (Bitfinex keeps
        // two weeks; none sits on the boundary).
        let mut rng = root.fork("orders");
        let order_begin = (end - 13 * DAY_MS).max(begin);
        let mut times: Vec<i64> = (0..config.orders)
            .map(|_| rng.range_i64(order_begin, end - 2 * HOUR_MS))
            .collect();
        times.sort_unstable();
        for (i, created) in times.into_iter().enumerate() {
            let id = 50_000_000_000 + i as i64 * 13 + rng.below(7) as i64;
            let updated = created + rng.range_i64(1_000, HOUR_MS);
            let (status, filled_frac) = match rng.below(4) {
                0 | 1 => ("EXECUTED", 100),
                2 => ("CANCELED", 0),
                _ => ("CANCELED was: PARTIALLY FILLED", 40),
            };
            ds.orders.push(order_row(
                id,
                created,
                updated,
                status,
                filled_frac,
                &mut rng,
            ));
        }
        ds.orders.sort_by_key(|r| (r.time, r.id));

        let mut rng = root.fork("active");
        for i in 0..config.active_orders {
            let id = 60_000_000_000 + i as i64 * 11;
            let created = rng.range_i64((end - 30 * DAY_MS).max(begin), end - HOUR_MS);
            let (status, filled) = if i % 2 == 0 {
                ("ACTIVE", 0)
            } else {
                ("PARTIALLY FILLED", 30)
            };
            let mut row = order_row(id, created, created, status, filled, &mut rng);
            row.time = created;
            ds.active.push(row);
        }

        let mut rng = root.fork("movements");
        for i in 0..config.deposits + config.withdrawals {
            let withdrawal = i >= config.deposits;
            let id = 13_000_000 + i as i64 * 17 + rng.below(9) as i64;
            let started = rng.range_i64(begin, end - MINUTE_MS);
            ds.movements
                .push(movement_row(id, started, withdrawal, end, &mut rng));
        }
        ds.movements.sort_by_key(|r| (r.time, r.id));

        let mut rng = root.fork("ledgers");
        let mut times: Vec<i64> = (0..config.ledgers)
            .map(|_| rng.range_i64(begin, end - MINUTE_MS))
            .collect();
        times.sort_unstable();
        let mut balances: std::collections::BTreeMap<(&str, &str), i64> = Default::default();
        for (i, t) in times.into_iter().enumerate() {
            let id = 2_500_000_000 + i as i64 * 3 + rng.below(3) as i64;
            let (currency, _) = *rng.pick(&TRANSFER_CURRENCIES);
            let wallet = *rng.pick(&["exchange", "exchange", "margin", "funding"]);
            let balance = balances.entry((currency, wallet)).or_insert(0);
            let (amount, description) = match rng.below(5) {
                0 => {
                    let a = rng.range_i64(1, 2_000_000);
                    (a, format!("Deposit ({currency}) #{id} on wallet {wallet}"))
                }
                1 if *balance > 1000 => {
                    let a = -rng.range_i64(1, *balance / 10 + 1);
                    (
                        a,
                        format!(
                            "Trading fees for {} {currency} on wallet {wallet}",
                            dec(-a, 4)
                        ),
                    )
                }
                2 => {
                    let a = rng.range_i64(1, 500_000);
                    (
                        a,
                        format!(
                            "Transfer of {} {currency} from wallet Exchange to {wallet} on wallet {wallet}",
                            dec(a, 4)
                        ),
                    )
                }
                3 if *balance > 1000 => {
                    let a = -rng.range_i64(1, *balance / 2 + 1);
                    (
                        a,
                        format!(
                            "Exchange {} {currency} for USD @ 1.5 on wallet {wallet}",
                            dec(-a, 4)
                        ),
                    )
                }
                _ => {
                    let a = rng.range_i64(1, 10_000);
                    (a, format!("Margin Funding Payment on wallet {wallet}"))
                }
            };
            *balance += amount;
            let text = format!(
                "[{id},{},{},{t},null,{},{},null,{}]",
                s(currency),
                s(wallet),
                dec(amount, 4),
                dec(*balance, 4),
                s(&description)
            );
            ds.ledgers.push(Row { id, time: t, text });
        }
        ds
    }

    fn push_trade(&mut self, t: i64, rng: &mut SimRng) {
        let pair = rng.pick(&PAIRS);
        self.next_trade_id += 1 + rng.below(5) as i64;
        let id = self.next_trade_id;
        let order_id = 30_000_000_000 + id * 3;
        let amount = rng.range_i64(1, 50_000) * if rng.chance(0.5) { 1 } else { -1 };
        let spread = pair.price * 10_i64.pow(2) * (rng.range_i64(-500, 500)) / 10_000;
        let price_units = pair.price * 100 + spread;
        let price = dec(price_units, pair.price_scale + 2);
        let fee = -rng.range_i64(100, 100_000);
        let maker = if rng.chance(0.4) { 1 } else { -1 };
        let order_type = if pair.derivative {
            "LIMIT"
        } else if maker == 1 {
            "EXCHANGE LIMIT"
        } else {
            "EXCHANGE MARKET"
        };
        let order_price = if maker == 1 {
            price.clone()
        } else {
            "0".into()
        };
        let cid = if rng.chance(0.5) {
            (t - 17).to_string()
        } else {
            "null".into()
        };
        let text = format!(
            "[{id},{},{t},{order_id},{},{price},{},{order_price},{maker},{},{},{cid}]",
            s(pair.symbol),
            dec(amount, 4),
            s(order_type),
            dec(fee, 6),
            s(pair.quote),
        );
        self.trades.push(Row { id, time: t, text });
    }

    /// Adds `n` trades at `now` (a minute apart, backwards), for incremental-sync tests.
    pub fn append_trades(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        for i in 0..n {
            let t = now - 1_000 - (n - i) as i64 * 1_000;
            self.push_trade(t, rng);
        }
        self.trades.sort_by_key(|r| (r.time, r.id));
        n
    }
}

fn wallets(rng: &mut SimRng) -> Vec<String> {
    let mut rows = Vec::new();
    let spec: [(&str, &str, u32); 9] = [
        ("exchange", "BTC", 8),
        ("exchange", "ETH", 8),
        ("exchange", "UST", 6),
        ("exchange", "USD", 2),
        ("exchange", "XRP", 4),
        ("margin", "USTF0", 6),
        ("margin", "BTC", 8),
        ("funding", "USD", 2),
        ("funding", "UST", 6),
    ];
    for (wallet, currency, scale) in spec {
        let balance = rng.range_i64(10_i64.pow(scale), 10_i64.pow(scale) * 5_000);
        let locked = if rng.chance(0.5) {
            rng.range_i64(0, balance / 3)
        } else {
            0
        };
        let available = if wallet == "margin" && currency == "BTC" {
            // Bitfinex leaves the available balance null until it has computed it.
            "null".to_owned()
        } else {
            dec(balance - locked, scale)
        };
        rows.push(format!(
            "[{},{},{},0,{available},null,null]",
            s(wallet),
            s(currency),
            dec(balance, scale)
        ));
    }
    rows
}

fn order_row(
    id: i64,
    created: i64,
    updated: i64,
    status: &str,
    filled_percent: i64,
    rng: &mut SimRng,
) -> Row {
    let pair = rng.pick(&PAIRS);
    let sign = if rng.chance(0.5) { 1 } else { -1 };
    let original = rng.range_i64(10, 50_000) * 10 * sign;
    let filled = original * filled_percent / 100;
    let remaining = original - filled;
    let price_units = pair.price * 100 + pair.price * rng.range_i64(-300, 300) / 100;
    let price = dec(price_units, pair.price_scale + 2);
    let avg = if filled == 0 {
        "0".into()
    } else {
        price.clone()
    };
    let status = match status {
        "EXECUTED" | "PARTIALLY FILLED" | "CANCELED was: PARTIALLY FILLED" => {
            format!("{status} @ {price}({})", dec(filled, 4))
        }
        other => other.to_owned(),
    };
    let order_type = if pair.derivative {
        "LIMIT"
    } else {
        "EXCHANGE LIMIT"
    };
    let text = format!(
        "[{id},null,{},{},{created},{updated},{},{},{},null,null,null,0,{},null,null,{price},{avg},0,0,null,null,null,0,0,null,null,null,\"API>BFX\",null,null,{{}}]",
        created - 3,
        s(pair.symbol),
        dec(remaining, 4),
        dec(original, 4),
        s(order_type),
        s(&status),
    );
    Row {
        id,
        time: updated,
        text,
    }
}

fn movement_row(id: i64, started: i64, withdrawal: bool, end: i64, rng: &mut SimRng) -> Row {
    let (currency, method) = *rng.pick(&TRANSFER_CURRENCIES);
    let amount = rng.range_i64(1, 5_000_000);
    let (amount, fee) = if withdrawal {
        (-amount, -rng.range_i64(1, 5_000))
    } else {
        (amount, 0)
    };
    let status = if end - started < 2 * DAY_MS && rng.chance(0.5) {
        "PENDING"
    } else if rng.chance(0.1) {
        "CANCELED"
    } else {
        "COMPLETED"
    };
    let updated = (started + rng.range_i64(1_000, HOUR_MS)).min(end);
    let h = hash_parts(&[id as u64, hash_str(currency)]);
    let address = s(&format!("addr{h:016x}"));
    let payment_id = if currency == "XRP" {
        s(&(h % 1_000_000).to_string())
    } else {
        "null".into()
    };
    let txid = if status == "COMPLETED" {
        s(&format!("{h:032x}"))
    } else {
        "null".into()
    };
    let note = if withdrawal {
        s("exsync test")
    } else {
        "null".into()
    };
    let text = format!(
        "[{id},{},{},null,null,{started},{updated},null,null,{},null,null,{},{},null,null,{address},{payment_id},null,null,{txid},{note}]",
        s(currency),
        s(method),
        s(status),
        dec(amount, 4),
        dec(fee, 4),
    );
    Row {
        id,
        time: started,
        text,
    }
}

/// The candle of `symbol` opening at `open` in a timeframe of `step` ms, as served at `now`:
/// `[MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]`. A pure function of its inputs (the unfinished
/// candle too: the simulator's market is quiet).
pub fn candle(seed: u64, symbol: &str, level: i64, step: i64, open: i64) -> String {
    let h = hash_parts(&[seed, hash_str(symbol), step as u64, open as u64]);
    let o = level * 10 + (h % 2001) as i64 - 1000;
    let c = level * 10 + ((h >> 11) % 2001) as i64 - 1000;
    let high = o.max(c) + ((h >> 22) % 50) as i64;
    let low = o.min(c) - ((h >> 28) % 50) as i64;
    let volume = ((h >> 34) % 10_000_000) as i64 + 1;
    format!(
        "[{open},{},{},{},{},{}]",
        dec(o, 1),
        dec(c, 1),
        dec(high, 1),
        dec(low, 1),
        dec(volume, 4)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_have_no_trailing_zeros() {
        assert_eq!(dec(15_000, 4), "1.5");
        assert_eq!(dec(-5, 4), "-0.0005");
        assert_eq!(dec(300, 2), "3");
        assert_eq!(dec(0, 4), "0");
    }

    #[test]
    fn the_same_seed_makes_the_same_account() {
        let config = DatasetConfig {
            seed: 7,
            end_ms: 1_800_000_000_000,
            days: 100,
            trades: 50,
            orders: 20,
            active_orders: 2,
            deposits: 5,
            withdrawals: 5,
            ledgers: 30,
            can_trade: false,
            can_withdraw: false,
        };
        let a = Dataset::generate(&config);
        let b = Dataset::generate(&config);
        assert_eq!(a.trades, b.trades);
        assert_eq!(a.ledgers, b.ledgers);
        for row in a.trades.iter().chain(&a.orders).chain(&a.movements) {
            let v: serde_json::Value = serde_json::from_str(&row.text).unwrap();
            assert!(v.is_array(), "{}", row.text);
        }
        let ids: std::collections::BTreeSet<i64> = a.trades.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), a.trades.len());
    }
}
