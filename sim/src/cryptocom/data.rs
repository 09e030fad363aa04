//! The account of the Crypto.com simulator: generated from a seed, held as the exchange's own
//! JSON objects.
//!
//! Every list is kept as `(time, object)` pairs, the time being what the exchange filters the
//! list by: nanoseconds for trades, orders and the journal, milliseconds for transfers.
//! Amounts are integers at a fixed number of decimals, printed with exactly that many, so
//! nothing is ever rounded.

use serde_json::{json, Value};

use crate::prng::SimRng;
use crate::time::{DAY_MS, MINUTE_MS};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// The end of the data (exclusive), ms.
    pub end_ms: i64,
    pub days: i64,
    pub trades: usize,
    /// Orders that end without a fill (canceled, rejected, expired).
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Staking rewards credited per staked currency and day.
    pub rewards_per_day: usize,
}

/// One instrument: its name, base and quote, its type and a base price.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub symbol: String,
    pub base: String,
    pub quote: String,
    pub inst_type: &'static str,
    /// Price in units of 10^-price_dp.
    pub base_price: i128,
    pub price_dp: u32,
    pub qty_dp: u32,
}

/// The whole account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub account_uuid: String,
    pub instruments: Vec<Instrument>,
    pub user_balance: Vec<Value>,
    pub staking: Vec<Value>,
    /// `private/get-subaccount-balances` entries, one per sub-account.
    pub subaccounts: Vec<Value>,
    /// Staking rewards, `(event_timestamp_ms, reward)`.
    pub rewards: Vec<(i64, Value)>,
    /// `(create_time_ns, trade)`.
    pub trades: Vec<(i64, Value)>,
    /// Finished orders, `(create_time_ns, order)`.
    pub orders: Vec<(i64, Value)>,
    pub open_orders: Vec<Value>,
    /// `(event_timestamp_ns, entry)`.
    pub journal: Vec<(i64, Value)>,
    /// `(create_time, deposit)`.
    pub deposits: Vec<(i64, Value)>,
    pub withdrawals: Vec<(i64, Value)>,
    next_id: u64,
    used_ns: std::collections::BTreeSet<i64>,
}

/// `v` at `dp` decimals, every decimal printed: `fixed(12345, 2)` is `"123.45"`.
pub fn fixed(v: i128, dp: u32) -> String {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let p = 10u128.pow(dp);
    let s = if dp == 0 {
        a.to_string()
    } else {
        format!("{}.{:0width$}", a / p, a % p, width = dp as usize)
    };
    if neg && a != 0 {
        format!("-{s}")
    } else {
        s
    }
}

/// The instruments the simulator lists: spot pairs and one perpetual.
fn instruments() -> Vec<Instrument> {
    let spot = |b: &str, q: &str, price: i128, pdp, qdp| Instrument {
        symbol: format!("{b}_{q}"),
        base: b.into(),
        quote: q.into(),
        inst_type: "CCY_PAIR",
        base_price: price,
        price_dp: pdp,
        qty_dp: qdp,
    };
    vec![
        spot("BTC", "USDT", 6_500_000, 2, 5),
        spot("ETH", "USDT", 320_000, 2, 4),
        spot("CRO", "USDT", 1_200, 5, 2),
        spot("SOL", "USDT", 15_000, 2, 3),
        spot("ETH", "BTC", 5_000, 5, 4),
        spot("CRO", "USD", 1_200, 5, 2),
        spot("BTC", "USD_STABLE_COIN", 6_500_000, 2, 5),
        Instrument {
            symbol: "BTCUSD-PERP".into(),
            base: "BTC".into(),
            quote: "USD".into(),
            inst_type: "PERPETUAL_SWAP",
            base_price: 6_500_000,
            price_dp: 2,
            qty_dp: 4,
        },
    ]
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let mut ds = Dataset {
            config: config.clone(),
            account_uuid: format!(
                "{:016x}-{:04x}",
                root.fork("uuid").next_u64(),
                config.seed % 0xffff
            ),
            instruments: instruments(),
            user_balance: Vec::new(),
            staking: Vec::new(),
            subaccounts: Vec::new(),
            rewards: Vec::new(),
            trades: Vec::new(),
            orders: Vec::new(),
            open_orders: Vec::new(),
            journal: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            next_id: 5_755_600_000_000_000_000 + (config.seed % 1000) * 1_000_000,
            used_ns: std::collections::BTreeSet::new(),
        };
        let start = config.end_ms - config.days * DAY_MS;
        let mut rng = root.fork("trades");
        ds.add_trades(config.trades, start, config.end_ms, &mut rng);

        let mut rng = root.fork("orders");
        for _ in 0..config.orders_extra {
            let t = rng.range_i64(start, config.end_ms - MINUTE_MS);
            let status = *rng.pick(&["CANCELED", "CANCELED", "REJECTED", "EXPIRED"]);
            let order = ds.order(&mut rng, t, status, None);
            ds.orders.push(order);
        }
        for _ in 0..config.open_orders {
            // Open orders were placed in the last days of the data.
            let t = rng.range_i64(
                (config.end_ms - 3 * DAY_MS).max(start),
                config.end_ms - MINUTE_MS,
            );
            let status = *rng.pick(&["ACTIVE", "NEW"]);
            let (_, order) = ds.order(&mut rng, t, status, None);
            ds.open_orders.push(order);
        }

        let currencies = ["BTC", "ETH", "CRO", "SOL", "USDT"];
        let networks = ["BTC", "ETH", "CRONOS", "SOL", "ETH"];
        let mut rng = root.fork("deposits");
        for k in 0..config.deposits {
            let c = rng.below(currencies.len() as u64) as usize;
            let t = rng.range_i64(start, config.end_ms - MINUTE_MS);
            // The newest few are still on their way.
            let status = if k + 2 >= config.deposits {
                "0"
            } else {
                *rng.pick(&["1", "1", "1", "1", "2"])
            };
            let qty = rng.range_i64(1, 500_000) as i128;
            let id = ds.id();
            let amount = Value::from(fixed(qty, 4).parse::<f64>().expect("a decimal"));
            let d = json!({
                "currency": currencies[c], "fee": 0.0, "create_time": t, "id": id.to_string(),
                "update_time": t + 60_000, "amount": amount,
                "address": format!("addr{:x}?{}", rng.next_u64() >> 20, k),
                "status": status, "txid": format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
                "network_id": networks[c],
            });
            if status == "1" {
                ds.journal_entry(t, currencies[c], &fixed(qty, 4), "DEPOSIT", None);
            }
            ds.deposits.push((t, d));
        }
        let mut rng = root.fork("withdrawals");
        for k in 0..config.withdrawals {
            let c = rng.below(currencies.len() as u64) as usize;
            let t = rng.range_i64(start, config.end_ms - MINUTE_MS);
            let status = if k + 1 == config.withdrawals {
                "1"
            } else {
                *rng.pick(&["5", "5", "5", "6", "4"])
            };
            let qty = rng.range_i64(1, 100_000) as i128;
            let fee = rng.range_i64(1, 100) as i128;
            let id = ds.id();
            let w = json!({
                "currency": currencies[c], "client_wid": "", "fee": Value::from(fixed(fee, 4).parse::<f64>().expect("a decimal")),
                "create_time": t, "id": id.to_string(), "update_time": t + 120_000,
                "amount": Value::from(fixed(qty, 4).parse::<f64>().expect("a decimal")),
                "address": format!("0x{:016x}", rng.next_u64()), "status": status,
                "txid": if status == "5" { format!("{:016x}", rng.next_u64()) } else { String::new() },
                "network_id": networks[c],
            });
            if status == "5" {
                ds.journal_entry(t, currencies[c], &fixed(-(qty + fee), 4), "WITHDRAW", None);
            }
            ds.withdrawals.push((t, w));
        }

        let mut rng = root.fork("balances");
        for c in ["BTC", "ETH", "CRO", "SOL", "USDT", "USD", "USD_STABLE_COIN"] {
            let qty = rng.range_i64(10_000, 900_000_000) as i128;
            let reserved = qty * rng.range_i64(0, 30) as i128 / 100;
            ds.user_balance.push(json!({
                "instrument_name": c, "quantity": fixed(qty, 8), "reserved_qty": fixed(reserved, 8),
                "market_value": fixed(qty / 3, 8), "collateral_amount": fixed(qty / 4, 8),
                "collateral_weight": "0.95", "max_withdrawal_balance": fixed(qty - reserved, 8),
            }));
        }
        // Rewards land at evenly spaced times of each day, CRO and SOL a minute apart, paid in
        // the staked instrument as the exchange's example shows.
        for c in ["CRO", "SOL"] {
            let staked = rng.range_i64(100_000, 90_000_000) as i128;
            let pending = rng.range_i64(0, 1_000) as i128;
            ds.staking.push(json!({
                "instrument_name": format!("{c}.staked"), "underlying_inst_name": c,
                "staked_quantity": fixed(staked, 8), "pending_staked_quantity": fixed(pending, 8),
                "pending_unstaked_quantity": "0", "reward_eligible_quantity": fixed(staked - pending, 8),
            }));
        }
        let mut rewards_rng = root.fork("rewards");
        let per_day = config.rewards_per_day as i64;
        for day in 0..config.days {
            for k in 0..per_day {
                for (n, c) in ["CRO", "SOL"].iter().enumerate() {
                    let t = start
                        + day * DAY_MS
                        + k * (DAY_MS / per_day)
                        + n as i64 * MINUTE_MS
                        + rewards_rng.range_i64(0, 1_000);
                    let qty = rewards_rng.range_i64(1, 5_000_000) as i128;
                    ds.rewards.push((
                        t,
                        json!({
                            "staking_inst_name": format!("{c}.staked"), "underlying_inst_name": c,
                            "reward_inst_name": format!("{c}.staked"), "reward_quantity": fixed(qty, 8),
                            "staked_balance": fixed(qty * 1_000, 8), "event_timestamp_ms": t.to_string(),
                        }),
                    ));
                }
            }
        }

        // Two sub-accounts: one never funded, one holding a few currencies. Their positions
        // carry no `reserved_qty`, as the exchange's example shows them.
        let mut sub_rng = root.fork("subaccounts");
        for (k, currencies) in [&[][..], &["BTC", "USDT", "CRO"][..]].iter().enumerate() {
            let uuid = format!("{:016x}-s{k}", sub_rng.next_u64());
            let positions: Vec<Value> = currencies
                .iter()
                .map(|c| {
                    let qty = sub_rng.range_i64(10_000, 900_000_000) as i128;
                    json!({
                        "instrument_name": c, "quantity": fixed(qty, 8),
                        "market_value": fixed(qty / 3, 8), "collateral_eligible": "true",
                        "haircut": "0.10000000", "collateral_amount": fixed(qty / 4, 8),
                        "max_withdrawal_balance": fixed(qty, 8),
                    })
                })
                .collect();
            ds.subaccounts.push(json!({
                "account": uuid, "instrument_name": "USD", "total_available_balance": "0",
                "total_margin_balance": "0", "total_initial_margin": "0",
                "total_maintenance_margin": "0", "total_position_cost": "0",
                "total_cash_balance": "0", "total_collateral_value": "0",
                "total_session_unrealized_pnl": "0", "total_session_realized_pnl": "0",
                "total_effective_leverage": "0", "position_limit": "3000000.00000000",
                "used_position_limit": "0", "is_liquidating": false, "position_balances": positions,
            }));
        }

        ds
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1 + (self.next_id % 7);
        self.next_id
    }

    /// A unique nanosecond time inside millisecond `t`.
    fn ns(&mut self, t: i64) -> i64 {
        let mut ns = t * 1_000_000 + (self.id() % 999_983) as i64;
        while !self.used_ns.insert(ns) {
            ns += 1;
        }
        ns
    }

    fn order(
        &mut self,
        rng: &mut SimRng,
        t: i64,
        status: &str,
        fill: Option<(i128, i128)>,
    ) -> (i64, Value) {
        let inst = self.instruments[rng.below(self.instruments.len() as u64) as usize].clone();
        self.order_on(rng, &inst, t, status, fill)
    }

    fn order_on(
        &mut self,
        rng: &mut SimRng,
        inst: &Instrument,
        t: i64,
        status: &str,
        fill: Option<(i128, i128)>,
    ) -> (i64, Value) {
        let id = self.id();
        let ns = self.ns(t);
        let buy = rng.chance(0.5);
        let price = inst.base_price * rng.range_i64(90, 110) as i128 / 100;
        let qty = match fill {
            Some((q, _)) => q,
            None => rng.range_i64(1, 10_000) as i128,
        };
        let (cum_qty, cum_value, avg) = match fill {
            Some((q, v)) => (q, v, price),
            None => (0, 0, 0),
        };
        let order_type = if rng.chance(0.8) { "LIMIT" } else { "MARKET" };
        let update = t + rng.range_i64(0, 60_000);
        let o = json!({
            "account_id": self.account_uuid, "order_id": id.to_string(),
            "client_oid": format!("c{id}"), "order_type": order_type,
            "time_in_force": "GOOD_TILL_CANCEL", "side": if buy { "BUY" } else { "SELL" },
            "exec_inst": [], "quantity": fixed(qty, inst.qty_dp),
            "limit_price": fixed(price, inst.price_dp),
            "order_value": fixed(price * qty, inst.price_dp + inst.qty_dp),
            "maker_fee_rate": "0.000250", "taker_fee_rate": "0.000500",
            "avg_price": fixed(avg, inst.price_dp),
            "cumulative_quantity": fixed(cum_qty, inst.qty_dp),
            "cumulative_value": fixed(cum_value, inst.price_dp + inst.qty_dp),
            "cumulative_fee": "0", "status": status, "update_user_id": self.account_uuid,
            "order_date": crate::time::format_datetime(t)[..10].to_owned(),
            "instrument_name": inst.symbol, "fee_instrument_name": inst.quote,
            "create_time": t, "create_time_ns": ns.to_string(), "update_time": update,
        });
        (ns, o)
    }

    /// `n` filled orders of one trade each, at times in `[from, to)`, with their journal.
    pub fn add_trades(&mut self, n: usize, from: i64, to: i64, rng: &mut SimRng) -> usize {
        for _ in 0..n {
            let inst = self.instruments[rng.below(self.instruments.len() as u64) as usize].clone();
            let t = rng.range_i64(from, to.max(from + 1));
            let qty = rng.range_i64(1, 10_000) as i128;
            let price = inst.base_price * rng.range_i64(90, 110) as i128 / 100;
            let value = price * qty;
            let (_, mut order) = self.order_on(rng, &inst, t, "FILLED", Some((qty, value)));
            order["limit_price"] = Value::String(fixed(price, inst.price_dp));
            order["avg_price"] = Value::String(fixed(price, inst.price_dp));
            let order_ns: i64 = order["create_time_ns"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let buy = order["side"] == "BUY";
            let trade_id = self.id();
            let trade_t = t;
            let ns = self.ns(trade_t);
            // A fee of 0.05% of the value, in the quote currency, charged (negative).
            let fee = value / 2_000;
            let fee_dp = inst.price_dp + inst.qty_dp;
            let trade = json!({
                "account_id": self.account_uuid, "event_date": crate::time::format_datetime(trade_t)[..10].to_owned(),
                "journal_type": "TRADING", "side": order["side"], "instrument_name": inst.symbol,
                "fees": fixed(-fee, fee_dp), "trade_id": trade_id.to_string(),
                "trade_match_id": (trade_id / 3).to_string(), "create_time": trade_t,
                "traded_price": fixed(price, inst.price_dp), "traded_quantity": fixed(qty, inst.qty_dp),
                "fee_instrument_name": inst.quote, "client_oid": order["client_oid"],
                "taker_side": if rng.chance(0.6) { "TAKER" } else { "MAKER" },
                "order_id": order["order_id"], "create_time_ns": ns.to_string(),
                "transact_time_ns": ns.to_string(), "match_count": "1", "match_index": "0",
            });
            let signed_qty = if buy { qty } else { -qty };
            let base_leg = fixed(signed_qty, inst.qty_dp);
            self.journal_entry(trade_t, &inst.base, &base_leg, "TRADING", Some(&trade));
            self.journal_entry(
                trade_t,
                &inst.quote,
                &fixed(-fee, fee_dp),
                "TRADE_FEE",
                Some(&trade),
            );
            self.orders.push((order_ns, order));
            self.trades.push((ns, trade));
        }
        n
    }

    fn journal_entry(
        &mut self,
        t: i64,
        currency: &str,
        qty: &str,
        kind: &str,
        trade: Option<&Value>,
    ) {
        let id = self.id();
        let ns = self.ns(t);
        let mut e = json!({
            "account_id": self.account_uuid, "event_date": crate::time::format_datetime(t)[..10].to_owned(),
            "journal_type": kind, "journal_id": id.to_string(), "transaction_qty": qty,
            "transaction_cost": "0", "realized_pnl": "0", "event_timestamp_ms": t,
            "event_timestamp_ns": ns.to_string(), "instrument_name": currency,
        });
        if let Some(trade) = trade {
            for k in [
                "order_id",
                "trade_id",
                "trade_match_id",
                "client_oid",
                "taker_side",
                "side",
            ] {
                e[k] = trade[k].clone();
            }
        }
        self.journal.push((ns, e));
    }

    /// Appends `n` trades in the last minute before `now`.
    pub fn append_trades(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        self.add_trades(n, now - MINUTE_MS, now - 1_000, rng)
    }
}
