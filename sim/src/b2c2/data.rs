//! The simulated B2C2 account: orders, trades, withdrawals, the ledger and balances, from a
//! seed.
//!
//! Amounts are integers of 1e-10 (B2C2 writes ten decimals), prices of 1e-4 and quantities of
//! 1e-4 (B2C2 allows four decimals in quantities), so every sum and product is exact. Times
//! are microseconds, as B2C2 (Django) writes them.

use serde_json::{json, Value};

use crate::prng::SimRng;
use crate::time::DAY_MS;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    pub history_start_ms: i64,
    pub history_end_ms: i64,
    pub orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    pub pending_withdrawals: usize,
}

/// Every currency of the account, B2C2's codes (`UST` is USDT, `USC` USDC, `LNK` LINK, `DOG`
/// DOGE).
pub const CURRENCIES: [&str; 9] = [
    "BTC", "ETH", "UST", "USC", "USD", "EUR", "LNK", "DOG", "XRP",
];

/// Instruments: name, price range in 1e-4, quantity multiplier.
const INSTRUMENTS: [(&str, i64, i64, i64); 8] = [
    ("BTCUSD.SPOT", 200_000_000, 700_000_000, 1),
    ("ETHUSD.SPOT", 10_000_000, 40_000_000, 1),
    ("BTCUST.SPOT", 200_000_000, 700_000_000, 1),
    ("ETHEUR.SPOT", 9_000_000, 36_000_000, 1),
    ("LNKUSD.SPOT", 50_000, 300_000, 100),
    ("DOGUST.SPOT", 500, 3_000, 10_000),
    ("XRPUSD.SPOT", 3_000, 12_000, 1_000),
    ("BTCUSD.CFD", 200_000_000, 700_000_000, 1),
];

/// One list item with its time (µs) and id, for filtering and sorting.
#[derive(Debug, Clone)]
pub struct Item {
    pub created_us: i64,
    pub id: String,
    pub json: Value,
}

/// The account.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub orders: Vec<Item>,
    pub trades: Vec<Item>,
    pub withdrawals: Vec<Item>,
    pub ledger: Vec<Item>,
    /// Currency → amount in 1e-10.
    pub balances: std::collections::BTreeMap<String, i128>,
}

/// `units` of 1e-10 as B2C2 writes them: ten decimals.
pub fn fmt10(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let a = units.unsigned_abs();
    format!("{sign}{}.{:010}", a / 10_000_000_000, a % 10_000_000_000)
}

/// µs → `2024-03-05T10:11:12.345678Z`.
pub fn fmt_us(us: i64) -> String {
    let ms = us.div_euclid(1000);
    let days = ms.div_euclid(DAY_MS);
    let (y, m, d) = crate::time::civil_from_days(days);
    let secs = ms.rem_euclid(DAY_MS) / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        us.rem_euclid(1_000_000)
    )
}

fn uuid(rng: &mut SimRng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

impl Dataset {
    /// The account a configuration stands for; the same config always gives the same one.
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let mut ds = Dataset::default();
        for c in CURRENCIES {
            ds.balances.insert(c.to_owned(), 0);
        }
        let root = SimRng::new(config.seed);
        let (start, end) = (config.history_start_ms, config.history_end_ms);
        let mut rng = root.fork("deposits");
        for _ in 0..config.deposits {
            let t = rng.range_i64(start, end) * 1000 + rng.range_i64(0, 1000);
            ds.deposit(&mut rng, t);
        }
        let mut rng = root.fork("orders");
        for _ in 0..config.orders {
            let t = rng.range_i64(start, end) * 1000 + rng.range_i64(0, 1000);
            ds.order(&mut rng, t);
        }
        let mut rng = root.fork("withdrawals");
        for i in 0..config.withdrawals {
            let t = rng.range_i64(start, end) * 1000 + rng.range_i64(0, 1000);
            ds.withdrawal(&mut rng, t, i < config.pending_withdrawals);
        }
        ds.sort();
        ds
    }

    /// Newest first, as B2C2 lists them (unconfirmed: B2C2's default order).
    pub fn sort(&mut self) {
        for list in [
            &mut self.orders,
            &mut self.trades,
            &mut self.withdrawals,
            &mut self.ledger,
        ] {
            list.sort_by(|a, b| b.created_us.cmp(&a.created_us).then(b.id.cmp(&a.id)));
        }
    }

    fn ledger_entry(
        &mut self,
        rng: &mut SimRng,
        t: i64,
        currency: &str,
        units: i128,
        kind: &str,
        reference: &str,
    ) {
        let id = uuid(rng);
        *self.balances.entry(currency.to_owned()).or_insert(0) += units;
        let group = if kind == "transfer" {
            "transfer"
        } else {
            "trading"
        };
        self.ledger.push(Item {
            created_us: t,
            id: id.clone(),
            json: json!({
                "transaction_id": id,
                "created": fmt_us(t),
                "reference": reference,
                "currency": currency,
                "amount": fmt10(units),
                "type": kind,
                "group": group,
            }),
        });
    }

    /// A deposit at `t` µs: a positive ledger transfer (B2C2 lists deposits nowhere else).
    pub fn deposit(&mut self, rng: &mut SimRng, t: i64) {
        let currency = *rng.pick(&CURRENCIES);
        let units = i128::from(rng.range_i64(1, 1_000_000)) * 100_000_000;
        self.ledger_entry(rng, t, currency, units, "transfer", "");
    }

    /// An order at `t` µs: fill-or-kill (or market), executed into one trade or rejected.
    pub fn order(&mut self, rng: &mut SimRng, t: i64) {
        let (instrument, lo, hi, mult) = *rng.pick(&INSTRUMENTS);
        let side = if rng.chance(0.5) { "buy" } else { "sell" };
        let q4 = rng.range_i64(1, 50_000) * mult;
        let p4 = rng.range_i64(lo, hi);
        let market = rng.chance(0.1);
        let executed = market || rng.chance(0.85);
        let order_id = uuid(rng);
        let limit = if side == "buy" {
            p4 + p4 / 100
        } else {
            p4 - p4 / 100
        };
        let price = |p: i64| fmt10(i128::from(p) * 1_000_000);
        let qty = fmt10(i128::from(q4) * 1_000_000);
        let mut trades = Vec::new();
        if executed {
            let trade_id = uuid(rng);
            let tt = t + 23_456;
            let trade = json!({
                "created": fmt_us(tt),
                "price": price(p4),
                "instrument": instrument,
                "trade_id": trade_id,
                "origin": "rest",
                "rfq_id": null,
                "side": side,
                "quantity": qty,
                "order": order_id,
                "executing_unit": "risk-adding-strategy",
                "user": "exsync-sim",
            });
            trades.push(trade.clone());
            self.trades.push(Item {
                created_us: tt,
                id: trade_id.clone(),
                json: trade,
            });
            let base = &instrument[..3];
            let quote = &instrument[3..6];
            let base_units = i128::from(q4) * 1_000_000;
            let quote_units = i128::from(q4) * i128::from(p4) * 100;
            let sign = if side == "buy" { 1 } else { -1 };
            if instrument.ends_with(".CFD") {
                // A CFD settles no coins: its funding is charged a day later.
                let fee = -(quote_units / 10_000).max(1);
                self.ledger_entry(rng, tt + DAY_MS * 1000, quote, fee, "funding", &trade_id);
            } else {
                self.ledger_entry(rng, tt, base, sign * base_units, "trade", &trade_id);
                self.ledger_entry(rng, tt, quote, -sign * quote_units, "trade", &trade_id);
            }
        }
        let order = json!({
            "order_id": order_id,
            "client_order_id": uuid(rng),
            "quantity": qty,
            "side": side,
            "instrument": instrument,
            "price": if market { Value::Null } else { Value::String(price(limit)) },
            "executed_price": if executed { Value::String(price(p4)) } else { Value::Null },
            "executing_unit": "risk-adding-strategy",
            "order_type": if market { "MKT" } else { "FOK" },
            "valid_until": fmt_us(t + 10_000_000),
            "created": fmt_us(t),
            "trades": trades,
        });
        self.orders.push(Item {
            created_us: t,
            id: order_id,
            json: order,
        });
    }

    /// A withdrawal at `t` µs; a settled one is also a negative ledger transfer.
    pub fn withdrawal(&mut self, rng: &mut SimRng, t: i64, pending: bool) {
        let currency = *rng.pick(&CURRENCIES);
        let units = i128::from(rng.range_i64(1, 100_000)) * 100_000_000;
        let id = uuid(rng);
        let fiat = matches!(currency, "USD" | "EUR");
        let protocol = match currency {
            "UST" | "USC" | "LNK" => Value::String("ERC20".into()),
            _ => Value::Null,
        };
        let address = if fiat {
            Value::Null
        } else {
            json!({
                "address_value": format!("sim{:032x}", rng.next_u64()),
                "address_suffix": if currency == "XRP" { Value::String(format!("{}", rng.below(1_000_000))) } else { Value::Null },
                "address_protocol": protocol,
            })
        };
        let bank = if fiat {
            Value::String(format!("GB00SIMB{:014}", rng.below(100_000_000_000_000)))
        } else {
            Value::Null
        };
        let w = json!({
            "amount": fmt10(units),
            "currency": currency,
            "withdrawal_id": id,
            "reference": format!("exsync-sim withdrawal {}", &id[..8]),
            "settled": !pending,
            "created": fmt_us(t),
            "destination_address": address,
            "destination_bank_account": bank,
        });
        self.withdrawals.push(Item {
            created_us: t,
            id: id.clone(),
            json: w,
        });
        if !pending {
            self.ledger_entry(rng, t, currency, -units, "transfer", &id);
        }
    }

    /// `GET /balance/`'s answer.
    pub fn balance_json(&self) -> Value {
        let map: serde_json::Map<String, Value> = self
            .balances
            .iter()
            .map(|(c, u)| (c.clone(), Value::String(fmt10(*u))))
            .collect();
        Value::Object(map)
    }

    /// Everything, as `/__sim/truth` and `exsync-sim b2c2-truth` print it.
    pub fn truth(&self) -> Value {
        let list = |items: &[Item]| items.iter().map(|i| i.json.clone()).collect::<Vec<_>>();
        json!({
            "balances": self.balance_json(),
            "orders": list(&self.orders),
            "trades": list(&self.trades),
            "withdrawals": list(&self.withdrawals),
            "ledger": list(&self.ledger),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_times_as_b2c2_writes_them() {
        assert_eq!(fmt10(15_000_000_000), "1.5000000000");
        assert_eq!(fmt10(-5), "-0.0000000005");
        assert_eq!(fmt_us(784_111_777_000_123), "1994-11-06T08:49:37.000123Z");
    }

    #[test]
    fn the_same_seed_gives_the_same_account() {
        let c = DatasetConfig {
            seed: 5,
            history_start_ms: 1_704_067_200_000,
            history_end_ms: 1_735_689_600_000,
            orders: 50,
            deposits: 5,
            withdrawals: 5,
            pending_withdrawals: 1,
        };
        let a = Dataset::generate(&c).truth();
        assert_eq!(a, Dataset::generate(&c).truth());
        assert!(a["trades"].as_array().unwrap().len() > 30);
    }
}
