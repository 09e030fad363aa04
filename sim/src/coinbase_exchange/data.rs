//! The simulated Coinbase Exchange profile: generated from a seed, rendered as Coinbase
//! renders it.
//!
//! Money is held as integers of 10⁻¹⁶ (Coinbase's ledger and account precision), so every
//! balance is the exact sum of its ledger. Times are kept in microseconds, as Coinbase
//! writes them.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{civil_from_days, days_from_civil};

/// 10¹⁶: one unit of currency in the sim's integers.
pub const ONE: i128 = 10_000_000_000_000_000;
const DAY_MS: i64 = 86_400_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DatasetConfig {
    pub seed: u64,
    /// The end of history (UTC ms); records lie in `[end - days, end)`.
    pub end_ms: i64,
    pub days: i64,
    /// Filled orders (each with one or two fills).
    pub orders: usize,
    /// Orders canceled without a fill.
    pub canceled: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
}

/// One product: id, currencies, price scale, a typical price (in its scale).
#[derive(Debug, Clone)]
pub struct Product {
    pub id: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    pub price_scale: u32,
    pub price: i128,
}

/// Every product the sim lists. Only some are traded by the account.
pub const PRODUCTS: [(&str, &str, &str, u32, i128); 8] = [
    ("BTC-USD", "BTC", "USD", 2, 4_300_000),
    ("ETH-USD", "ETH", "USD", 2, 230_000),
    ("ETH-BTC", "ETH", "BTC", 5, 5_300),
    ("SOL-USD", "SOL", "USD", 2, 9_500),
    ("USDC-USD", "USDC", "USD", 4, 10_000),
    ("DOGE-USD", "DOGE", "USD", 5, 8_000),
    ("LTC-USD", "LTC", "USD", 2, 7_000),
    ("LTC-BTC", "LTC", "BTC", 6, 1_600),
];
/// The products the account trades.
const TRADED: [&str; 4] = ["BTC-USD", "ETH-USD", "ETH-BTC", "SOL-USD"];
/// Currencies with an account; `XYZ1` is on no product (an asset nobody else lists), DOGE
/// and LTC stay at zero.
const CURRENCIES: [&str; 8] = ["USD", "BTC", "ETH", "SOL", "USDC", "XYZ1", "DOGE", "LTC"];
/// First deposits that fund the account, in whole units.
const FUNDING: [(&str, i128); 6] = [
    ("USD", 20_000_000),
    ("BTC", 400),
    ("ETH", 6_000),
    ("SOL", 90_000),
    ("USDC", 50_000),
    ("XYZ1", 1_234),
];

pub fn products() -> Vec<Product> {
    PRODUCTS
        .iter()
        .map(|&(id, base, quote, price_scale, price)| Product {
            id,
            base,
            quote,
            price_scale,
            price,
        })
        .collect()
}

pub fn product(id: &str) -> Option<Product> {
    products().into_iter().find(|p| p.id == id)
}

/// One account (currency) of the profile.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub currency: String,
    pub balance: i128,
    pub hold: i128,
}

/// One ledger entry: its numeric id, time (µs) and the rendered object.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub id: u64,
    pub time_us: i64,
    pub json: Value,
}

/// A list item with a time cursor (µs) and its rendered object.
#[derive(Debug, Clone)]
pub struct TimedRow {
    pub time_us: i64,
    pub json: Value,
}

/// One fill: its trade id (per product) and the rendered object.
#[derive(Debug, Clone)]
pub struct FillRow {
    pub trade_id: u64,
    pub json: Value,
}

/// The whole profile.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub profile_id: String,
    pub user_id: String,
    pub accounts: Vec<Account>,
    /// Per product, ascending trade id.
    pub fills: BTreeMap<String, Vec<FillRow>>,
    /// Ascending creation time.
    pub orders: Vec<TimedRow>,
    pub deposits: Vec<TimedRow>,
    pub withdrawals: Vec<TimedRow>,
    /// Per account id, ascending id.
    pub ledger: BTreeMap<String, Vec<LedgerRow>>,
    next_ledger_id: u64,
    next_trade_id: BTreeMap<String, u64>,
    rng: SimRng,
}

/// A fill before it is applied.
struct FillPlan {
    time_us: i64,
    product: Product,
    buy: bool,
    price: i128,
    size_sats: i128,
    maker: bool,
    order_id: String,
}

/// A transfer before it is applied.
struct TransferPlan {
    time_us: i64,
    deposit: bool,
    /// Between two profiles of the user (`internal_deposit`, `internal_withdraw`).
    internal: bool,
    currency: &'static str,
    amount: i128,
    state: TransferState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TransferState {
    Completed,
    Pending,
    Canceled,
}

enum Event {
    Fill(FillPlan),
    Transfer(TransferPlan),
}

impl Event {
    fn time_us(&self) -> i64 {
        match self {
            Event::Fill(f) => f.time_us,
            Event::Transfer(t) => t.time_us,
        }
    }
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let rng = SimRng::new(config.seed);
        let mut ids = rng.fork("ids");
        let mut gen = rng.fork("data");
        let start_us = (config.end_ms - config.days * DAY_MS) * 1000;
        let end_us = config.end_ms * 1000;
        let span = end_us - start_us;
        let mut ds = Dataset {
            profile_id: uuid(&mut ids),
            user_id: format!("{:024x}", ids.next_u64() as u128 * 31),
            accounts: CURRENCIES
                .iter()
                .map(|c| Account {
                    id: uuid(&mut ids),
                    currency: (*c).to_owned(),
                    balance: 0,
                    hold: 0,
                })
                .collect(),
            fills: BTreeMap::new(),
            orders: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            ledger: BTreeMap::new(),
            next_ledger_id: 1_000_000 + gen.below(1000),
            next_trade_id: BTreeMap::new(),
            rng: rng.fork("append"),
        };

        let mut events = Vec::new();
        // Funding, in the first hours.
        for (i, (currency, whole)) in FUNDING.iter().enumerate() {
            events.push(Event::Transfer(TransferPlan {
                time_us: start_us + (i as i64 + 1) * 600_000_000,
                deposit: true,
                internal: false,
                currency,
                amount: whole * ONE,
                state: TransferState::Completed,
            }));
        }
        // Filled orders, each with one or two fills, after the funding.
        let trading_from = start_us + DAY_MS * 1000;
        let mut order_plans = Vec::new();
        for _ in 0..config.orders {
            let product = product(TRADED[gen.below(TRADED.len() as u64) as usize]).unwrap();
            let t = gen.range_i64(trading_from, end_us - 3_600_000_000);
            let buy = gen.chance(0.5);
            let price = product.price * (900 + gen.below(200) as i128) / 1000;
            let order_id = uuid(&mut ids);
            let n = 1 + gen.below(2) as i64;
            let maker = gen.chance(0.4);
            let mut fills = Vec::new();
            for k in 0..n {
                let size_sats = i128::from(1 + gen.below(50_000_000)) * size_factor(&product);
                fills.push(FillPlan {
                    time_us: t + k * 1_713 + gen.below(900) as i64,
                    product: product.clone(),
                    buy,
                    price,
                    size_sats,
                    maker,
                    order_id: order_id.clone(),
                });
            }
            order_plans.push((t - 1_000_000 - gen.below(1_000_000) as i64, fills));
        }
        // Transfers spread over the span; a few recent ones pending, a few canceled.
        let movable = ["USD", "BTC", "ETH", "SOL", "USDC"];
        for (n, deposit) in [(config.deposits, true), (config.withdrawals, false)] {
            for i in 0..n {
                let currency = movable[gen.below(movable.len() as u64) as usize];
                let whole = FUNDING.iter().find(|(c, _)| *c == currency).unwrap().1;
                let amount =
                    whole * 100_000_000 / 1000 * i128::from(1 + gen.below(20)) / 7 * 100_000_000;
                let state = if i + 1 == n {
                    TransferState::Pending
                } else if i % 9 == 4 {
                    TransferState::Canceled
                } else {
                    TransferState::Completed
                };
                let time_us = if state == TransferState::Pending {
                    end_us - 2 * 3_600_000_000 - gen.below(1_000_000_000) as i64
                } else {
                    gen.range_i64(trading_from, end_us - 3_600_000_000)
                };
                events.push(Event::Transfer(TransferPlan {
                    time_us,
                    deposit,
                    // Every fifth one moves between the user's profiles.
                    internal: i % 5 == 2 && state == TransferState::Completed,
                    currency,
                    amount,
                    state,
                }));
            }
        }

        let mut order_rows = Vec::new();
        for (created_us, fills) in order_plans {
            let p = fills[0].product.clone();
            let (buy, price) = (fills[0].buy, fills[0].price);
            let size: i128 = fills.iter().map(|f| f.size_sats).sum();
            let cost: i128 = fills
                .iter()
                .map(|f| cost_units(&p, f.price, f.size_sats))
                .sum();
            let fees: i128 = fills
                .iter()
                .map(|f| fee_units(cost_units(&p, f.price, f.size_sats), f.maker))
                .sum();
            let done_us = fills.iter().map(|f| f.time_us).max().unwrap();
            order_rows.push(TimedRow {
                time_us: created_us,
                json: order_json(
                    &fills[0].order_id,
                    &p,
                    buy,
                    price,
                    size,
                    created_us,
                    Some((done_us, "filled")),
                    fees,
                    size,
                    cost,
                    &ds.profile_id,
                ),
            });
            events.extend(fills.into_iter().map(Event::Fill));
        }
        for _ in 0..config.canceled {
            let p = product(TRADED[gen.below(TRADED.len() as u64) as usize]).unwrap();
            let t = gen.range_i64(trading_from, end_us - 3_600_000_000);
            let size = i128::from(1 + gen.below(50_000_000)) * size_factor(&p);
            let price = p.price * (800 + gen.below(150) as i128) / 1000;
            let id = uuid(&mut ids);
            order_rows.push(TimedRow {
                time_us: t,
                json: order_json(
                    &id,
                    &p,
                    gen.chance(0.5),
                    price,
                    size,
                    t,
                    Some((t + 60_000_000 + gen.below(1_000_000_000) as i64, "canceled")),
                    0,
                    0,
                    0,
                    &ds.profile_id,
                ),
            });
        }
        for i in 0..config.open_orders {
            let p = product(TRADED[i % TRADED.len()]).unwrap();
            let t = end_us - span / 20 + gen.below(1_000_000_000) as i64;
            let size = i128::from(1 + gen.below(10_000_000)) * size_factor(&p);
            let buy = i % 2 == 0;
            let price = if buy {
                p.price * 700 / 1000
            } else {
                p.price * 1300 / 1000
            };
            let id = uuid(&mut ids);
            // The hold: the quote for a buy (with the fee), the base for a sell.
            let cost = cost_units(&p, price, size);
            if buy {
                ds.account_mut(p.quote).hold += cost + fee_units(cost, false);
            } else {
                ds.account_mut(p.base).hold += size * 100_000_000;
            }
            order_rows.push(TimedRow {
                time_us: t,
                json: order_json(&id, &p, buy, price, size, t, None, 0, 0, 0, &ds.profile_id),
            });
        }
        order_rows.sort_by_key(|r| r.time_us);
        ds.orders = order_rows;

        events.sort_by_key(Event::time_us);
        for event in events {
            match event {
                Event::Fill(f) => ds.apply_fill(f),
                Event::Transfer(t) => ds.apply_transfer(t, &mut ids),
            }
        }
        ds
    }

    pub fn account_mut(&mut self, currency: &str) -> &mut Account {
        self.accounts
            .iter_mut()
            .find(|a| a.currency == currency)
            .expect("every currency has an account")
    }

    pub fn account_by_id(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    fn ledger_entry(
        &mut self,
        currency: &str,
        time_us: i64,
        amount: i128,
        kind: &str,
        details: Value,
    ) {
        let account = self.account_mut(currency);
        account.balance += amount;
        let balance = account.balance;
        let account_id = account.id.clone();
        self.next_ledger_id += 1;
        let id = self.next_ledger_id;
        let json = json!({
            "id": id.to_string(),
            "amount": units(amount, 16),
            "created_at": iso_us(time_us),
            "balance": units(balance, 16),
            "type": kind,
            "details": details,
        });
        self.ledger
            .entry(account_id)
            .or_default()
            .push(LedgerRow { id, time_us, json });
    }

    fn apply_fill(&mut self, f: FillPlan) {
        let p = &f.product;
        let trade_id = {
            let next = self
                .next_trade_id
                .entry(p.id.to_owned())
                .or_insert(10_000 + hash_str(p.id) % 1000);
            *next += 1;
            *next
        };
        let cost = cost_units(p, f.price, f.size_sats);
        let fee = fee_units(cost, f.maker);
        let json = json!({
            "created_at": iso_us(f.time_us),
            "trade_id": trade_id,
            "product_id": p.id,
            "order_id": f.order_id,
            "user_id": self.user_id,
            "profile_id": self.profile_id,
            "liquidity": if f.maker { "M" } else { "T" },
            "price": units(f.price * 10i128.pow(16 - p.price_scale), p.price_scale),
            "size": units(f.size_sats * 100_000_000, 8),
            "fee": units(fee, 16),
            "side": if f.buy { "buy" } else { "sell" },
            "settled": true,
            "usd_volume": if p.quote == "USD" { units(cost, 16) } else { "0.0000000000000000".to_owned() },
        });
        self.fills
            .entry(p.id.to_owned())
            .or_default()
            .push(FillRow { trade_id, json });
        let details = json!({
            "order_id": f.order_id,
            "product_id": p.id,
            "trade_id": trade_id.to_string(),
        });
        let size = f.size_sats * 100_000_000;
        let (base, quote) = if f.buy { (size, -cost) } else { (-size, cost) };
        self.ledger_entry(p.base, f.time_us, base, "match", details.clone());
        self.ledger_entry(p.quote, f.time_us + 1, quote, "match", details.clone());
        self.ledger_entry(p.quote, f.time_us + 2, -fee, "fee", details);
    }

    fn apply_transfer(&mut self, t: TransferPlan, ids: &mut SimRng) {
        let id = uuid(ids);
        let account_id = self.account_mut(t.currency).id.clone();
        let crypto = t.currency != "USD" && !t.internal;
        let done_us = t.time_us + 90_000_000;
        let mut details = serde_json::Map::new();
        if crypto {
            details.insert(
                "crypto_transaction_hash".into(),
                json!(format!("{:016x}{:016x}", ids.next_u64(), ids.next_u64())),
            );
            details.insert("network".into(), json!(network(t.currency)));
            if !t.deposit {
                details.insert(
                    "crypto_address".into(),
                    json!(format!("addr{:012x}", ids.next_u64() >> 16)),
                );
                details.insert("fee".into(), json!(units(ONE / 10_000, 8)));
            }
        } else if t.internal {
            details.insert("profile_transfer_id".into(), json!(uuid(ids)));
        } else {
            details.insert(
                "coinbase_payment_method_type".into(),
                json!("ach_bank_account"),
            );
        }
        let kind = match (t.internal, t.deposit) {
            (false, true) => "deposit",
            (false, false) => "withdraw",
            (true, true) => "internal_deposit",
            (true, false) => "internal_withdraw",
        };
        let json = json!({
            "id": id,
            "type": kind,
            "created_at": pg_us(t.time_us),
            "completed_at": (t.state == TransferState::Completed).then(|| pg_us(done_us)),
            "canceled_at": (t.state == TransferState::Canceled).then(|| pg_us(done_us)),
            "processed_at": (t.state == TransferState::Completed).then(|| pg_us(done_us)),
            "account_id": account_id,
            "user_id": self.user_id,
            "user_nonce": null,
            "amount": units(t.amount, 8),
            "details": Value::Object(details),
            "idem": format!("{:08x}", ids.next_u64() >> 32),
            "currency": t.currency,
        });
        let row = TimedRow {
            time_us: t.time_us,
            json,
        };
        if t.deposit {
            self.deposits.push(row);
        } else {
            self.withdrawals.push(row);
        }
        if t.state == TransferState::Completed {
            let amount = if t.deposit { t.amount } else { -t.amount };
            let details = json!({
                "transfer_id": id,
                "transfer_type": kind,
            });
            self.ledger_entry(t.currency, done_us, amount, "transfer", details);
        }
    }

    /// Adds `n` filled orders of one fill each, just before `now_ms`, on traded products.
    pub fn append_fills(&mut self, n: usize, now_ms: i64) {
        let mut ids = self.rng.fork(&format!("ids{}", self.next_ledger_id));
        for i in 0..n {
            let p = product(TRADED[self.rng.below(TRADED.len() as u64) as usize]).unwrap();
            let t = now_ms * 1000 - 5_000_000 + i as i64 * 1_000;
            let size_sats = i128::from(1 + self.rng.below(1_000_000)) * size_factor(&p);
            let buy = self.rng.chance(0.5);
            let order_id = uuid(&mut ids);
            let cost = cost_units(&p, p.price, size_sats);
            self.orders.push(TimedRow {
                time_us: t - 500,
                json: order_json(
                    &order_id,
                    &p,
                    buy,
                    p.price,
                    size_sats,
                    t - 500,
                    Some((t, "filled")),
                    fee_units(cost, false),
                    size_sats,
                    cost,
                    &self.profile_id,
                ),
            });
            self.apply_fill(FillPlan {
                time_us: t,
                product: p.clone(),
                buy,
                price: p.price,
                size_sats,
                maker: false,
                order_id,
            });
        }
    }

    /// `GET /accounts`, as served.
    pub fn accounts_json(&self) -> Vec<Value> {
        self.accounts
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "currency": a.currency,
                    "balance": units(a.balance, 16),
                    "hold": units(a.hold, 16),
                    "available": units(a.balance - a.hold, 16),
                    "profile_id": self.profile_id,
                    "trading_enabled": true,
                    "pending_deposit": "0",
                })
            })
            .collect()
    }

    /// The deterministic candle of `product` for the bucket opening at `open_s`.
    pub fn candle(product: &Product, granularity_s: i64, open_s: i64) -> Value {
        let h = hash_parts(&[hash_str(product.id), granularity_s as u64, open_s as u64]);
        let base = product.price * (950 + (h % 100) as i128) / 1000;
        let open = base;
        let close = base * (990 + ((h >> 8) % 21) as i128) / 1000;
        let high = open.max(close) + base * ((h >> 16) % 7) as i128 / 1000;
        let low = open.min(close) - base * ((h >> 24) % 7) as i128 / 1000;
        let volume = ((h >> 32) % 9_000_000) as i128 + 1;
        let p = |v: i128| {
            number(units(
                v * 10i128.pow(16 - product.price_scale),
                product.price_scale,
            ))
        };
        json!([
            open_s,
            p(low),
            p(high),
            p(open),
            p(close),
            number(units(volume * 100_000_000, 8))
        ])
    }
}

/// Sizes are in units of 10⁻⁸; cheap assets trade in larger sizes.
fn size_factor(p: &Product) -> i128 {
    match p.base {
        "BTC" => 1,
        "ETH" => 10,
        _ => 100,
    }
}

/// `price × size` in 10⁻¹⁶ units (price in its scale, size in 10⁻⁸).
pub fn cost_units(p: &Product, price: i128, size_sats: i128) -> i128 {
    price * size_sats * 10i128.pow(16 - p.price_scale - 8)
}

/// The fee on a cost: 0.4 % maker, 0.6 % taker (exact at 10⁻¹⁶).
pub fn fee_units(cost: i128, maker: bool) -> i128 {
    cost * if maker { 4 } else { 6 } / 1000
}

#[allow(clippy::too_many_arguments)]
fn order_json(
    id: &str,
    p: &Product,
    buy: bool,
    price: i128,
    size_sats: i128,
    created_us: i64,
    done: Option<(i64, &str)>,
    fees: i128,
    filled_sats: i128,
    executed: i128,
    profile_id: &str,
) -> Value {
    let mut o = json!({
        "id": id,
        "price": units(price * 10i128.pow(16 - p.price_scale), 8),
        "size": units(size_sats * 100_000_000, 8),
        "product_id": p.id,
        "profile_id": profile_id,
        "side": if buy { "buy" } else { "sell" },
        "type": "limit",
        "time_in_force": "GTC",
        "post_only": false,
        "created_at": iso_us(created_us),
        "fill_fees": units(fees, 16),
        "filled_size": units(filled_sats * 100_000_000, 8),
        "executed_value": units(executed, 16),
        "status": if done.is_some() { "done" } else { "open" },
        "settled": done.is_some(),
    });
    if let Some((done_us, reason)) = done {
        o["done_at"] = json!(iso_us(done_us));
        o["done_reason"] = json!(reason);
    }
    o
}

fn network(currency: &str) -> &'static str {
    match currency {
        "BTC" => "bitcoin",
        "SOL" => "solana",
        _ => "ethereum",
    }
}

/// A random UUID-shaped id.
pub fn uuid(rng: &mut SimRng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// 10⁻¹⁶ units → a decimal string with `scale` digits (exact: the units are multiples).
pub fn units(v: i128, scale: u32) -> String {
    let negative = v < 0;
    let v = v.unsigned_abs() / 10u128.pow(16 - scale);
    let digits = format!("{:0>width$}", v, width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let sign = if negative { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A decimal string as a JSON number (candles are numbers), read from its text.
fn number(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// `2024-01-02T03:04:05.123456Z`
pub fn iso_us(us: i64) -> String {
    let (date, time) = civil(us);
    format!("{date}T{time}.{:06}Z", us.rem_euclid(1_000_000))
}

/// `2024-01-02 03:04:05.123456+00`, as Coinbase writes transfer times.
pub fn pg_us(us: i64) -> String {
    let (date, time) = civil(us);
    format!("{date} {time}.{:06}+00", us.rem_euclid(1_000_000))
}

/// `2024-01-02T03:04:05Z` of whole seconds.
pub fn iso_s(s: i64) -> String {
    let (date, time) = civil(s * 1_000_000);
    format!("{date}T{time}Z")
}

fn civil(us: i64) -> (String, String) {
    let s = us.div_euclid(1_000_000);
    let (y, m, d) = civil_from_days(s.div_euclid(86_400));
    let r = s.rem_euclid(86_400);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", r / 3600, r / 60 % 60, r % 60),
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.f]Z` (or `+00:00`) into µs; the form the candles and
/// ledger queries take.
pub fn parse_iso_us(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, s) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let rest = &text[19..];
    let (frac, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    if !matches!(zone, "Z" | "+00:00" | "+00" | "") {
        return None;
    }
    let mut us = 0i64;
    for (i, c) in frac.bytes().take(6).enumerate() {
        us += i64::from(c - b'0') * 10i64.pow(5 - i as u32);
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + us)
}
