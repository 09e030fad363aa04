//! Deterministic data set of the Deribit simulator: one account with several currencies.
//!
//! Everything is a function of [`DatasetConfig`]: the seed and the end of the data (by default
//! the minute the simulator started). Amounts are integers scaled by 10^8; Deribit writes them
//! as JSON numbers, so rendering (in `routes.rs`) prints them as numbers, `1.5e-5` included.
//! The transaction log is derived from the trades, deposits and withdrawals (plus daily
//! settlements of the perpetuals), and each currency's balance is its log's last balance.

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// 10^8: the scale of every amount.
pub const SCALE: i128 = 100_000_000;

/// What the data set is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// Exclusive end of the data, UTC ms; the data stops an hour before it.
    pub end_ms: i64,
    /// How many days of history before `end_ms`.
    pub days: i64,
    pub trades: usize,
    /// Orders cancelled without a fill.
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    pub can_trade: bool,
    pub can_withdraw: bool,
    /// The key's `wallet:read` scope: without it, deposits and withdrawals are forbidden.
    pub can_read_wallet: bool,
}

impl DatasetConfig {
    pub fn ending(end_ms: i64) -> Self {
        Self {
            seed: 42,
            end_ms,
            days: 120,
            trades: 1_500,
            orders_extra: 80,
            open_orders: 5,
            deposits: 60,
            withdrawals: 30,
            can_trade: true,
            can_withdraw: true,
            can_read_wallet: true,
        }
    }
}

/// What an instrument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Spot,
    Future,
    Option,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Spot => "spot",
            Kind::Future => "future",
            Kind::Option => "option",
        }
    }
}

/// One tradable instrument, under the currency whose history lists its trades.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub name: &'static str,
    pub currency: &'static str,
    pub kind: Kind,
    /// Price level, for the generator (whole units).
    pub price: f64,
    /// Decimals of a price and of an amount.
    pub price_dp: u32,
    pub amount_dp: u32,
}

/// The instruments of the simulated venue.
pub fn instruments() -> Vec<Instrument> {
    let i = |name, currency, kind, price, price_dp, amount_dp| Instrument {
        name,
        currency,
        kind,
        price,
        price_dp,
        amount_dp,
    };
    vec![
        i("BTC-PERPETUAL", "BTC", Kind::Future, 60_000.0, 1, 0),
        i("BTC-27JUN25", "BTC", Kind::Future, 61_000.0, 1, 0),
        i("BTC-27JUN25-70000-C", "BTC", Kind::Option, 0.05, 4, 1),
        i("ETH-PERPETUAL", "ETH", Kind::Future, 3_000.0, 2, 0),
        i("ETH-27JUN25-3000-P", "ETH", Kind::Option, 0.08, 4, 0),
        i("BTC_USDC", "USDC", Kind::Spot, 60_000.0, 0, 4),
        i("ETH_USDC-PERPETUAL", "USDC", Kind::Future, 3_000.0, 1, 3),
        i("BTC_USDT", "USDT", Kind::Spot, 60_000.0, 0, 4),
    ]
}

/// The account's currencies.
pub const CURRENCIES: [&str; 4] = ["BTC", "ETH", "USDC", "USDT"];

#[derive(Debug, Clone, PartialEq)]
pub struct SimTrade {
    pub trade_id: String,
    pub trade_seq: u64,
    pub timestamp: i64,
    pub instrument: usize,
    pub currency: &'static str,
    pub buy: bool,
    pub price: i128,
    pub amount: i128,
    /// Signed: a negative fee is a maker rebate.
    pub fee: i128,
    pub maker: bool,
    pub order_id: String,
    pub order_type: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimOrder {
    pub order_id: String,
    pub instrument: usize,
    pub currency: &'static str,
    pub buy: bool,
    pub order_type: &'static str,
    /// `None`: a market order (`"market_price"`).
    pub price: Option<i128>,
    pub amount: i128,
    pub filled: i128,
    /// Average fill price (0 without fills).
    pub average: i128,
    pub state: &'static str,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimDeposit {
    pub currency: &'static str,
    pub address: String,
    pub amount: i128,
    pub state: &'static str,
    pub txid: String,
    pub received: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimWithdrawal {
    pub id: u64,
    pub currency: &'static str,
    pub address: String,
    pub amount: i128,
    pub fee: i128,
    pub state: &'static str,
    pub txid: Option<String>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub id: u64,
    pub timestamp: i64,
    pub currency: &'static str,
    pub kind: &'static str,
    pub change: i128,
    pub balance: i128,
    pub instrument: Option<&'static str>,
    pub trade_id: Option<String>,
    pub order_id: Option<String>,
    pub side: Option<&'static str>,
    pub price: Option<i128>,
    pub amount: Option<i128>,
}

/// The whole simulated account.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub instruments: Vec<Instrument>,
    pub user_id: u64,
    pub username: String,
    pub trades: Vec<SimTrade>,
    pub orders: Vec<SimOrder>,
    pub deposits: Vec<SimDeposit>,
    pub withdrawals: Vec<SimWithdrawal>,
    pub log: Vec<LogEntry>,
    /// Events of the log that are not trades, deposits or withdrawals (settlements).
    settlements: Vec<(i64, &'static str, &'static str, i128)>,
    next_seq: u64,
}

fn hex(rng: &mut SimRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
        .collect()
}

/// A price near `level` at `t`, moving slowly and deterministically.
pub fn price_at(seed: u64, inst: &Instrument, t: i64) -> f64 {
    let day = t.div_euclid(DAY_MS) as u64;
    let wobble = (hash_parts(&[seed, hash_str(inst.name), day]) % 2001) as f64 / 10_000.0 - 0.1;
    inst.price * (1.0 + wobble)
}

/// `v` rounded to `dp` decimals, scaled by 10^8.
pub fn to_scaled(v: f64, dp: u32) -> i128 {
    let unit = 10f64.powi(dp as i32);
    ((v * unit).round() as i128) * (SCALE / 10i128.pow(dp))
}

/// `a × b` of two scaled amounts, scaled.
pub fn mul(a: i128, b: i128) -> i128 {
    a * b / SCALE
}

/// A scaled amount as a plain decimal without trailing zeros: `150000000` → `"1.5"`.
pub fn dec(v: i128) -> String {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let int = a / SCALE as u128;
    let frac = a % SCALE as u128;
    let mut s = int.to_string();
    if frac != 0 {
        let f = format!("{frac:08}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    if neg && a != 0 {
        format!("-{s}")
    } else {
        s
    }
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let mut ds = Dataset {
            config: config.clone(),
            instruments: instruments(),
            user_id: 40_000 + config.seed % 1000,
            username: format!("exsync_e2e_{}", config.seed),
            trades: Vec::new(),
            orders: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            log: Vec::new(),
            settlements: Vec::new(),
            next_seq: 1,
        };
        let end = config.end_ms - HOUR_MS;
        let start = config.end_ms - config.days * DAY_MS;
        let span = (end - start).max(1);

        // Deposits first: the account is funded at the start.
        let mut rng = root.fork("deposits");
        for (k, currency) in CURRENCIES.iter().enumerate() {
            ds.deposits.push(SimDeposit {
                currency,
                address: format!("{}{}", currency.to_lowercase(), hex(&mut rng, 30)),
                amount: funding_of(currency),
                state: "completed",
                txid: hex(&mut rng, 64),
                received: start + k as i64 * MINUTE_MS,
                updated: start + k as i64 * MINUTE_MS + 20 * MINUTE_MS,
            });
        }
        for n in 0..config.deposits {
            let currency = *rng.pick(&CURRENCIES);
            let t = start + DAY_MS + rng.range_i64(0, span - DAY_MS);
            let pending = n + 2 == config.deposits;
            ds.deposits.push(SimDeposit {
                currency,
                address: format!("{}{}", currency.to_lowercase(), hex(&mut rng, 30)),
                amount: small_amount(currency, &mut rng),
                state: if pending { "pending" } else { "completed" },
                txid: hex(&mut rng, 64),
                received: t,
                updated: t + 30 * MINUTE_MS,
            });
        }

        let mut rng = root.fork("withdrawals");
        let mut per_currency = [0u64; 4];
        for n in 0..config.withdrawals {
            let ci = rng.below(4) as usize;
            let currency = CURRENCIES[ci];
            per_currency[ci] += 1;
            let t = start + DAY_MS + rng.range_i64(0, span - DAY_MS);
            let state = match n % 10 {
                3 => "cancelled",
                7 if n + 5 > config.withdrawals => "unconfirmed",
                _ => "completed",
            };
            ds.withdrawals.push(SimWithdrawal {
                id: per_currency[ci],
                currency,
                address: format!("{}{}", currency.to_lowercase(), hex(&mut rng, 30)),
                amount: small_amount(currency, &mut rng) / 2,
                fee: fee_of(currency),
                state,
                txid: (state == "completed").then(|| hex(&mut rng, 64)),
                created: t,
                updated: t + HOUR_MS / 2,
            });
        }

        // Trades, each of an order of its own; then orders without fills.
        let mut rng = root.fork("trades");
        for _ in 0..config.trades {
            let t = start + HOUR_MS + rng.range_i64(0, span - HOUR_MS);
            ds.add_trade(t, &mut rng);
        }
        let mut rng = root.fork("orders");
        for n in 0..(config.orders_extra + config.open_orders) {
            let open = n >= config.orders_extra;
            let t = if open {
                end - rng.range_i64(HOUR_MS, (20 * DAY_MS).min(span))
            } else {
                start + rng.range_i64(0, span)
            };
            let inst = rng.below(ds.instruments.len() as u64) as usize;
            let i = &ds.instruments[inst];
            let price = to_scaled(price_at(config.seed, i, t) * 0.9, i.price_dp);
            let amount = amount_for(i, &mut rng);
            ds.orders.push(SimOrder {
                order_id: order_id(i.currency, &mut rng),
                instrument: inst,
                currency: i.currency,
                buy: rng.chance(0.5),
                order_type: "limit",
                price: Some(price),
                amount,
                filled: 0,
                average: 0,
                state: if open { "open" } else { "cancelled" },
                created: t,
                updated: if open {
                    t
                } else {
                    t + rng.range_i64(1_000, HOUR_MS)
                },
            });
        }

        // Daily settlements of the perpetuals held.
        let mut rng = root.fork("settlements");
        let mut day = (start.div_euclid(DAY_MS) + 1) * DAY_MS + 8 * HOUR_MS;
        while day < end {
            for (inst, currency) in [("BTC-PERPETUAL", "BTC"), ("ETH-PERPETUAL", "ETH")] {
                if rng.chance(0.3) {
                    let change = rng.range_i64(-50_000, 50_000) as i128;
                    ds.settlements.push((day, inst, currency, change));
                }
            }
            day += DAY_MS;
        }
        ds.rebuild_log();
        ds
    }

    fn add_trade(&mut self, t: i64, rng: &mut SimRng) {
        let inst = rng.below(self.instruments.len() as u64) as usize;
        let i = self.instruments[inst].clone();
        let price = to_scaled(price_at(self.config.seed, &i, t), i.price_dp).max(1);
        let amount = amount_for(&i, rng);
        let maker = rng.chance(0.6);
        let notional = match i.kind {
            // Inverse: USD amounts, fees in coin.
            Kind::Future if !i.name.contains('_') => amount * SCALE / price,
            _ => mul(price, amount),
        };
        let fee_rate: i128 = if maker { -1 } else { 5 }; // in 1/10,000
        let fee = notional * fee_rate / 10_000;
        let market = !maker && rng.chance(0.5);
        let order_id = order_id(i.currency, rng);
        let seq = self.next_seq;
        self.next_seq += 1;
        let prefix = i.name.split('-').next().unwrap_or(i.name);
        self.trades.push(SimTrade {
            trade_id: format!("{prefix}-{}", 100_000 + seq),
            trade_seq: seq,
            timestamp: t,
            instrument: inst,
            currency: i.currency,
            buy: rng.chance(0.5),
            price,
            amount,
            fee,
            maker,
            order_id: order_id.clone(),
            order_type: if market { "market" } else { "limit" },
        });
        let trade = self.trades.last().expect("just pushed").clone();
        self.orders.push(SimOrder {
            order_id,
            instrument: inst,
            currency: i.currency,
            buy: trade.buy,
            order_type: trade.order_type,
            price: (!market).then_some(price),
            amount,
            filled: amount,
            average: price,
            state: "filled",
            created: t - rng.range_i64(0, 10 * MINUTE_MS),
            updated: t,
        });
    }

    /// Rebuilds the transaction log from the trades, transfers and settlements: per currency
    /// in time order, each entry with the balance after it; ids grow with time across the
    /// account.
    pub fn rebuild_log(&mut self) {
        struct Event {
            t: i64,
            currency: &'static str,
            kind: &'static str,
            change: i128,
            trade: Option<usize>,
            instrument: Option<&'static str>,
        }
        let mut events = Vec::new();
        for d in &self.deposits {
            if d.state == "completed" {
                events.push(Event {
                    t: d.updated,
                    currency: d.currency,
                    kind: "deposit",
                    change: d.amount,
                    trade: None,
                    instrument: None,
                });
            }
        }
        for w in &self.withdrawals {
            if w.state != "cancelled" {
                events.push(Event {
                    t: w.created,
                    currency: w.currency,
                    kind: "withdrawal",
                    change: -(w.amount + w.fee),
                    trade: None,
                    instrument: None,
                });
            }
        }
        for (k, tr) in self.trades.iter().enumerate() {
            events.push(Event {
                t: tr.timestamp,
                currency: tr.currency,
                kind: "trade",
                change: -tr.fee,
                trade: Some(k),
                instrument: Some(self.instruments[tr.instrument].name),
            });
        }
        for &(t, inst, currency, change) in &self.settlements {
            events.push(Event {
                t,
                currency,
                kind: "settlement",
                change,
                trade: None,
                instrument: Some(inst),
            });
        }
        events.sort_by_key(|e| (e.t, e.currency, e.kind, e.trade));
        let mut balances = std::collections::BTreeMap::<&str, i128>::new();
        self.log = events
            .into_iter()
            .enumerate()
            .map(|(n, e)| {
                let b = balances.entry(e.currency).or_default();
                *b += e.change;
                let trade = e.trade.map(|k| &self.trades[k]);
                LogEntry {
                    id: 1_000_000 + n as u64,
                    timestamp: e.t,
                    currency: e.currency,
                    kind: e.kind,
                    change: e.change,
                    balance: *b,
                    instrument: e.instrument,
                    trade_id: trade.map(|t| t.trade_id.clone()),
                    order_id: trade.map(|t| t.order_id.clone()),
                    side: trade.map(|t| if t.buy { "buy" } else { "sell" }),
                    price: trade.map(|t| t.price),
                    amount: trade.map(|t| t.amount),
                }
            })
            .collect();
    }

    /// Each currency's cash balance: its log's last balance.
    pub fn balance_of(&self, currency: &str) -> i128 {
        self.log
            .iter()
            .rev()
            .find(|l| l.currency == currency)
            .map_or(0, |l| l.balance)
    }

    /// Net position per derivative instrument (signed), from the trades.
    pub fn positions(&self) -> Vec<(usize, i128)> {
        let mut net = vec![0i128; self.instruments.len()];
        for t in &self.trades {
            if self.instruments[t.instrument].kind != Kind::Spot {
                net[t.instrument] += if t.buy { t.amount } else { -t.amount };
            }
        }
        net.into_iter()
            .enumerate()
            .filter(|(k, n)| *n != 0 && self.instruments[*k].kind != Kind::Spot)
            .collect()
    }

    /// Settles every pending transfer at `now`: pending deposits complete, unconfirmed
    /// withdrawals complete with a transaction id; the log follows. Returns how many.
    pub fn settle_transfers(&mut self, now: i64, rng: &mut SimRng) -> usize {
        let mut n = 0;
        for d in self.deposits.iter_mut().filter(|d| d.state == "pending") {
            d.state = "completed";
            d.updated = now;
            n += 1;
        }
        for w in self
            .withdrawals
            .iter_mut()
            .filter(|w| w.state == "unconfirmed")
        {
            w.state = "completed";
            w.txid = Some(hex(rng, 64));
            w.updated = now;
            n += 1;
        }
        self.rebuild_log();
        n
    }

    /// Adds `n` trades (with their orders and log entries) in the last minute before `now`.
    pub fn append_trades(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        for k in 0..n {
            let t = now - 30_000 + k as i64;
            self.add_trade(t, rng);
        }
        self.rebuild_log();
        n
    }
}

fn funding_of(currency: &str) -> i128 {
    match currency {
        "BTC" => 25 * SCALE,
        "ETH" => 400 * SCALE,
        _ => 2_000_000 * SCALE,
    }
}

fn fee_of(currency: &str) -> i128 {
    match currency {
        "BTC" => 15_000,    // 0.00015
        "ETH" => 1_000_000, // 0.01
        _ => SCALE,         // 1
    }
}

fn small_amount(currency: &str, rng: &mut SimRng) -> i128 {
    let units = rng.range_i64(1, 5_000) as i128;
    match currency {
        "BTC" => units * 100_000, // up to 5 BTC
        "ETH" => units * 2_000_000,
        _ => units * 100 * SCALE / 10,
    }
}

fn amount_for(i: &Instrument, rng: &mut SimRng) -> i128 {
    match (i.kind, i.name.contains('_')) {
        // Inverse futures: USD, multiples of 10.
        (Kind::Future, false) => rng.range_i64(1, 500) as i128 * 10 * SCALE,
        (Kind::Option, _) => rng.range_i64(1, 50) as i128 * SCALE / 10,
        _ => rng.range_i64(1, 20_000) as i128 * (SCALE / 10i128.pow(i.amount_dp)).max(1),
    }
}

fn order_id(currency: &str, rng: &mut SimRng) -> String {
    let prefix = match currency {
        "USDC" | "USDT" => currency,
        _ => "",
    };
    format!("{prefix}{}", 10_000_000_000u64 + rng.below(89_999_999_999))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> DatasetConfig {
        DatasetConfig {
            trades: 200,
            ..DatasetConfig::ending(1_760_000_000_000)
        }
    }

    #[test]
    fn same_seed_same_data() {
        assert_eq!(Dataset::generate(&small()), Dataset::generate(&small()));
    }

    #[test]
    fn the_log_ends_at_each_balance_and_ids_are_unique() {
        let ds = Dataset::generate(&small());
        assert_eq!(ds.trades.len(), 200);
        let mut ids: Vec<&String> = ds.trades.iter().map(|t| &t.trade_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        for c in CURRENCIES {
            let sum: i128 = ds
                .log
                .iter()
                .filter(|l| l.currency == c)
                .map(|l| l.change)
                .sum();
            assert_eq!(sum, ds.balance_of(c));
        }
        assert_eq!(dec(150_000_000), "1.5");
        assert_eq!(dec(-1_500), "-0.000015");
    }
}
