//! The Copper simulator's organization: portfolios, wallets and orders, generated from a seed.
//!
//! Every object is kept as the JSON Copper serves (camelCase fields, amounts as decimal
//! strings, times as Unix-millisecond strings), so the ground truth is exactly what a client
//! receives. Trades are settlement orders whose quote amount is exactly amount × price, so a
//! client can price them exactly.

use serde_json::{json, Value};

use crate::prng::SimRng;

const DAY_MS: i64 = 86_400_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetConfig {
    pub seed: u64,
    pub organization_id: String,
    /// First instant of the data, UTC ms.
    pub history_start_ms: i64,
    /// No order is created at or after this instant.
    pub history_end_ms: i64,
    /// Executed buy/sell settlement orders.
    pub trades: usize,
    /// Canceled, rejected and declined buy/sell orders.
    pub orders_extra: usize,
    /// Buy/sell orders still working, in the last days.
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Deposits and withdrawals still pending, in the last days (on top of the above).
    pub pending_transfers: usize,
    /// Staking rewards and wallet messages.
    pub other_orders: usize,
}

/// A portfolio: id, name, type.
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    pub id: String,
    pub name: &'static str,
    pub kind: &'static str,
}

/// The generated organization.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub portfolios: Vec<Portfolio>,
    /// Copper `Wallet` objects.
    pub wallets: Vec<Value>,
    /// Copper `Order` objects, oldest first.
    pub orders: Vec<Value>,
}

/// Currencies with their network (`mainCurrency`); `CPRX` is a token no market lists.
pub const CURRENCIES: [(&str, &str); 7] = [
    ("BTC", "BTC"),
    ("ETH", "ETH"),
    ("USDT", "ETH"),
    ("USDC", "ETH"),
    ("SOL", "SOL"),
    ("USD", "USD"),
    ("CPRX", "ETH"),
];
const BASES: [(&str, i64); 3] = [("BTC", 3_000_000), ("ETH", 200_000), ("SOL", 10_000)];
const QUOTES: [&str; 3] = ["USD", "USDT", "USDC"];
const PORTFOLIOS: [(&str, &str); 4] = [
    ("Main Vault", "custody"),
    ("Trading Vault", "trading-vault"),
    ("Trading", "trading"),
    ("ClearLoop", "clearloop"),
];

/// `digits` with `scale` digits after the point, every digit kept (`render(150, 2)` → `1.50`).
pub fn render(digits: i64, scale: u32) -> String {
    let neg = digits < 0;
    let d = digits.unsigned_abs().to_string();
    let scale = scale as usize;
    let body = if scale == 0 {
        d
    } else if d.len() > scale {
        format!("{}.{}", &d[..d.len() - scale], &d[d.len() - scale..])
    } else {
        format!("0.{}{d}", "0".repeat(scale - d.len()))
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

fn uuid(rng: &mut SimRng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn hex64(rng: &mut SimRng) -> String {
    (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect()
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let mut rng = SimRng::new(config.seed).fork("copper");
        let portfolios: Vec<Portfolio> = PORTFOLIOS
            .iter()
            .map(|(name, kind)| Portfolio {
                id: uuid(&mut rng),
                name,
                kind,
            })
            .collect();
        let mut ds = Dataset {
            config: config.clone(),
            portfolios,
            wallets: Vec::new(),
            orders: Vec::new(),
        };
        ds.generate_wallets(&mut rng);
        let (start, end) = (config.history_start_ms, config.history_end_ms);
        let recent = (end - 3 * DAY_MS).max(start);
        for _ in 0..config.trades {
            let t = rng.range_i64(start, end);
            ds.add_trade(&mut rng, t, "executed");
        }
        for _ in 0..config.orders_extra {
            let t = rng.range_i64(start, end);
            let status = *rng.pick(&["canceled", "rejected", "declined"]);
            ds.add_trade(&mut rng, t, status);
        }
        for _ in 0..config.open_orders {
            let t = rng.range_i64(recent, end);
            let status = *rng.pick(&["working", "waiting-approve", "processing"]);
            ds.add_trade(&mut rng, t, status);
        }
        for _ in 0..config.deposits {
            let t = rng.range_i64(start, end);
            let status = if rng.chance(0.05) {
                "canceled"
            } else {
                "executed"
            };
            ds.add_transfer(&mut rng, t, true, status);
        }
        for _ in 0..config.withdrawals {
            let t = rng.range_i64(start, end);
            let status = if rng.chance(0.08) {
                "rejected"
            } else {
                "executed"
            };
            ds.add_transfer(&mut rng, t, false, status);
        }
        for i in 0..config.pending_transfers {
            let t = rng.range_i64(recent, end);
            let status = *rng.pick(&["waiting-funds", "processing", "waiting-approve"]);
            ds.add_transfer(&mut rng, t, i % 2 == 0, status);
        }
        for _ in 0..config.other_orders {
            let t = rng.range_i64(start, end);
            ds.add_other(&mut rng, t);
        }
        ds.sort();
        ds
    }

    fn sort(&mut self) {
        self.orders.sort_by(|a, b| {
            (created(a), a["orderId"].as_str()).cmp(&(created(b), b["orderId"].as_str()))
        });
    }

    fn generate_wallets(&mut self, rng: &mut SimRng) {
        for p in self.portfolios.clone() {
            for (currency, main) in CURRENCIES {
                if !rng.chance(0.75) && currency != "CPRX" {
                    continue;
                }
                let balance = rng.range_i64(0, 5_000_000_000_000);
                let reserve = if p.kind == "trading" {
                    rng.range_i64(0, balance / 4 + 1)
                } else {
                    0
                };
                let stake = if currency == "SOL" || currency == "ETH" {
                    rng.range_i64(0, 1_000_000_000_000)
                } else {
                    0
                };
                let created = self.config.history_start_ms - rng.range_i64(DAY_MS, 300 * DAY_MS);
                self.wallets.push(json!({
                    "walletId": uuid(rng),
                    "portfolioId": p.id,
                    "portfolioType": p.kind,
                    "currency": currency,
                    "mainCurrency": main,
                    "balance": render(balance, 8),
                    "available": render(balance - reserve, 8),
                    "reserve": render(reserve, 8),
                    "locked": "0",
                    "stakeBalance": render(stake, 8),
                    "totalBalance": render(balance + stake, 8),
                    "organizationId": self.config.organization_id,
                    "createdAt": created.to_string(),
                    "updatedAt": self.config.history_end_ms.to_string(),
                    "extra": {},
                }));
            }
        }
    }

    fn portfolio(&self, rng: &mut SimRng, kinds: &[&str]) -> Portfolio {
        let candidates: Vec<&Portfolio> = self
            .portfolios
            .iter()
            .filter(|p| kinds.contains(&p.kind))
            .collect();
        (*rng.pick(&candidates)).clone()
    }

    fn base_order(
        &self,
        rng: &mut SimRng,
        t: i64,
        order_type: &str,
        status: &str,
        p: &Portfolio,
    ) -> Value {
        let mut o = json!({
            "orderId": uuid(rng),
            "externalOrderId": uuid(rng),
            "status": status,
            "orderType": order_type,
            "portfolioId": p.id,
            "portfolioType": p.kind,
            "organizationId": self.config.organization_id,
            "createdBy": "sim-user",
            "createdAt": t.to_string(),
            "updatedAt": (t + rng.range_i64(1_000, 600_000)).to_string(),
        });
        if is_terminal(status) {
            o["terminatedAt"] = json!((t + rng.range_i64(1_000, 3_600_000)).to_string());
        }
        o
    }

    /// A buy or sell settlement order at time `t`.
    pub fn add_trade(&mut self, rng: &mut SimRng, t: i64, status: &str) {
        let p = self.portfolio(rng, &["trading", "trading-vault", "clearloop"]);
        let side = *rng.pick(&["buy", "sell"]);
        let (base, cents) = *rng.pick(&BASES);
        let quote = *rng.pick(&QUOTES);
        let amount = rng.range_i64(1, 50_000); // scale 4
        let price = cents + rng.range_i64(-cents / 10, cents / 10); // scale 2
        let mut o = self.base_order(rng, t, side, status, &p);
        o["amount"] = json!(render(amount, 4));
        o["baseCurrency"] = json!(base);
        o["mainCurrency"] = json!(main_of(base));
        o["quoteCurrency"] = json!(quote);
        o["quoteMainCurrency"] = json!(main_of(quote));
        o["limitType"] = json!(*rng.pick(&["otc", "rfq"]));
        let mut extra = json!({
            "totalQuoteAmount": render(amount * price, 6),
            "marketPrice": render(price, 2),
            "reportingCurrencyRate": render(price, 2),
        });
        if status == "executed" {
            extra["balanceSnapshot"] = json!(render(rng.range_i64(0, 9_000_000_000), 8));
        }
        o["extra"] = extra;
        self.orders.push(o);
    }

    /// A deposit or withdrawal at time `t`.
    pub fn add_transfer(&mut self, rng: &mut SimRng, t: i64, deposit: bool, status: &str) {
        let p = self.portfolio(rng, &["custody", "trading-vault", "trading"]);
        let (currency, main) = *rng.pick(&CURRENCIES[..5]);
        let order_type = if deposit {
            *rng.pick(&["deposit", "deposit", "deposit", "retrieved-deposit"])
        } else {
            *rng.pick(&["withdraw", "withdraw", "withdraw", "multi-withdraw"])
        };
        let mut o = self.base_order(rng, t, order_type, status, &p);
        o["amount"] = json!(render(rng.range_i64(1_000, 2_000_000_000), 8));
        o["baseCurrency"] = json!(currency);
        o["mainCurrency"] = json!(main);
        let address = format!("sim{}", &hex64(rng)[..36]);
        let mut extra = json!({ "transactionId": hex64(rng) });
        if deposit {
            extra["fromAddresses"] = json!([address]);
            extra["depositTargetId"] = json!(uuid(rng));
        } else {
            extra["toAddress"] = json!(address);
            extra["withdrawFee"] = json!(render(rng.range_i64(0, 200_000), 8));
            extra["includeFeeInWithdraw"] = json!(rng.chance(0.3));
            extra["feeLevel"] = json!(*rng.pick(&["low", "medium", "high"]));
            if rng.chance(0.2) {
                extra["memo"] = json!(rng.range_i64(1_000, 999_999).to_string());
            }
        }
        if status == "executed" {
            extra["balanceSnapshot"] = json!(render(rng.range_i64(0, 9_000_000_000), 8));
            extra["confirmations"] = json!("6");
        }
        o["extra"] = extra;
        self.orders.push(o);
    }

    /// A staking reward (some in the unlisted `CPRX`) or a wallet message.
    fn add_other(&mut self, rng: &mut SimRng, t: i64) {
        let p = self.portfolio(rng, &["custody"]);
        let message = rng.chance(0.2);
        let order_type = if message {
            "wallet-message"
        } else {
            "earn-reward"
        };
        let mut o = self.base_order(rng, t, order_type, "executed", &p);
        let currency = *rng.pick(&["ETH", "SOL", "CPRX"]);
        o["amount"] = json!(if message {
            "0".to_string()
        } else {
            render(rng.range_i64(1, 50_000_000), 8)
        });
        o["baseCurrency"] = json!(currency);
        o["mainCurrency"] = json!(main_of(currency));
        o["extra"] = if message {
            json!({})
        } else {
            json!({ "balanceSnapshot": render(rng.range_i64(0, 9_000_000_000), 8) })
        };
        self.orders.push(o);
    }

    /// Adds executed trades and deposits created just before `now`; how many were added.
    pub fn append(&mut self, trades: usize, deposits: usize, now: i64, rng: &mut SimRng) -> usize {
        for i in 0..trades {
            self.add_trade(rng, now - 2_000 - i as i64, "executed");
        }
        for i in 0..deposits {
            self.add_transfer(rng, now - 1_000 - i as i64, true, "executed");
        }
        self.sort();
        trades + deposits
    }

    /// The portfolios as `GET /platform/portfolios` lists them.
    pub fn portfolios_json(&self) -> Vec<Value> {
        self.portfolios
            .iter()
            .map(|p| {
                json!({
                    "portfolioId": p.id,
                    "portfolioName": p.name,
                    "portfolioType": p.kind,
                    "organizationId": self.config.organization_id,
                    "isActive": true,
                    "createdAt": self.config.history_start_ms.to_string(),
                })
            })
            .collect()
    }

    /// The ground truth: everything the organization holds, as Copper serves it.
    pub fn truth(&self) -> Value {
        json!({
            "organizationId": self.config.organization_id,
            "portfolios": self.portfolios_json(),
            "wallets": self.wallets,
            "orders": self.orders,
        })
    }
}

/// An order's `createdAt`, ms.
pub fn created(o: &Value) -> i64 {
    o["createdAt"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn main_of(currency: &str) -> &'static str {
    CURRENCIES
        .iter()
        .find(|(c, _)| *c == currency)
        .map_or("ETH", |(_, m)| *m)
}

/// Copper's terminal statuses.
pub fn is_terminal(status: &str) -> bool {
    matches!(
        status,
        "executed"
            | "canceled"
            | "liquidated"
            | "error"
            | "blocked"
            | "declined"
            | "suspended"
            | "rejected"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> DatasetConfig {
        DatasetConfig {
            seed,
            organization_id: "org".into(),
            history_start_ms: 1_704_067_200_000,
            history_end_ms: 1_735_689_600_000,
            trades: 50,
            orders_extra: 5,
            open_orders: 2,
            deposits: 10,
            withdrawals: 8,
            pending_transfers: 2,
            other_orders: 5,
        }
    }

    #[test]
    fn a_seed_makes_the_same_organization() {
        assert_eq!(
            Dataset::generate(&config(3)).truth(),
            Dataset::generate(&config(3)).truth()
        );
        assert_ne!(
            Dataset::generate(&config(3)).truth(),
            Dataset::generate(&config(4)).truth()
        );
    }

    #[test]
    fn trades_cost_exactly_amount_times_price() {
        let ds = Dataset::generate(&config(5));
        assert_eq!(ds.orders.len(), 82);
        for o in ds.orders.iter().filter(|o| o["orderType"] == "buy") {
            let amount: i64 = o["amount"]
                .as_str()
                .unwrap()
                .replace('.', "")
                .parse()
                .unwrap();
            let price: i64 = o["extra"]["marketPrice"]
                .as_str()
                .unwrap()
                .replace('.', "")
                .parse()
                .unwrap();
            assert_eq!(o["extra"]["totalQuoteAmount"], render(amount * price, 6));
        }
        assert_eq!(render(5, 3), "0.005");
        assert_eq!(render(-1234, 2), "-12.34");
    }
}
