//! The Kraken simulator's account: generated from a seed, kept as Kraken's own JSON objects.
//!
//! Everything an answer serves is built here once (and on appends), in Kraken's shapes: trade,
//! order and ledger objects keyed by their ids, deposit and withdrawal objects, balances. The
//! ledger is the account's book: every trade, deposit, withdrawal and earn reward moves it, and
//! the balances are its running sums, so the account is consistent end to end. Amounts are
//! exact: integers at a fixed scale, rendered as decimal strings.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, mix, SimRng};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// Scale of ledger amounts and balances: ten decimals, as Kraken shows most assets.
pub const LEDGER_SCALE: u32 = 10;

/// What the account is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetConfig {
    pub seed: u64,
    pub history_start_ms: i64,
    pub history_end_ms: i64,
    /// Trades (fills), at least; orders own one to three each.
    pub trades: usize,
    /// Canceled and expired orders without fills.
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Earn rewards (ledger entries of the `.S`, `.F`, `.B` balances).
    pub rewards: usize,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            history_start_ms: 1_704_067_200_000, // 2024-01-01
            history_end_ms: 1_780_272_000_000,   // 2026-06-01
            trades: 300,
            orders_extra: 40,
            open_orders: 3,
            deposits: 40,
            withdrawals: 25,
            rewards: 30,
        }
    }
}

/// One spot pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairInfo {
    pub name: &'static str,
    pub altname: &'static str,
    pub wsname: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    /// Price decimals.
    pub pair_decimals: u32,
    /// A typical price, in units of `10^-pair_decimals`.
    pub price_units: i64,
    /// Smallest and largest fill, in units of 1e-8 of the base.
    pub vol_range: (i64, i64),
}

/// Kraken's pairs the simulated venue lists: legacy X/Z names and newer plain ones.
pub const PAIRS: [PairInfo; 8] = [
    pair(
        "XXBTZUSD",
        "XBTUSD",
        "XBT/USD",
        "XXBT",
        "ZUSD",
        1,
        600_000,
        (10_000, 50_000_000),
    ),
    pair(
        "XXBTZEUR",
        "XBTEUR",
        "XBT/EUR",
        "XXBT",
        "ZEUR",
        1,
        550_000,
        (10_000, 50_000_000),
    ),
    pair(
        "XETHZUSD",
        "ETHUSD",
        "ETH/USD",
        "XETH",
        "ZUSD",
        2,
        300_000,
        (100_000, 500_000_000),
    ),
    pair(
        "XETHXXBT",
        "ETHXBT",
        "ETH/XBT",
        "XETH",
        "XXBT",
        5,
        5_000,
        (100_000, 500_000_000),
    ),
    pair(
        "SOLUSD",
        "SOLUSD",
        "SOL/USD",
        "SOL",
        "ZUSD",
        2,
        15_000,
        (10_000_000, 5_000_000_000),
    ),
    pair(
        "DOTEUR",
        "DOTEUR",
        "DOT/EUR",
        "DOT",
        "ZEUR",
        4,
        60_000,
        (100_000_000, 50_000_000_000),
    ),
    pair(
        "USDTZUSD",
        "USDTUSD",
        "USDT/USD",
        "USDT",
        "ZUSD",
        4,
        10_000,
        (1_000_000_000, 500_000_000_000),
    ),
    pair(
        "XBTUSDT",
        "XBTUSDT",
        "XBT/USDT",
        "XXBT",
        "USDT",
        1,
        600_000,
        (10_000, 50_000_000),
    ),
];

#[allow(clippy::too_many_arguments)]
const fn pair(
    name: &'static str,
    altname: &'static str,
    wsname: &'static str,
    base: &'static str,
    quote: &'static str,
    pair_decimals: u32,
    price_units: i64,
    vol_range: (i64, i64),
) -> PairInfo {
    PairInfo {
        name,
        altname,
        wsname,
        base,
        quote,
        pair_decimals,
        price_units,
        vol_range,
    }
}

/// Opening deposits (asset, whole units): large enough that no balance goes below zero.
const OPENING: [(&str, i64); 7] = [
    ("XXBT", 50),
    ("XETH", 500),
    ("ZUSD", 5_000_000),
    ("ZEUR", 3_000_000),
    ("SOL", 20_000),
    ("DOT", 200_000),
    ("USDT", 2_000_000),
];

/// Earn balances and the asset they earn in.
const EARN: [(&str, &str); 3] = [("DOT.S", "staking"), ("ETH.F", "earn"), ("USDT.B", "earn")];

/// An object served in an offset-paged history: its id (the key Kraken puts it under), its
/// time in µs, and the object itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub time_us: i64,
    pub raw: Value,
}

/// An order with both of its times (µs); `close_us` is `None` while it is open.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEntry {
    pub id: String,
    pub open_us: i64,
    pub close_us: Option<i64>,
    pub raw: Value,
}

/// The simulated account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    /// Ascending by time.
    pub trades: Vec<Entry>,
    pub closed_orders: Vec<OrderEntry>,
    pub open_orders: Vec<OrderEntry>,
    pub ledger: Vec<Entry>,
    pub deposits: Vec<Entry>,
    pub withdrawals: Vec<Entry>,
    /// Running balances at [`LEDGER_SCALE`], by native asset code.
    pub balances: BTreeMap<String, i128>,
    /// What open orders hold, at [`LEDGER_SCALE`].
    pub holds: BTreeMap<String, i128>,
    /// Per-pair trade id counters.
    trade_ids: BTreeMap<&'static str, u64>,
}

/// A ledger movement before it is numbered and booked.
struct Movement {
    time_us: i64,
    refid: String,
    kind: &'static str,
    subtype: &'static str,
    asset: String,
    /// Signed, at [`LEDGER_SCALE`].
    amount: i128,
    fee: i128,
}

impl Dataset {
    /// Builds the account of `config`; the same config always gives the same account.
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let mut rng = SimRng::new(config.seed).fork("kraken");
        let start_us = config.history_start_ms * 1000;
        let end_us = config.history_end_ms * 1000;
        let mut ds = Dataset {
            config: config.clone(),
            trades: Vec::new(),
            closed_orders: Vec::new(),
            open_orders: Vec::new(),
            ledger: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            balances: BTreeMap::new(),
            holds: BTreeMap::new(),
            trade_ids: BTreeMap::new(),
        };
        let mut moves = Vec::new();

        // Opening deposits, the first minutes of the history.
        for (i, (asset, units)) in OPENING.iter().enumerate() {
            let t = start_us + (i as i64 + 1) * MINUTE_MS * 1000;
            let amount = i128::from(*units) * 10i128.pow(8);
            ds.push_deposit(&mut rng, &mut moves, asset, amount, t, "Success", None);
        }
        // Trades, grouped in orders of one to three fills.
        let lo = start_us + DAY_MS * 1000;
        let hi = end_us - DAY_MS * 1000;
        while ds.trades.len() < config.trades {
            let t = rng.range_i64(lo, hi);
            let fills = 1 + rng.below(3) as usize;
            ds.push_order_with_fills(&mut rng, &mut moves, t, fills);
        }
        for _ in 0..config.orders_extra {
            let t = rng.range_i64(lo, hi);
            ds.push_unfilled_order(&mut rng, t);
        }
        for _ in 0..config.deposits {
            let t = rng.range_i64(lo, hi);
            let (asset, _) = *rng.pick(&OPENING);
            let amount = i128::from(rng.range_i64(1_000, 2_000_000)) * 10i128.pow(4);
            let amount = if asset == "XXBT" || asset == "XETH" {
                amount / 10_000
            } else {
                amount
            };
            let roll = rng.below(10);
            let (status, prop) = match roll {
                0 => ("Settled", None),
                1 => ("Failure", None),
                2 => ("Success", Some("onhold")),
                _ => ("Success", None),
            };
            ds.push_deposit(&mut rng, &mut moves, asset, amount, t, status, prop);
        }
        for _ in 0..config.withdrawals {
            let t = rng.range_i64(lo, hi);
            let (asset, _) = *rng.pick(&OPENING);
            let amount = i128::from(rng.range_i64(100, 200_000)) * 10i128.pow(4);
            let amount = if asset == "XXBT" || asset == "XETH" {
                amount / 10_000
            } else {
                amount
            };
            let roll = rng.below(10);
            let (status, prop) = match roll {
                0 => ("Pending", None),
                1 => ("Failure", Some("canceled")),
                2 => ("Failure", None),
                _ => ("Success", None),
            };
            ds.push_withdrawal(&mut rng, &mut moves, asset, amount, t, status, prop);
        }
        for _ in 0..config.rewards {
            let t = rng.range_i64(lo, hi);
            let (asset, kind) = *rng.pick(&EARN);
            let amount = i128::from(rng.range_i64(1, 5_000_000)) * 10i128.pow(2);
            moves.push(Movement {
                time_us: t,
                refid: kraken_id(&mut rng, 'S', 6),
                kind,
                subtype: "",
                asset: asset.to_owned(),
                amount,
                fee: 0,
            });
        }
        // KFEE, fee credits: an odd asset that must be stored like any other.
        moves.push(Movement {
            time_us: start_us + HOUR_MS * 1000,
            refid: kraken_id(&mut rng, 'A', 6),
            kind: "adjustment",
            subtype: "",
            asset: "KFEE".to_owned(),
            amount: 1_000 * 10i128.pow(LEDGER_SCALE),
            fee: 0,
        });
        for _ in 0..config.open_orders {
            let t = rng.range_i64(hi, end_us);
            ds.push_open_order(&mut rng, t);
        }

        ds.book(&mut rng, moves);
        ds.trades
            .sort_by(|a, b| (a.time_us, &a.id).cmp(&(b.time_us, &b.id)));
        ds.closed_orders
            .sort_by(|a, b| (a.close_us, &a.id).cmp(&(b.close_us, &b.id)));
        ds.deposits.sort_by_key(|e| e.time_us);
        ds.withdrawals.sort_by_key(|e| e.time_us);
        ds
    }

    /// Adds `n` filled orders (one trade each) at server time `now_us`, with their ledger
    /// entries; returns how many trades were added.
    pub fn append_trades(&mut self, n: usize, now_us: i64, rng: &mut SimRng) -> usize {
        let mut moves = Vec::new();
        let before = self.trades.len();
        for i in 0..n {
            // Microseconds apart, ending at now.
            let t = now_us - (n - i) as i64;
            self.push_order_with_fills(rng, &mut moves, t, 1);
        }
        self.book(rng, moves);
        self.trades
            .sort_by(|a, b| (a.time_us, &a.id).cmp(&(b.time_us, &b.id)));
        self.closed_orders
            .sort_by(|a, b| (a.close_us, &a.id).cmp(&(b.close_us, &b.id)));
        self.trades.len() - before
    }

    /// Numbers the movements in time order, books them on the balances and writes the ledger.
    fn book(&mut self, rng: &mut SimRng, mut moves: Vec<Movement>) {
        moves.sort_by(|a, b| (a.time_us, &a.refid).cmp(&(b.time_us, &b.refid)));
        for m in moves {
            let balance = self.balances.entry(m.asset.clone()).or_insert(0);
            *balance += m.amount - m.fee;
            // Kraken's ledger times carry four decimals.
            let time_us = m.time_us - m.time_us.rem_euclid(100);
            let raw = json!({
                "refid": m.refid,
                "time": seconds(time_us),
                "type": m.kind,
                "subtype": m.subtype,
                "aclass": "currency",
                "asset": m.asset,
                "amount": dec(m.amount, LEDGER_SCALE),
                "fee": dec(m.fee, LEDGER_SCALE),
                "balance": dec(*balance, LEDGER_SCALE),
            });
            self.ledger.push(Entry {
                id: kraken_id(rng, 'L', 6),
                time_us,
                raw,
            });
        }
        self.ledger
            .sort_by(|a, b| (a.time_us, &a.id).cmp(&(b.time_us, &b.id)));
    }

    fn next_trade_id(&mut self, pair: &'static str) -> u64 {
        let id = self.trade_ids.entry(pair).or_insert(40_000_000);
        *id += 1;
        *id
    }

    fn push_order_with_fills(
        &mut self,
        rng: &mut SimRng,
        moves: &mut Vec<Movement>,
        t: i64,
        fills: usize,
    ) {
        let p = rng.pick(&PAIRS).clone();
        let buy = rng.chance(0.5);
        let market = rng.chance(0.3);
        let order_id = kraken_id(rng, 'O', 6);
        let limit = price_at(self.config.seed, &p, t);
        let (mut vol_sum, mut cost_sum, mut fee_sum) = (0i128, 0i128, 0i128);
        let cost_scale = p.pair_decimals + 8;
        let mut time = t;
        let mut last_fill = t;
        for _ in 0..fills {
            let price = if market {
                price_at(self.config.seed, &p, time)
            } else {
                limit
            };
            let vol = i128::from(rng.range_i64(p.vol_range.0, p.vol_range.1));
            let cost = i128::from(price) * vol;
            let fee = cost * 26 / 10_000;
            let maker = !market && rng.chance(0.6);
            let txid = kraken_id(rng, 'T', 6);
            let trade_id = self.next_trade_id(p.name);
            let raw = json!({
                "ordertxid": order_id,
                "postxid": kraken_id(rng, 'T', 6),
                "pair": p.name,
                "time": seconds(time),
                "type": if buy { "buy" } else { "sell" },
                "ordertype": if market { "market" } else { "limit" },
                "price": dec(i128::from(price), p.pair_decimals),
                "cost": dec(cost, cost_scale),
                "fee": dec(fee, cost_scale),
                "vol": dec(vol, 8),
                "margin": dec(0, cost_scale),
                "leverage": "0",
                "misc": "",
                "trade_id": trade_id,
                "maker": maker,
            });
            self.trades.push(Entry {
                id: txid.clone(),
                time_us: time,
                raw,
            });
            let base_amount = rescale(vol, 8);
            let quote_amount = rescale(cost, cost_scale);
            let quote_fee = rescale(fee, cost_scale);
            let (b, q) = if buy {
                (base_amount, -quote_amount)
            } else {
                (-base_amount, quote_amount)
            };
            moves.push(Movement {
                time_us: time,
                refid: txid.clone(),
                kind: "trade",
                subtype: "",
                asset: p.base.to_owned(),
                amount: b,
                fee: 0,
            });
            moves.push(Movement {
                time_us: time,
                refid: txid,
                kind: "trade",
                subtype: "",
                asset: p.quote.to_owned(),
                amount: q,
                fee: quote_fee,
            });
            vol_sum += vol;
            cost_sum += cost;
            fee_sum += fee;
            last_fill = time;
            time += rng.range_i64(1_000, 30_000_000);
        }
        let open_us = t - rng.range_i64(1_000, 60_000_000);
        // Closed the microsecond its last fill was booked.
        let close_us = last_fill + 1;
        let average = cost_sum / vol_sum.max(1);
        let raw = order_raw(
            &p,
            OrderShape {
                status: "closed",
                buy,
                market,
                limit: i128::from(limit),
                vol: vol_sum,
                vol_exec: vol_sum,
                cost: cost_sum,
                fee: fee_sum,
                average,
                open_us,
                close_us: Some(close_us),
                reason: None,
            },
        );
        self.closed_orders.push(OrderEntry {
            id: order_id,
            open_us,
            close_us: Some(close_us),
            raw,
        });
    }

    fn push_unfilled_order(&mut self, rng: &mut SimRng, t: i64) {
        let p = rng.pick(&PAIRS).clone();
        let buy = rng.chance(0.5);
        let expired = rng.chance(0.25);
        let limit = price_at(self.config.seed, &p, t);
        let vol = i128::from(rng.range_i64(p.vol_range.0, p.vol_range.1));
        let close_us = t + rng.range_i64(1_000_000, 3 * DAY_MS * 1000);
        let raw = order_raw(
            &p,
            OrderShape {
                status: if expired { "expired" } else { "canceled" },
                buy,
                market: false,
                limit: i128::from(limit),
                vol,
                vol_exec: 0,
                cost: 0,
                fee: 0,
                average: 0,
                open_us: t,
                close_us: Some(close_us),
                reason: Some(if expired {
                    "Order expired"
                } else {
                    "User requested"
                }),
            },
        );
        self.closed_orders.push(OrderEntry {
            id: kraken_id(rng, 'O', 6),
            open_us: t,
            close_us: Some(close_us),
            raw,
        });
    }

    fn push_open_order(&mut self, rng: &mut SimRng, t: i64) {
        let p = rng.pick(&PAIRS).clone();
        let buy = rng.chance(0.5);
        let market_price = i128::from(price_at(self.config.seed, &p, t));
        // Far from the market: it rests.
        let limit = if buy {
            market_price * 8 / 10
        } else {
            market_price * 12 / 10
        };
        let vol = i128::from(rng.range_i64(p.vol_range.0, p.vol_range.1));
        let raw = order_raw(
            &p,
            OrderShape {
                status: "open",
                buy,
                market: false,
                limit,
                vol,
                vol_exec: 0,
                cost: 0,
                fee: 0,
                average: 0,
                open_us: t,
                close_us: None,
                reason: None,
            },
        );
        let (asset, held) = if buy {
            (p.quote, rescale(limit * vol, p.pair_decimals + 8))
        } else {
            (p.base, rescale(vol, 8))
        };
        *self.holds.entry(asset.to_owned()).or_insert(0) += held;
        self.open_orders.push(OrderEntry {
            id: kraken_id(rng, 'O', 6),
            open_us: t,
            close_us: None,
            raw,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn push_deposit(
        &mut self,
        rng: &mut SimRng,
        moves: &mut Vec<Movement>,
        asset: &str,
        amount_e8: i128,
        t: i64,
        status: &str,
        prop: Option<&str>,
    ) {
        let seconds_only = t - t.rem_euclid(1_000_000);
        let refid = kraken_id(rng, 'F', 6);
        let mut raw = json!({
            "method": method_of(asset),
            "aclass": "currency",
            "asset": asset,
            "refid": refid,
            "txid": hex_id(rng, 32),
            "info": address_of(rng, asset),
            "amount": dec(amount_e8, 8),
            "fee": dec(0, 8),
            "time": seconds_only / 1_000_000,
            "status": status,
        });
        if let Some(prop) = prop {
            raw["status-prop"] = json!(prop);
        }
        if status == "Success" {
            moves.push(Movement {
                time_us: seconds_only,
                refid: refid.clone(),
                kind: "deposit",
                subtype: "",
                asset: asset.to_owned(),
                amount: rescale(amount_e8, 8),
                fee: 0,
            });
        }
        self.deposits.push(Entry {
            id: refid,
            time_us: seconds_only,
            raw,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn push_withdrawal(
        &mut self,
        rng: &mut SimRng,
        moves: &mut Vec<Movement>,
        asset: &str,
        amount_e8: i128,
        t: i64,
        status: &str,
        prop: Option<&str>,
    ) {
        let seconds_only = t - t.rem_euclid(1_000_000);
        let refid = kraken_id(rng, 'A', 7);
        let fee = amount_e8 / 1_000;
        let mut raw = json!({
            "method": method_of(asset),
            "network": network_of(asset),
            "aclass": "currency",
            "asset": asset,
            "refid": refid,
            "txid": hex_id(rng, 32),
            "info": address_of(rng, asset),
            "amount": dec(amount_e8, 8),
            "fee": dec(fee, 8),
            "time": seconds_only / 1_000_000,
            "status": status,
            "key": format!("{} wallet", network_of(asset)),
        });
        if let Some(prop) = prop {
            raw["status-prop"] = json!(prop);
        }
        if status == "Success" || status == "Pending" {
            moves.push(Movement {
                time_us: seconds_only,
                refid: refid.clone(),
                kind: "withdrawal",
                subtype: "",
                asset: asset.to_owned(),
                amount: -rescale(amount_e8, 8),
                fee: rescale(fee, 8),
            });
        }
        self.withdrawals.push(Entry {
            id: refid,
            time_us: seconds_only,
            raw,
        });
    }

    /// Trades plus orders' and ledger counts, for logs.
    pub fn summary(&self) -> (usize, usize, usize) {
        (
            self.trades.len(),
            self.closed_orders.len() + self.open_orders.len(),
            self.ledger.len(),
        )
    }

    /// `BalanceEx`'s result: every asset the ledger touched, with what open orders hold.
    pub fn balance_ex(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (asset, balance) in &self.balances {
            let hold = self.holds.get(asset).copied().unwrap_or(0).min(*balance);
            out.insert(
                asset.clone(),
                json!({
                    "balance": dec(*balance, LEDGER_SCALE),
                    "hold_trade": dec(hold, LEDGER_SCALE),
                }),
            );
        }
        Value::Object(out)
    }

    /// The ground truth, as `/__sim/truth` serves it: every object keyed by its id.
    pub fn truth(&self) -> Value {
        let keyed = |entries: &[Entry]| -> Value {
            Value::Object(
                entries
                    .iter()
                    .map(|e| (e.id.clone(), e.raw.clone()))
                    .collect(),
            )
        };
        let orders: serde_json::Map<String, Value> = self
            .closed_orders
            .iter()
            .chain(&self.open_orders)
            .map(|o| (o.id.clone(), o.raw.clone()))
            .collect();
        json!({
            "balances": self.balance_ex(),
            "trades": keyed(&self.trades),
            "orders": orders,
            "ledger": keyed(&self.ledger),
            "deposits": keyed(&self.deposits),
            "withdrawals": keyed(&self.withdrawals),
        })
    }
}

struct OrderShape {
    status: &'static str,
    buy: bool,
    market: bool,
    limit: i128,
    vol: i128,
    vol_exec: i128,
    cost: i128,
    fee: i128,
    average: i128,
    open_us: i64,
    close_us: Option<i64>,
    reason: Option<&'static str>,
}

fn order_raw(p: &PairInfo, o: OrderShape) -> Value {
    let pd = p.pair_decimals;
    let side = if o.buy { "buy" } else { "sell" };
    let ordertype = if o.market { "market" } else { "limit" };
    let price = if o.market {
        "0".to_owned()
    } else {
        dec(o.limit, pd)
    };
    let order_text = if o.market {
        format!("{side} {} {} @ market", dec(o.vol, 8), p.altname)
    } else {
        format!("{side} {} {} @ limit {price}", dec(o.vol, 8), p.altname)
    };
    let mut raw = json!({
        "refid": null,
        "userref": 0,
        "status": o.status,
        "opentm": seconds(o.open_us),
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": p.altname,
            "type": side,
            "ordertype": ordertype,
            "price": price,
            "price2": "0",
            "leverage": "none",
            "order": order_text,
            "close": "",
        },
        "vol": dec(o.vol, 8),
        "vol_exec": dec(o.vol_exec, 8),
        "cost": dec(o.cost, pd + 8),
        "fee": dec(o.fee, pd + 8),
        "price": dec(o.average, pd),
        "stopprice": dec(0, pd),
        "limitprice": dec(0, pd),
        "misc": "",
        "oflags": "fciq",
        "reason": o.reason,
    });
    if let Some(close) = o.close_us {
        raw["closetm"] = json!(seconds(close));
    }
    raw
}

/// A price of `pair` at time `t` (µs), in units of `10^-pair_decimals`: the typical price
/// moved by up to ±10 %, the same for a seed, pair and minute.
pub fn price_at(seed: u64, p: &PairInfo, t_us: i64) -> i64 {
    let minute = t_us.div_euclid(MINUTE_MS * 1000);
    let h = hash_parts(&[seed, hash_str(p.name), minute as u64]);
    let swing = (mix(h) % 2001) as i64 - 1000; // -1000..=1000 per mille of 10 %
    (p.price_units * (10_000 + swing / 10) / 10_000).max(1)
}

/// Seconds with a fraction, from µs: `1700000000123456` → `1700000000.123456`.
pub fn seconds(t_us: i64) -> Value {
    json!(t_us as f64 / 1e6)
}

/// `mantissa × 10^-scale` as Kraken writes it: every decimal shown, sign first.
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

/// A mantissa at `scale` brought to [`LEDGER_SCALE`] (truncated when finer).
fn rescale(mantissa: i128, scale: u32) -> i128 {
    if scale <= LEDGER_SCALE {
        mantissa * 10i128.pow(LEDGER_SCALE - scale)
    } else {
        mantissa / 10i128.pow(scale - LEDGER_SCALE)
    }
}

/// A Kraken-style id: `prefix` and five more characters, a group of five, a group of `last`:
/// `TQKTUI-OVZQE-PWQGXB`.
fn kraken_id(rng: &mut SimRng, prefix: char, last: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut s = String::with_capacity(20);
    s.push(prefix);
    for (i, n) in [5usize, 5, last].into_iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        for _ in 0..n {
            s.push(ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char);
        }
    }
    s
}

fn hex_id(rng: &mut SimRng, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rng.below(256)))
        .collect()
}

fn method_of(asset: &str) -> &'static str {
    match asset {
        "XXBT" => "Bitcoin",
        "XETH" => "Ether (Hex)",
        "ZUSD" => "Bank Frick (SWIFT)",
        "ZEUR" => "SEPA (Instant)",
        "SOL" => "Solana",
        "DOT" => "Polkadot",
        "USDT" => "Tether USD (TRC20)",
        _ => "Other",
    }
}

fn network_of(asset: &str) -> &'static str {
    match asset {
        "XXBT" => "Bitcoin",
        "XETH" => "Ethereum",
        "SOL" => "Solana",
        "DOT" => "Polkadot",
        "USDT" => "Tron",
        _ => "Bank",
    }
}

fn address_of(rng: &mut SimRng, asset: &str) -> String {
    match asset {
        "ZUSD" | "ZEUR" => format!("IBAN ****{:04}", rng.below(10_000)),
        _ => format!("addr{}", hex_id(rng, 16)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_account_and_balances_are_ledger_sums() {
        let config = DatasetConfig::default();
        let a = Dataset::generate(&config);
        let b = Dataset::generate(&config);
        assert_eq!(a.truth(), b.truth());
        assert!(a.trades.len() >= config.trades);
        for (asset, balance) in &a.balances {
            assert!(*balance >= 0, "{asset} went negative: {balance}");
            let last = a
                .ledger
                .iter()
                .rev()
                .find(|e| e.raw["asset"] == asset.as_str())
                .unwrap();
            assert_eq!(last.raw["balance"], dec(*balance, LEDGER_SCALE));
        }
    }

    #[test]
    fn decimals_render_every_digit() {
        assert_eq!(dec(123, 2), "1.23");
        assert_eq!(dec(-5, 3), "-0.005");
        assert_eq!(dec(7, 0), "7");
        assert_eq!(seconds(1_700_000_000_123_456), json!(1_700_000_000.123456));
    }
}
