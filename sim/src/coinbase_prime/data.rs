//! The Coinbase Prime simulator's portfolio: generated from a seed, kept as Prime's own JSON
//! objects.
//!
//! Everything an answer serves is built here once (and on appends), in Prime's shapes: fills,
//! orders (each filled order owns its fills, at one price, so its average is exact),
//! transactions of several types and statuses, and balances per balance type. Amounts are
//! exact: integers at a fixed scale, rendered as decimal strings. Candles are a pure function
//! of the seed, product, granularity and open time.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, mix, SimRng};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// What the portfolio is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetConfig {
    pub seed: u64,
    pub portfolio_id: String,
    pub history_start_ms: i64,
    pub history_end_ms: i64,
    /// Fills, at least; filled orders own one to three each.
    pub fills: usize,
    /// Canceled and expired orders without fills.
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Rewards, internal transfers and conversions: ledger entries that are no deposit or
    /// withdrawal of the deposits and withdrawals streams.
    pub other_transactions: usize,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            portfolio_id: "6b9e7d5c-1f2a-4b3c-8d4e-5f6a7b8c9d0e".into(),
            history_start_ms: 1_704_067_200_000, // 2024-01-01
            history_end_ms: 1_780_272_000_000,   // 2026-06-01
            fills: 400,
            orders_extra: 40,
            open_orders: 3,
            deposits: 40,
            withdrawals: 25,
            other_transactions: 20,
        }
    }
}

/// One product the simulated portfolio trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    pub id: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    /// Price decimals.
    pub price_decimals: u32,
    /// A typical price, in units of `10^-price_decimals`.
    pub price_units: i64,
    /// Smallest and largest fill, in units of 1e-8 of the base.
    pub size_range: (i64, i64),
}

pub const PRODUCTS: [Product; 4] = [
    Product {
        id: "BTC-USD",
        base: "BTC",
        quote: "USD",
        price_decimals: 2,
        price_units: 6_000_000,
        size_range: (10_000, 50_000_000),
    },
    Product {
        id: "ETH-USD",
        base: "ETH",
        quote: "USD",
        price_decimals: 2,
        price_units: 300_000,
        size_range: (100_000, 500_000_000),
    },
    Product {
        id: "SOL-USD",
        base: "SOL",
        quote: "USD",
        price_decimals: 2,
        price_units: 15_000,
        size_range: (10_000_000, 5_000_000_000),
    },
    Product {
        id: "ETH-BTC",
        base: "ETH",
        quote: "BTC",
        price_decimals: 5,
        price_units: 5_000,
        size_range: (100_000, 500_000_000),
    },
];

/// Assets of the transactions and balances. `PRMX` is a made-up asset no market lists: it
/// must be stored like any other.
const ASSETS: [&str; 6] = ["BTC", "ETH", "SOL", "USD", "USDC", "PRMX"];

/// Prime's granularities and their length.
pub const GRANULARITIES: [(&str, i64); 8] = [
    ("ONE_MINUTE", MINUTE_MS),
    ("FIVE_MINUTE", 5 * MINUTE_MS),
    ("FIFTEEN_MINUTE", 15 * MINUTE_MS),
    ("THIRTY_MINUTE", 30 * MINUTE_MS),
    ("ONE_HOUR", HOUR_MS),
    ("TWO_HOUR", 2 * HOUR_MS),
    ("SIX_HOUR", 6 * HOUR_MS),
    ("ONE_DAY", DAY_MS),
];

/// One item of a time-sorted list: its id, the time Prime sorts and filters it by, and the
/// object itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub time_ms: i64,
    pub raw: Value,
}

/// The simulated portfolio.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub entity_id: String,
    pub organization_id: String,
    /// Every list ascending by (time, id).
    pub fills: Vec<Item>,
    pub orders: Vec<Item>,
    pub transactions: Vec<Item>,
    /// `TRADING_BALANCES`, `VAULT_BALANCES`, `PRIME_CUSTODY_BALANCES` → balance objects.
    pub balances: BTreeMap<&'static str, Vec<Value>>,
    /// The entity's `Get Entity FCM Balance` answer.
    pub fcm_balance: Value,
}

impl Dataset {
    /// Builds the portfolio of `config`; the same config always gives the same portfolio.
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let mut rng = SimRng::new(config.seed).fork("coinbase-prime");
        let mut ds = Dataset {
            config: config.clone(),
            entity_id: uuid(&mut rng),
            organization_id: uuid(&mut rng),
            fills: Vec::new(),
            orders: Vec::new(),
            transactions: Vec::new(),
            balances: BTreeMap::new(),
            fcm_balance: Value::Null,
        };
        let lo = config.history_start_ms + DAY_MS;
        let hi = (config.history_end_ms - DAY_MS).max(lo + 1);
        while ds.fills.len() < config.fills {
            let t = rng.range_i64(lo, hi);
            let n = 1 + rng.below(3) as usize;
            ds.push_filled_order(&mut rng, t, n);
        }
        for _ in 0..config.orders_extra {
            let t = rng.range_i64(lo, hi);
            let status = if rng.chance(0.7) {
                "CANCELLED"
            } else {
                "EXPIRED"
            };
            ds.push_unfilled_order(&mut rng, t, status);
        }
        for _ in 0..config.open_orders {
            let t = rng.range_i64(lo, hi);
            ds.push_unfilled_order(&mut rng, t, "OPEN");
        }
        for i in 0..config.deposits {
            let t = rng.range_i64(lo, hi);
            // Every tenth deposit is still on its way; one is of the made-up asset.
            let status = if i % 10 == 3 {
                "TRANSACTION_PROCESSING"
            } else {
                "TRANSACTION_DONE"
            };
            let asset = if i == 0 {
                "PRMX"
            } else {
                *rng.pick(&ASSETS[..5])
            };
            let kind = if i % 7 == 5 {
                "INTERNAL_DEPOSIT"
            } else {
                "DEPOSIT"
            };
            ds.push_transaction(&mut rng, t, kind, status, asset);
        }
        for i in 0..config.withdrawals {
            let t = rng.range_i64(lo, hi);
            let status = match i % 8 {
                2 => "TRANSACTION_CANCELLED",
                5 => "TRANSACTION_FAILED",
                _ => "TRANSACTION_DONE",
            };
            let asset = *rng.pick(&ASSETS[..5]);
            ds.push_transaction(&mut rng, t, "WITHDRAWAL", status, asset);
        }
        for i in 0..config.other_transactions {
            let t = rng.range_i64(lo, hi);
            let kind = [
                "REWARD",
                "CONVERSION",
                "BILLING_WITHDRAWAL",
                "STAKE_ACCOUNT_CREATE",
            ][i % 4];
            let asset = *rng.pick(&ASSETS[..5]);
            ds.push_transaction(&mut rng, t, kind, "TRANSACTION_DONE", asset);
        }
        ds.balances = balances(&mut rng);
        ds.fcm_balance = fcm_balance(&mut rng, &config.portfolio_id);
        ds.sort();
        ds
    }

    fn sort(&mut self) {
        for list in [&mut self.fills, &mut self.orders, &mut self.transactions] {
            list.sort_by(|a, b| (a.time_ms, &a.id).cmp(&(b.time_ms, &b.id)));
        }
    }

    /// Adds `fills` filled orders (one fill each) and `deposits` completed deposits just
    /// before server time `now_ms`; returns how many of each were added.
    pub fn append(
        &mut self,
        fills: usize,
        deposits: usize,
        now_ms: i64,
        rng: &mut SimRng,
    ) -> (usize, usize) {
        for i in 0..fills {
            self.push_filled_order(rng, now_ms - (fills - i) as i64 * 3, 1);
        }
        for i in 0..deposits {
            let asset = *rng.pick(&ASSETS[..5]);
            self.push_transaction(
                rng,
                now_ms - (deposits - i) as i64 * 3,
                "DEPOSIT",
                "TRANSACTION_DONE",
                asset,
            );
        }
        self.sort();
        (fills, deposits)
    }

    fn push_filled_order(&mut self, rng: &mut SimRng, t: i64, n: usize) {
        let p = *rng.pick(&PRODUCTS);
        let buy = rng.chance(0.5);
        let order_id = uuid(rng);
        let price = price_at(self.config.seed, &p, t);
        let pd = p.price_decimals;
        let mut qty_total: i128 = 0;
        let mut value_total: i128 = 0;
        let mut commission_total: i128 = 0;
        for k in 0..n {
            let at = t + k as i64 * rng.range_i64(1, 90_000);
            let qty = i128::from(rng.range_i64(p.size_range.0, p.size_range.1));
            // value at scale 8 + pd; commission 0.1 % of it, three more decimals.
            let value = qty * i128::from(price);
            // 0.1 %: the value's digits, three decimals further right.
            let commission = value;
            qty_total += qty;
            value_total += value;
            commission_total += commission;
            let id = uuid(rng);
            self.fills.push(Item {
                id: id.clone(),
                time_ms: at,
                raw: json!({
                    "id": id,
                    "order_id": order_id,
                    "product_id": p.id,
                    "client_product_id": p.id,
                    "side": if buy { "BUY" } else { "SELL" },
                    "filled_quantity": dec(qty, 8),
                    "filled_value": dec(value, 8 + pd),
                    "price": dec(i128::from(price), pd),
                    "time": rfc3339(at),
                    "commission": dec(commission, 8 + pd + 3),
                    "venue": "Coinbase",
                    "venue_fees": "0",
                    "ces_commission": "0",
                }),
            });
        }
        let limit = rng.chance(0.6);
        let created = t - rng.range_i64(1, 5_000);
        self.orders.push(Item {
            id: order_id.clone(),
            time_ms: created,
            raw: order_raw(OrderShape {
                id: order_id,
                portfolio_id: &self.config.portfolio_id,
                product: &p,
                buy,
                limit: limit.then_some(i128::from(price)),
                quantity: qty_total,
                filled: qty_total,
                value: value_total,
                average: Some(i128::from(price)),
                commission: commission_total,
                status: "FILLED",
                created,
                client_order_id: uuid(rng),
            }),
        });
    }

    fn push_unfilled_order(&mut self, rng: &mut SimRng, t: i64, status: &str) {
        let p = *rng.pick(&PRODUCTS);
        let price = price_at(self.config.seed, &p, t);
        let quantity = i128::from(rng.range_i64(p.size_range.0, p.size_range.1));
        let id = uuid(rng);
        self.orders.push(Item {
            id: id.clone(),
            time_ms: t,
            raw: order_raw(OrderShape {
                id,
                portfolio_id: &self.config.portfolio_id,
                product: &p,
                buy: rng.chance(0.5),
                limit: Some(i128::from(price) * 9 / 10),
                quantity,
                filled: 0,
                value: 0,
                average: None,
                commission: 0,
                status,
                created: t,
                client_order_id: uuid(rng),
            }),
        });
    }

    fn push_transaction(
        &mut self,
        rng: &mut SimRng,
        t: i64,
        kind: &str,
        status: &str,
        asset: &str,
    ) {
        let scale = if matches!(asset, "USD" | "USDC") {
            2
        } else {
            8
        };
        let amount = i128::from(rng.range_i64(1_000, 50_000_000));
        let fees = if kind == "WITHDRAWAL" {
            amount / 1000
        } else {
            0
        };
        let done = matches!(status, "TRANSACTION_DONE");
        let address = format!("{}{}", asset.to_ascii_lowercase(), hex(rng, 16));
        let external = json!({
            "type": "ADDRESS",
            "value": address,
            "address": address,
            "account_identifier": "",
        });
        let wallet = json!({
            "type": "WALLET",
            "value": uuid(rng),
            "address": "",
            "account_identifier": "",
        });
        let (from, to) = if kind.contains("WITHDRAWAL") {
            (wallet, external)
        } else {
            (external, wallet)
        };
        let id = uuid(rng);
        let network = match asset {
            "BTC" => "bitcoin-mainnet",
            "SOL" => "solana-mainnet",
            "USD" => "",
            _ => "ethereum-mainnet",
        };
        let blockchain_ids: Vec<Value> = if network.is_empty() || !done {
            Vec::new()
        } else {
            vec![json!(hex(rng, 32))]
        };
        self.transactions.push(Item {
            id: id.clone(),
            time_ms: t,
            raw: json!({
                "id": id,
                "wallet_id": uuid(rng),
                "portfolio_id": self.config.portfolio_id,
                "type": kind,
                "status": status,
                "symbol": asset,
                "created_at": rfc3339(t),
                "completed_at": if done { json!(rfc3339(t + 10 * MINUTE_MS)) } else { Value::Null },
                "amount": dec(amount, scale),
                "transfer_from": from,
                "transfer_to": to,
                "network_fees": dec(fees / 2, scale),
                "fees": dec(fees, scale),
                "fee_symbol": asset,
                "blockchain_ids": blockchain_ids,
                "transaction_id": hex(rng, 4).to_ascii_uppercase(),
                "destination_symbol": asset,
                "network": network,
            }),
        });
    }

    /// The ground truth, as `/__sim/truth` serves it.
    pub fn truth(&self) -> Value {
        let raws = |items: &[Item]| -> Value { items.iter().map(|i| i.raw.clone()).collect() };
        json!({
            "portfolio": self.portfolio(),
            "balances": self.balances,
            "fcm_balance": self.fcm_balance,
            "fills": raws(&self.fills),
            "orders": raws(&self.orders),
            "transactions": raws(&self.transactions),
        })
    }

    /// `GET /v1/portfolios/{portfolio_id}`'s object.
    pub fn portfolio(&self) -> Value {
        json!({
            "id": self.config.portfolio_id,
            "name": "Simulated Prime Portfolio",
            "entity_id": self.entity_id,
            "organization_id": self.organization_id,
            "entity_name": "Simulated Prime Entity",
        })
    }
}

/// The entity's FCM balance summary: every field of the reference's example, amounts in
/// USD with cents. The balance is the entity's; `portfolio_id` names the portfolio.
fn fcm_balance(rng: &mut SimRng, portfolio_id: &str) -> Value {
    let mut usd = || dec(i128::from(rng.range_i64(0, 5_000_000_000)), 2);
    json!({
        "portfolio_id": portfolio_id,
        "cfm_usd_balance": usd(),
        "unrealized_pnl": usd(),
        "daily_realized_pnl": usd(),
        "excess_liquidity": usd(),
        "futures_buying_power": usd(),
        "initial_margin": usd(),
        "maintenance_margin": usd(),
        "clearing_account_id": "CFS0000001",
        "cfm_unsettled_accrued_funding_pnl": usd(),
    })
}

fn balances(rng: &mut SimRng) -> BTreeMap<&'static str, Vec<Value>> {
    let mut out = BTreeMap::new();
    for (balance_type, assets) in [
        ("TRADING_BALANCES", &ASSETS[..5]),
        ("VAULT_BALANCES", &ASSETS[..]),
        ("PRIME_CUSTODY_BALANCES", &ASSETS[..2]),
    ] {
        let mut list = Vec::new();
        for asset in assets {
            let scale = if matches!(*asset, "USD" | "USDC") {
                2
            } else {
                8
            };
            let amount = i128::from(rng.range_i64(0, 9_000_000_000));
            let holds = if balance_type == "TRADING_BALANCES" {
                amount * i128::from(rng.range_i64(0, 30)) / 100
            } else {
                0
            };
            let bonded = if balance_type == "VAULT_BALANCES" && *asset == "SOL" {
                amount / 2
            } else {
                0
            };
            list.push(json!({
                "symbol": asset,
                "amount": dec(amount, scale),
                "holds": dec(holds, scale),
                "bonded_amount": dec(bonded, scale),
                "reserved_amount": dec(0, scale),
                "unbonding_amount": dec(0, scale),
                "unvested_amount": dec(0, scale),
                "pending_rewards_amount": dec(0, scale),
                "past_rewards_amount": dec(0, scale),
                "bondable_amount": dec(amount - bonded - holds, scale),
                "withdrawable_amount": dec(amount - bonded - holds, scale),
                "fiat_amount": dec(amount / 7, 2),
                "unbondable_amount": dec(bonded, scale),
            }));
        }
        out.insert(balance_type, list);
    }
    out
}

struct OrderShape<'a> {
    id: String,
    portfolio_id: &'a str,
    product: &'a Product,
    buy: bool,
    limit: Option<i128>,
    quantity: i128,
    filled: i128,
    value: i128,
    average: Option<i128>,
    commission: i128,
    status: &'a str,
    created: i64,
    client_order_id: String,
}

fn order_raw(o: OrderShape<'_>) -> Value {
    let pd = o.product.price_decimals;
    json!({
        "id": o.id,
        "user_id": "3f9c3a52-7b1e-4d9a-9c1e-2b6f0d7e8a11",
        "portfolio_id": o.portfolio_id,
        "product_id": o.product.id,
        "side": if o.buy { "BUY" } else { "SELL" },
        "client_order_id": o.client_order_id,
        "type": if o.limit.is_some() { "LIMIT" } else { "MARKET" },
        "base_quantity": dec(o.quantity, 8),
        "quote_value": "",
        "limit_price": o.limit.map(|l| dec(l, pd)).unwrap_or_default(),
        "start_time": "",
        "expiry_time": "",
        "status": o.status,
        "time_in_force": if o.limit.is_some() { "GOOD_UNTIL_CANCELLED" } else { "IMMEDIATE_OR_CANCEL" },
        "created_at": rfc3339(o.created),
        "filled_quantity": dec(o.filled, 8),
        "filled_value": dec(o.value, 8 + pd),
        "average_filled_price": o.average.map(|a| dec(a, pd)).unwrap_or_else(|| "0".into()),
        "commission": dec(o.commission, 8 + pd + 3),
        "exchange_fee": "0",
        "historical_pov": "",
        "stop_price": "",
        "net_average_filled_price": o.average.map(|a| dec(a, pd)).unwrap_or_else(|| "0".into()),
        "user_context": "",
        "client_product_id": o.product.id,
        "post_only": false,
    })
}

/// A price of `p` at `t_ms`, a pure function of the seed, product and minute.
pub fn price_at(seed: u64, p: &Product, t_ms: i64) -> i64 {
    let minute = t_ms.div_euclid(MINUTE_MS);
    let h = hash_parts(&[seed, hash_str(p.id), minute as u64]);
    let swing = (mix(h) % 2001) as i64 - 1000; // ±10 %
    (p.price_units * (10_000 + swing / 10) / 10_000).max(1)
}

/// One candle object, a pure function of the seed, product, granularity and open time; the
/// candle in progress follows the clock until its period ends.
pub fn candle(seed: u64, p: &Product, step: i64, open_ms: i64, now_ms: i64) -> Value {
    let open = i128::from(price_at(seed, p, open_ms));
    let end = open_ms + step;
    let close = i128::from(price_at(seed, p, end.min(now_ms)));
    let h = hash_parts(&[seed, hash_str(p.id), step as u64, open_ms as u64]);
    let bump = |salt: u64| i128::from((mix(h ^ salt) % 1000) as i64) * open.max(1) / 100_000;
    let high = open.max(close) + bump(1);
    let low = (open.min(close) - bump(2)).max(1);
    let pd = p.price_decimals;
    // Volume grows with the period so far, so an unfinished candle changes.
    let elapsed = (now_ms.min(end) - open_ms).max(0) as i128;
    let volume = i128::from((mix(h ^ 3) % 10_000_000_000) as i64) * elapsed / step as i128;
    json!({
        "timestamp": rfc3339_s(open_ms),
        "open": dec(open, pd),
        "high": dec(high, pd),
        "low": dec(low, pd),
        "close": dec(close, pd),
        "volume": dec(volume, 8),
    })
}

/// `mantissa × 10^-scale` with every decimal shown.
pub fn dec(mantissa: i128, scale: u32) -> String {
    let negative = mantissa < 0;
    let digits = mantissa.unsigned_abs().to_string();
    let scale = scale as usize;
    let text = if scale == 0 {
        digits
    } else {
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{int}.{frac}")
    };
    if negative {
        format!("-{text}")
    } else {
        text
    }
}

/// `2024-03-05T10:11:12.345Z`, as Prime writes times.
pub fn rfc3339(ms: i64) -> String {
    format!(
        "{}.{:03}Z",
        rfc3339_s(ms).trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}

/// `2024-03-05T10:11:12Z`.
pub fn rfc3339_s(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let s = ms.rem_euclid(DAY_MS) / 1000;
    let (y, m, d) = crate::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// An RFC 3339 time as clients send it (`Z` or a `±HH:MM` offset, any fraction) → ms.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if end == 0 {
            return None;
        }
        for (i, c) in frac[..end].bytes().take(3).enumerate() {
            millis += i64::from(c - b'0') * 10i64.pow(2 - i as u32);
        }
        rest = &frac[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = rest[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?) * MINUTE_MS
        }
    };
    let days = crate::time::days_from_civil(y, mo as u32, d as u32);
    Some(days * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + millis - offset)
}

/// A random UUID (version 4 layout).
fn uuid(rng: &mut SimRng) -> String {
    let h = hex(rng, 16);
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        ["8", "9", "a", "b"][rng.below(4) as usize],
        &h[17..20],
        &h[20..32]
    )
}

fn hex(rng: &mut SimRng, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rng.below(256)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_portfolio() {
        let a = Dataset::generate(&DatasetConfig::default());
        let b = Dataset::generate(&DatasetConfig::default());
        assert_eq!(a.truth(), b.truth());
        assert!(a.fills.len() >= 400);
        let ids: std::collections::BTreeSet<&str> = a.fills.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids.len(), a.fills.len(), "fill ids are unique");
        for f in &a.fills {
            assert_eq!(f.raw["id"], f.id.as_str());
            assert_eq!(
                parse_rfc3339(f.raw["time"].as_str().unwrap()),
                Some(f.time_ms)
            );
        }
    }

    #[test]
    fn times_round_trip() {
        for ms in [0, 1_704_067_200_123, 1_780_271_999_999] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
        }
        assert_eq!(
            parse_rfc3339("2024-01-01T02:00:00+02:00"),
            Some(1_704_067_200_000)
        );
        assert_eq!(parse_rfc3339("2024-01-01 00:00:00Z"), None);
        assert_eq!(rfc3339(1_704_067_200_123), "2024-01-01T00:00:00.123Z");
    }
}
