//! The simulated OKX account: generated from a seed around an anchor time, rendered as OKX's
//! JSON objects once, so that what is served and the ground truth are the same values.
//!
//! Fills, orders and bills are spread over the 85 days before the anchor, plus a few from
//! 95 to 150 days before it: OKX's history endpoints serve 3 months, so those are held but
//! never served (the truth counts them as unreachable). Algo orders likewise: done ones over
//! the 85 days before the anchor plus some beyond 3 months, pending ones in the last 10 days.
//! Deposits and withdrawals, crypto and fiat, go back 400 days (OKX documents no limit for
//! them). Ids grow with time, as OKX's do.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::prng::SimRng;
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// How far back OKX's fills, orders and bills history reaches (3 months).
pub const REACH_MS: i64 = 90 * DAY_MS;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DatasetConfig {
    pub seed: u64,
    /// The generation's "now": every record is before it.
    pub anchor_ms: i64,
    /// Fills within reach (about; orders hold one or two fills).
    pub fills: usize,
    /// Fills older than OKX's 3-month reach.
    pub old_fills: usize,
    /// Canceled orders without fills.
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Algo orders done (triggered, canceled or failed) within reach (about 10% more are
    /// beyond it).
    pub algo_orders: usize,
    /// Algo orders not yet triggered (`live`, `pause`).
    pub algo_pending: usize,
    pub fiat_deposits: usize,
    pub fiat_withdrawals: usize,
    /// `account/config` `acctLv`.
    pub acct_lv: String,
    /// `account/config` `perm`.
    pub perm: String,
    /// The key belongs to a sub-account: `mainUid` is another account's uid.
    pub sub_account: bool,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            anchor_ms: crate::time::real_now_ms(),
            fills: 450,
            old_fills: 30,
            orders_extra: 60,
            open_orders: 4,
            deposits: 150,
            withdrawals: 80,
            algo_orders: 160,
            algo_pending: 6,
            fiat_deposits: 40,
            fiat_withdrawals: 25,
            acct_lv: "2".into(),
            perm: "read_only,trade".into(),
            sub_account: false,
        }
    }
}

/// One instrument the account trades.
#[derive(Debug, Clone)]
pub struct Instrument {
    pub inst_type: &'static str,
    pub inst_id: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    /// A typical price, in units of 10^-`px_scale`.
    pub px: u64,
    pub px_scale: u32,
    /// Candles exist from this time on.
    pub listed_ms: i64,
}

/// `XYZ1` is an asset no one has heard of: it must be stored all the same.
pub const INSTRUMENTS: [Instrument; 8] = [
    inst(
        "SPOT",
        "BTC-USDT",
        "BTC",
        "USDT",
        600_000,
        1,
        1_514_764_800_000,
    ),
    inst(
        "SPOT",
        "ETH-USDT",
        "ETH",
        "USDT",
        300_000,
        2,
        1_514_764_800_000,
    ),
    inst(
        "SPOT",
        "SOL-USDT",
        "SOL",
        "USDT",
        15_000,
        2,
        1_609_459_200_000,
    ),
    inst(
        "SPOT",
        "ETH-BTC",
        "ETH",
        "BTC",
        52_000,
        6,
        1_514_764_800_000,
    ),
    inst(
        "SPOT",
        "OKB-USDT",
        "OKB",
        "USDT",
        4_500,
        2,
        1_546_300_800_000,
    ),
    inst(
        "SPOT",
        "XYZ1-USDT",
        "XYZ1",
        "USDT",
        1_234,
        4,
        1_735_689_600_000,
    ),
    inst(
        "SWAP",
        "BTC-USDT-SWAP",
        "BTC",
        "USDT",
        600_000,
        1,
        1_577_836_800_000,
    ),
    inst(
        "SWAP",
        "ETH-USDT-SWAP",
        "ETH",
        "USDT",
        300_000,
        2,
        1_577_836_800_000,
    ),
];

const fn inst(
    inst_type: &'static str,
    inst_id: &'static str,
    base: &'static str,
    quote: &'static str,
    px: u64,
    px_scale: u32,
    listed_ms: i64,
) -> Instrument {
    Instrument {
        inst_type,
        inst_id,
        base,
        quote,
        px,
        px_scale,
        listed_ms,
    }
}

/// A record as served: its sort key, its time and its OKX JSON object.
#[derive(Debug, Clone)]
pub struct Item {
    /// `billId`, `ordId` or `ts`: what OKX pages by.
    pub key: u64,
    pub ts: i64,
    pub inst_type: String,
    pub value: Value,
}

/// The whole account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    /// Newest last, each list sorted by key.
    pub fills: Vec<Item>,
    /// Completed orders (the archive).
    pub orders: Vec<Item>,
    pub open_orders: Vec<Item>,
    pub bills: Vec<Item>,
    /// The funding account's bills: deposits, withdrawals, transfers to trading.
    pub funding_bills: Vec<Item>,
    pub deposits: Vec<Item>,
    pub withdrawals: Vec<Item>,
    /// Algo orders that are done (`orders-algo-history`), keyed by `algoId`.
    pub algo_orders: Vec<Item>,
    /// Algo orders not yet triggered (`orders-algo-pending`), keyed by `algoId`.
    pub algo_pending: Vec<Item>,
    /// Fiat orders (`fiat/deposit-order-history`, `withdrawal-order-history`), keyed by
    /// `cTime`.
    pub fiat_deposits: Vec<Item>,
    pub fiat_withdrawals: Vec<Item>,
    pub trading_balance: Value,
    pub funding_balances: Vec<Value>,
    pub savings_balances: Vec<Value>,
    /// Active On-chain Earn orders (`finance/staking-defi/orders-active`), as served.
    pub staking_orders: Vec<Value>,
    pub uid: String,
    pub main_uid: String,
    next_bill_id: u64,
    next_ord_id: u64,
    trade_ids: BTreeMap<&'static str, u64>,
    running: BTreeMap<&'static str, i128>,
}

/// Renders `mantissa × 10^-scale` with every digit.
pub fn dec(mantissa: i128, scale: u32) -> String {
    let neg = mantissa < 0;
    let digits = mantissa.unsigned_abs().to_string();
    let s = if scale == 0 {
        digits
    } else {
        let width = scale as usize + 1;
        let padded = format!("{digits:0>width$}");
        let (int, frac) = padded.split_at(padded.len() - scale as usize);
        format!("{int}.{frac}")
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

/// `a` with the fields of `b` added (objects built in two `json!` halves: one is too deep
/// for the macro's recursion limit).
fn merge(mut a: Value, b: Value) -> Value {
    if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
        a.extend(b);
    }
    a
}

/// Balances and bill amounts use 8 decimals.
const BAL_SCALE: u32 = 8;

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let anchor = config.anchor_ms;
        let mut ds = Dataset {
            config: config.clone(),
            fills: Vec::new(),
            orders: Vec::new(),
            open_orders: Vec::new(),
            bills: Vec::new(),
            funding_bills: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            algo_orders: Vec::new(),
            algo_pending: Vec::new(),
            fiat_deposits: Vec::new(),
            fiat_withdrawals: Vec::new(),
            trading_balance: Value::Null,
            funding_balances: Vec::new(),
            savings_balances: Vec::new(),
            staking_orders: Vec::new(),
            uid: format!(
                "{}",
                400_000_000_000_000u64 + root.clone().fork("uid").below(1 << 40)
            ),
            main_uid: String::new(),
            next_bill_id: 600_000_000_000_000_000,
            next_ord_id: 700_000_000_000_000_000,
            trade_ids: BTreeMap::new(),
            running: BTreeMap::new(),
        };
        ds.main_uid = if config.sub_account {
            format!(
                "{}",
                300_000_000_000_000u64 + root.clone().fork("main-uid").below(1 << 40)
            )
        } else {
            ds.uid.clone()
        };

        // Order times: old ones beyond reach, recent ones within it; then in time order.
        let mut rng = root.fork("orders");
        let mut events: Vec<(i64, u8)> = Vec::new();
        let per_order = 1.5;
        let old_orders = (config.old_fills as f64 / per_order).ceil() as usize;
        let new_orders = (config.fills as f64 / per_order).ceil() as usize;
        for _ in 0..old_orders {
            events.push((
                rng.range_i64(anchor - 150 * DAY_MS, anchor - 95 * DAY_MS),
                0,
            ));
        }
        for _ in 0..new_orders {
            events.push((
                rng.range_i64(anchor - 85 * DAY_MS, anchor - 10 * MINUTE_MS),
                0,
            ));
        }
        for _ in 0..config.orders_extra {
            events.push((
                rng.range_i64(anchor - 85 * DAY_MS, anchor - 10 * MINUTE_MS),
                1,
            ));
        }
        for _ in 0..config.open_orders {
            events.push((
                rng.range_i64(anchor - 10 * DAY_MS, anchor - 10 * MINUTE_MS),
                2,
            ));
        }
        events.sort();
        for (t, kind) in events {
            match kind {
                0 => ds.add_filled_order(&mut rng, t),
                1 => ds.add_unfilled_order(&mut rng, t, "canceled"),
                _ => ds.add_unfilled_order(&mut rng, t, "live"),
            }
        }

        let mut rng = root.fork("transfers");
        ds.gen_deposits(&mut rng);
        ds.gen_withdrawals(&mut rng);
        ds.gen_funding_bills(&mut root.fork("funding-bills"));
        ds.gen_balances(&mut root.fork("balances"));
        ds.gen_staking_orders(&mut root.fork("staking"));
        ds.gen_algo_orders(&mut root.fork("algo"));
        ds.gen_fiat(&mut root.fork("fiat"));
        ds
    }

    fn bill_id(&mut self) -> u64 {
        self.next_bill_id += 1 + (self.next_bill_id % 7);
        self.next_bill_id
    }

    fn ord_id(&mut self) -> u64 {
        self.next_ord_id += 3 + (self.next_ord_id % 11);
        self.next_ord_id
    }

    /// An order with one or two fills at its price, and the bills they make.
    fn add_filled_order(&mut self, rng: &mut SimRng, t: i64) {
        let ins = rng.pick(&INSTRUMENTS).clone();
        let ord_id = self.ord_id();
        let side = if rng.chance(0.5) { "buy" } else { "sell" };
        let px_m = (ins.px as i128) * (900 + rng.below(200) as i128) / 1000;
        let px = dec(px_m.max(1), ins.px_scale);
        let n_fills = 1 + rng.below(2) as usize;
        let sz_scale = if ins.inst_type == "SWAP" { 0 } else { 4 };
        let mut acc: i128 = 0;
        let mut fee_total: i128 = 0;
        let mut last_ts = t;
        let fee_ccy = match (ins.inst_type, side) {
            ("SWAP", _) => ins.quote,
            (_, "buy") => ins.base,
            _ => ins.quote,
        };
        for k in 0..n_fills {
            let ts = t + 5 + k as i64 * (1 + rng.below(400) as i64);
            last_ts = ts;
            let sz_m = 1 + rng.below(if sz_scale == 0 { 20 } else { 50_000 }) as i128;
            acc += sz_m;
            let fee_m = -(1 + rng.below(2_000_000) as i128);
            fee_total += fee_m;
            let trade_id = {
                let c = self.trade_ids.entry(ins.inst_id).or_insert(100_000);
                *c += 1 + rng.below(50);
                *c
            };
            let exec = if rng.chance(0.4) { "M" } else { "T" };
            let bill_id = self.bill_id();
            let fill = merge(
                json!({
                "instType": ins.inst_type, "instId": ins.inst_id, "tradeId": trade_id.to_string(),
                "ordId": ord_id.to_string(), "clOrdId": "", "billId": bill_id.to_string(),
                "subType": if side == "buy" { "1" } else { "2" }, "tag": "",
                "fillPx": px, "fillSz": dec(sz_m, sz_scale), "fillIdxPx": "", "fillPnl": "0",
                "fillPxVol": "", "fillPxUsd": "", "fillMarkVol": "", "fillFwdPx": "", "fillMarkPx": "",
                }),
                json!({
                    "side": side, "posSide": if ins.inst_type == "SWAP" { "net" } else { "" },
                    "execType": exec, "feeCcy": fee_ccy, "fee": dec(fee_m, 8),
                    "ts": ts.to_string(), "fillTime": ts.to_string(), "feeRate": "-0.001",
                }),
            );
            self.fills.push(Item {
                key: bill_id,
                ts,
                inst_type: ins.inst_type.into(),
                value: fill,
            });
            // The fill's own bill, on the currency it moved, then the other side's.
            let first = if side == "buy" { ins.base } else { ins.quote };
            let chg = (1 + rng.below(90_000_000) as i128) * if side == "buy" { 1 } else { -1 };
            self.push_bill(bill_id, ts, first, chg, "2", &ins, ord_id, trade_id);
            if ins.inst_type == "SPOT" {
                let other = if side == "buy" { ins.quote } else { ins.base };
                let id = self.bill_id();
                self.push_bill(id, ts, other, -chg, "2", &ins, ord_id, trade_id);
            }
        }
        let order = merge(
            json!({
            "instType": ins.inst_type, "instId": ins.inst_id, "ccy": "", "ordId": ord_id.to_string(),
            "clOrdId": "", "tag": "", "px": px, "pxUsd": "", "pxVol": "", "pxType": "",
            "sz": dec(acc, sz_scale), "pnl": "0", "ordType": "limit", "side": side,
            "posSide": if ins.inst_type == "SWAP" { "net" } else { "" },
            "tdMode": if ins.inst_type == "SWAP" { "cross" } else { "cash" },
            "accFillSz": dec(acc, sz_scale), "fillPx": px, "tradeId": "", "fillSz": "",
            "fillTime": last_ts.to_string(), "avgPx": px, "state": "filled", "lever": "",
            }),
            json!({
                "attachAlgoClOrdId": "", "tpTriggerPx": "", "tpTriggerPxType": "", "tpOrdPx": "",
                "slTriggerPx": "", "slTriggerPxType": "", "slOrdPx": "", "stpId": "", "stpMode": "",
                "feeCcy": fee_ccy, "fee": dec(fee_total, 8), "rebateCcy": fee_ccy, "rebate": "0",
                "source": "", "category": "normal", "reduceOnly": "false", "cancelSource": "",
                "quickMgnType": "", "algoClOrdId": "", "algoId": "",
                "cTime": t.to_string(), "uTime": (last_ts + 10).to_string(),
            }),
        );
        self.orders.push(Item {
            key: ord_id,
            ts: t,
            inst_type: ins.inst_type.into(),
            value: order,
        });
    }

    /// A canceled order without fills, or a live one (served by `orders-pending` only).
    fn add_unfilled_order(&mut self, rng: &mut SimRng, t: i64, state: &str) {
        let ins = rng.pick(&INSTRUMENTS).clone();
        let ord_id = self.ord_id();
        let side = if rng.chance(0.5) { "buy" } else { "sell" };
        let px = dec(
            (ins.px as i128) * (800 + rng.below(150) as i128) / 1000,
            ins.px_scale,
        );
        let sz_scale = if ins.inst_type == "SWAP" { 0 } else { 4 };
        let sz = dec(1 + rng.below(10_000) as i128, sz_scale);
        let market = state == "canceled" && rng.chance(0.2);
        let order = merge(
            json!({
            "instType": ins.inst_type, "instId": ins.inst_id, "ccy": "", "ordId": ord_id.to_string(),
            "clOrdId": format!("e2e{ord_id}"), "tag": "", "px": if market { String::new() } else { px },
            "pxUsd": "", "pxVol": "", "pxType": "", "sz": sz, "pnl": "0",
            "ordType": if market { "market" } else { "post_only" }, "side": side,
            "posSide": if ins.inst_type == "SWAP" { "net" } else { "" },
            "tdMode": if ins.inst_type == "SWAP" { "cross" } else { "cash" },
            }),
            json!({
                "accFillSz": "0", "fillPx": "", "tradeId": "", "fillSz": "0", "fillTime": "",
                "avgPx": "", "state": state, "lever": "", "feeCcy": ins.quote, "fee": "0",
                "rebateCcy": ins.quote, "rebate": "0", "source": "", "category": "normal",
                "reduceOnly": "false", "cancelSource": if state == "canceled" { "1" } else { "" },
                "cTime": t.to_string(), "uTime": (t + 1000).to_string(),
            }),
        );
        let item = Item {
            key: ord_id,
            ts: t,
            inst_type: ins.inst_type.into(),
            value: order,
        };
        if state == "live" {
            self.open_orders.push(item);
        } else {
            self.orders.push(item);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_bill(
        &mut self,
        bill_id: u64,
        ts: i64,
        ccy: &'static str,
        chg: i128,
        bill_type: &str,
        ins: &Instrument,
        ord_id: u64,
        trade_id: u64,
    ) {
        let bal = self.running.entry(ccy).or_insert(1_000_000 * 100_000_000);
        *bal += chg;
        let bill = merge(
            json!({
            "instType": ins.inst_type, "billId": bill_id.to_string(),
            "subType": if chg > 0 { "1" } else { "2" }, "type": bill_type,
            "ts": ts.to_string(), "balChg": dec(chg, BAL_SCALE), "posBalChg": "0",
            "bal": dec(*bal, BAL_SCALE), "posBal": "0", "sz": "", "px": "", "ccy": ccy,
            "pnl": "0", "fee": "0", "mgnMode": if ins.inst_type == "SWAP" { "cross" } else { "cash" },
            }),
            json!({
                "instId": ins.inst_id, "ordId": ord_id.to_string(), "execType": "T",
                "from": "", "to": "", "notes": "", "interest": "0", "tag": "",
                "fillTime": ts.to_string(), "tradeId": trade_id.to_string(), "clOrdId": "",
                "fillIdxPx": "", "fillMarkPx": "", "fillPxVol": "", "fillPxUsd": "",
                "fillMarkVol": "", "fillFwdPx": "",
            }),
        );
        self.bills.push(Item {
            key: bill_id,
            ts,
            inst_type: ins.inst_type.into(),
            value: bill,
        });
    }

    fn gen_deposits(&mut self, rng: &mut SimRng) {
        let anchor = self.config.anchor_ms;
        let mut times: Vec<i64> = (0..self.config.deposits)
            .map(|_| rng.range_i64(anchor - 400 * DAY_MS, anchor - HOUR_MS))
            .collect();
        times.sort();
        let mut dep_id = 80_000_000u64;
        let n = times.len();
        for (i, ts) in times.into_iter().enumerate() {
            dep_id += 1 + rng.below(1000);
            let (ccy, chain) = *rng.pick(&[
                ("BTC", "BTC-Bitcoin"),
                ("ETH", "ETH-ERC20"),
                ("USDT", "USDT-TRC20"),
                ("SOL", "SOL-Solana"),
                ("XYZ1", "XYZ1-XYZ"),
            ]);
            // The newest two are still confirming; one old one hit a blacklisted address.
            let state = if i + 2 >= n {
                "1"
            } else if i == n / 3 {
                "11"
            } else {
                "2"
            };
            let dep = json!({
                "actualDepBlkConfirm": "12", "amt": dec(1 + rng.below(5_000_000_000) as i128, 8),
                "areaCodeFrom": "", "ccy": ccy, "chain": chain, "depId": dep_id.to_string(),
                "from": "", "fromWdId": "", "state": state,
                "to": format!("addr{:016x}", rng.next_u64()), "ts": ts.to_string(),
                "txId": format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
            });
            self.deposits.push(Item {
                key: ts as u64,
                ts,
                inst_type: String::new(),
                value: dep,
            });
        }
    }

    fn gen_withdrawals(&mut self, rng: &mut SimRng) {
        let anchor = self.config.anchor_ms;
        let mut times: Vec<i64> = (0..self.config.withdrawals)
            .map(|_| rng.range_i64(anchor - 400 * DAY_MS, anchor - HOUR_MS))
            .collect();
        times.sort();
        let mut wd_id = 90_000_000u64;
        let n = times.len();
        for (i, ts) in times.into_iter().enumerate() {
            wd_id += 1 + rng.below(1000);
            let (ccy, chain) = *rng.pick(&[
                ("BTC", "BTC-Bitcoin"),
                ("USDT", "USDT-TRC20"),
                ("ETH", "ETH-ERC20"),
                ("XRP", "XRP-Ripple"),
            ]);
            let state = if i + 1 == n {
                "1"
            } else if i % 17 == 5 {
                "-2"
            } else if i % 23 == 7 {
                "-1"
            } else {
                "2"
            };
            let wd = json!({
                "chain": chain, "fee": dec(1 + rng.below(100_000) as i128, 8), "feeCcy": ccy,
                "ccy": ccy, "clientId": "", "amt": dec(1 + rng.below(2_000_000_000) as i128, 8),
                "txId": if state == "2" { format!("{:016x}", rng.next_u64()) } else { String::new() },
                "from": "", "areaCodeFrom": "", "to": format!("dest{:012x}", rng.next_u64()),
                "areaCodeTo": "", "tag": if ccy == "XRP" { "1234567" } else { "" }, "pmtId": "",
                "memo": "", "addrEx": null, "state": state, "ts": ts.to_string(),
                "nonTradableAsset": false, "wdId": wd_id.to_string(),
            });
            self.withdrawals.push(Item {
                key: ts as u64,
                ts,
                inst_type: String::new(),
                value: wd,
            });
        }
    }

    /// One bill per credited deposit and completed withdrawal, and some transfers to the
    /// trading account; ids in time order, running balances per currency.
    fn gen_funding_bills(&mut self, rng: &mut SimRng) {
        let mut events: Vec<(i64, &'static str, String, i128)> = Vec::new();
        let amount = |v: &Value, field: &str| -> i128 {
            let text = v[field].as_str().unwrap_or("0").replace('.', "");
            text.parse().unwrap_or(0)
        };
        for d in &self.deposits {
            if d.value["state"] == "2" {
                let ccy = d.value["ccy"].as_str().unwrap_or("").to_owned();
                events.push((d.ts, "1", ccy, amount(&d.value, "amt")));
            }
        }
        for w in &self.withdrawals {
            if w.value["state"] == "2" {
                let ccy = w.value["ccy"].as_str().unwrap_or("").to_owned();
                events.push((w.ts, "2", ccy, -amount(&w.value, "amt")));
            }
        }
        let anchor = self.config.anchor_ms;
        for _ in 0..20 {
            let ts = rng.range_i64(anchor - 300 * DAY_MS, anchor - HOUR_MS);
            let ccy = (*rng.pick(&["USDT", "BTC"])).to_owned();
            events.push((ts, "131", ccy, -(1 + rng.below(1_000_000) as i128)));
        }
        events.sort();
        let mut bal: BTreeMap<String, i128> = BTreeMap::new();
        let mut bill_id = 550_000_000_000_000_000u64;
        for (ts, bill_type, ccy, chg) in events {
            bill_id += 1 + rng.below(1000);
            let b = bal.entry(ccy.clone()).or_insert(500_000 * 100_000_000);
            *b += chg;
            let bill = json!({
                "billId": bill_id.to_string(), "ccy": ccy, "clientId": "",
                "balChg": dec(chg, BAL_SCALE), "bal": dec(*b, BAL_SCALE), "type": bill_type,
                "notes": "", "ts": ts.to_string(),
            });
            self.funding_bills.push(Item {
                key: bill_id,
                ts,
                inst_type: String::new(),
                value: bill,
            });
        }
    }

    fn gen_balances(&mut self, rng: &mut SimRng) {
        let u_time = self.config.anchor_ms.to_string();
        let details: Vec<Value> = ["BTC", "ETH", "USDT", "SOL", "OKB", "XYZ1"]
            .iter()
            .map(|ccy| {
                let avail = rng.below(10_000_000_000) as i128;
                let frozen = if rng.chance(0.5) {
                    rng.below(100_000_000) as i128
                } else {
                    0
                };
                let cash = dec(avail + frozen, 8);
                merge(
                    json!({
                    "ccy": ccy, "eq": cash, "cashBal": cash, "uTime": u_time,
                    "isoEq": "0", "availEq": dec(avail, 8), "disEq": cash,
                    "availBal": dec(avail, 8), "frozenBal": dec(frozen, 8),
                    "ordFrozen": dec(frozen, 8), "liab": "0", "upl": "0", "uplLiab": "0",
                    }),
                    json!({
                        "crossLiab": "0", "isoLiab": "0", "mgnRatio": "", "interest": "0",
                        "twap": "0", "maxLoan": "0", "eqUsd": "0", "notionalLever": "0",
                        "stgyEq": "0", "isoUpl": "0", "spotInUseAmt": "",
                    }),
                )
            })
            .collect();
        self.trading_balance = json!({
            "adjEq": "", "borrowFroz": "", "imr": "", "isoEq": "0", "mgnRatio": "",
            "mmr": "", "notionalUsd": "", "ordFroz": "", "totalEq": "0", "uTime": u_time,
            "upl": "0", "details": details,
        });
        self.funding_balances = ["BTC", "USDT", "ETH", "DOGE"]
            .iter()
            .map(|ccy| {
                let avail = rng.below(1_000_000_000) as i128;
                let frozen = if *ccy == "USDT" { 12_345_000 } else { 0 };
                json!({
                    "ccy": ccy, "bal": dec(avail + frozen, 8), "availBal": dec(avail, 8),
                    "frozenBal": dec(frozen, 8),
                })
            })
            .collect();
        self.savings_balances = ["USDT", "BTC"]
            .iter()
            .map(|ccy| {
                json!({
                    "ccy": ccy, "amt": dec(1 + rng.below(500_000_000_000) as i128, 8),
                    "earnings": dec(rng.below(10_000_000) as i128, 8), "rate": "0.01",
                    "loanAmt": "0", "pendingAmt": "0", "redemptAmt": "",
                })
            })
            .collect();
    }

    /// Active On-chain Earn orders: two DOT staking orders (summed into one balance), an ETH
    /// staking order and a USDT DeFi order, in the states OKX documents for active orders
    /// (`8` pending, `13` cancelling, `9` on-chain, `1` earning, `2` redeeming).
    fn gen_staking_orders(&mut self, rng: &mut SimRng) {
        let anchor = self.config.anchor_ms;
        let products = [
            ("DOT", "101", "Polkadot", "staking", "0.1014", 8),
            ("DOT", "101", "Polkadot", "staking", "0.1014", 8),
            ("ETH", "102", "Lido", "staking", "0.0311", 12),
            ("USDT", "4005", "Compound V3", "defi", "0.0474", 6),
        ];
        let mut ord_id = 2_205_764_866_869_846_016u64;
        for (ccy, product, protocol, protocol_type, apy, scale) in products {
            ord_id += 1 + rng.below(1_000_000);
            let amt = dec(1 + rng.below(50_000_000_000) as i128, scale);
            let earned = dec(rng.below(100_000_000) as i128, scale);
            let purchased = rng.range_i64(anchor - 200 * DAY_MS, anchor - HOUR_MS);
            let state = *rng.pick(&["1", "1", "1", "2", "8", "9", "13"]);
            self.staking_orders.push(json!({
                "ccy": ccy, "ordId": ord_id.to_string(), "productId": product,
                "state": state, "protocol": protocol, "protocolType": protocol_type,
                "term": "0", "apy": apy,
                "investData": [{ "ccy": ccy, "amt": amt }],
                "earningData": [{ "ccy": ccy, "earningType": "0", "earnings": earned }],
                "purchasedTime": purchased.to_string(), "tag": "", "estSettlementTime": "",
                "cancelRedemptionDeadline": "", "fastRedemptionData": [],
            }));
        }
    }

    /// Algo orders of every documented type, in time order with growing `algoId`s: done ones
    /// (`effective`, `canceled`, `order_failed`) within reach and beyond it, and pending ones
    /// (`live`, `pause`) in the last 10 days. `chase` orders are swaps only, as OKX allows.
    /// No order is `partially_failed`: OKX's `state` filter cannot ask for that state.
    fn gen_algo_orders(&mut self, rng: &mut SimRng) {
        let anchor = self.config.anchor_ms;
        let mut events: Vec<(i64, bool)> = Vec::new();
        for _ in 0..self.config.algo_orders {
            events.push((
                rng.range_i64(anchor - 85 * DAY_MS, anchor - 10 * MINUTE_MS),
                false,
            ));
        }
        for _ in 0..self.config.algo_orders.div_ceil(10) {
            events.push((
                rng.range_i64(anchor - 150 * DAY_MS, anchor - 95 * DAY_MS),
                false,
            ));
        }
        for _ in 0..self.config.algo_pending {
            events.push((
                rng.range_i64(anchor - 10 * DAY_MS, anchor - 10 * MINUTE_MS),
                true,
            ));
        }
        events.sort();
        let mut algo_id = 1_880_000_000_000_000_000u64;
        let mut ord_id = 1_884_000_000_000_000_000u64;
        for (t, pending) in events {
            algo_id += 1 + rng.below(5_000_000);
            let ins = rng.pick(&INSTRUMENTS).clone();
            let mut ord_type = *rng.pick(&[
                "conditional",
                "oco",
                "trigger",
                "move_order_stop",
                "iceberg",
                "twap",
                "chase",
            ]);
            if ord_type == "chase" && ins.inst_type != "SWAP" {
                ord_type = "trigger";
            }
            let state = if pending {
                *rng.pick(&["live", "live", "pause"])
            } else {
                *rng.pick(&[
                    "effective",
                    "effective",
                    "canceled",
                    "canceled",
                    "order_failed",
                ])
            };
            let side = if rng.chance(0.5) { "buy" } else { "sell" };
            let px = |rng: &mut SimRng, lo: i128, span: u64| {
                dec(
                    (ins.px as i128) * (lo + rng.below(span) as i128) / 1000,
                    ins.px_scale,
                )
            };
            let sz_scale = if ins.inst_type == "SWAP" { 0 } else { 4 };
            let sz = dec(
                1 + rng.below(if sz_scale == 0 { 50 } else { 90_000 }) as i128,
                sz_scale,
            );
            let e = |v: &str, on: bool| if on { v.to_owned() } else { String::new() };
            let tpsl = matches!(ord_type, "conditional" | "oco");
            let trigger = ord_type == "trigger";
            let trailing = ord_type == "move_order_stop";
            let split = matches!(ord_type, "iceberg" | "twap");
            let chase = ord_type == "chase";
            let tp_trigger = px(rng, 1050, 100);
            let sl_trigger = px(rng, 850, 100);
            let trigger_px = px(rng, 900, 200);
            let ord_px = if rng.chance(0.3) {
                "-1".to_owned()
            } else {
                px(rng, 900, 200)
            };
            let px_limit = px(rng, 950, 100);
            let placed = state == "effective";
            let u_time = t + 1000 + rng.below(3_600_000) as i64;
            let placed_id = if placed {
                ord_id += 1 + rng.below(1000);
                vec![ord_id.to_string()]
            } else {
                Vec::new()
            };
            let order = merge(
                json!({
                "instType": ins.inst_type, "instId": ins.inst_id,
                "ccy": "", "ordId": placed_id.first().cloned().unwrap_or_default(),
                "ordIdList": placed_id, "algoId": algo_id.to_string(), "clOrdId": "",
                "sz": sz, "closeFraction": "", "ordType": ord_type, "side": side,
                "posSide": if ins.inst_type == "SWAP" { "net" } else { "" },
                "tdMode": if ins.inst_type == "SWAP" { "cross" } else { "cash" },
                "tgtCcy": "", "state": state, "lever": "",
                "tpTriggerPx": e(&tp_trigger, tpsl), "tpTriggerPxType": e("last", tpsl),
                "tpOrdPx": e("-1", tpsl), "slTriggerPx": e(&sl_trigger, tpsl && ord_type == "oco"),
                "slTriggerPxType": e("last", tpsl && ord_type == "oco"),
                "slOrdPx": e("-1", tpsl && ord_type == "oco"),
                "triggerPx": e(&trigger_px, trigger), "triggerPxType": e("last", trigger),
                "ordPx": e(&ord_px, trigger),
                }),
                json!({
                    "actualSz": e(&sz, placed), "actualPx": "", "tag": "",
                    "actualSide": e(if ord_type == "oco" { "tp" } else { "sl" }, placed && tpsl),
                    "triggerTime": e(&u_time.to_string(), placed || state == "order_failed"),
                    "pxVar": e("0.0005", split), "pxSpread": "", "szLimit": e("0.1", split),
                    "pxLimit": e(&px_limit, split), "timeInterval": e("60", ord_type == "twap"),
                    "callbackRatio": e("0.05", trailing), "callbackSpread": "",
                    "activePx": e(&trigger_px, trailing), "moveTriggerPx": "",
                    "reduceOnly": "false", "quickMgnType": "", "last": px(rng, 950, 100),
                    "failCode": e("51008", state == "order_failed"), "algoClOrdId": "",
                    "amendPxOnTriggerType": "0", "attachAlgoOrds": [],
                    "linkedOrd": { "ordId": "" }, "isTradeBorrowMode": "",
                    "chaseType": e("distance", chase), "chaseVal": e("0.1", chase),
                    "maxChaseType": "", "maxChaseVal": "", "tradeQuoteCcy": "",
                    "cTime": t.to_string(),
                    "uTime": if pending { t.to_string() } else { u_time.to_string() },
                }),
            );
            let item = Item {
                key: algo_id,
                ts: t,
                inst_type: ins.inst_type.into(),
                value: order,
            };
            if pending {
                self.algo_pending.push(item);
            } else {
                self.algo_orders.push(item);
            }
        }
    }

    /// Fiat deposits and withdrawals over 400 days (TRY by bank, BRL by PIX, EUR by SEPA), in
    /// every documented state; the newest of each list still in progress.
    fn gen_fiat(&mut self, rng: &mut SimRng) {
        let anchor = self.config.anchor_ms;
        for deposits in [true, false] {
            let n = if deposits {
                self.config.fiat_deposits
            } else {
                self.config.fiat_withdrawals
            };
            let mut times: Vec<i64> = (0..n)
                .map(|_| rng.range_i64(anchor - 400 * DAY_MS, anchor - HOUR_MS))
                .collect();
            times.sort();
            let mut ord_id = if deposits {
                24_041_201_450_000_000u64
            } else {
                24_041_201_460_000_000u64
            };
            let mut items = Vec::new();
            for (i, ts) in times.into_iter().enumerate() {
                ord_id += 1 + rng.below(100_000);
                let (ccy, method) =
                    *rng.pick(&[("TRY", "TR_BANKS"), ("BRL", "PIX"), ("EUR", "SEPA")]);
                let state = if i + 1 == n {
                    *rng.pick(&["pending", "inqueue", "processing"])
                } else if i % 11 == 4 {
                    "failed"
                } else if i % 13 == 6 {
                    "canceled"
                } else {
                    "completed"
                };
                let fee = if deposits {
                    0
                } else {
                    1 + rng.below(500) as i128
                };
                items.push(Item {
                    key: ts as u64,
                    ts,
                    inst_type: String::new(),
                    value: json!({
                        "cTime": ts.to_string(),
                        "uTime": (ts + rng.below(600_000) as i64).to_string(),
                        "ordId": format!("0{ord_id}"), "paymentMethod": method,
                        "paymentAcctId": (1 + rng.below(30)).to_string(),
                        "amt": dec(100 + rng.below(5_000_000) as i128, 2),
                        "fee": dec(fee, 2), "ccy": ccy, "state": state,
                        "clientId": if deposits { String::new() } else { format!("{:032x}", rng.next_u64()) },
                    }),
                });
            }
            if deposits {
                self.fiat_deposits = items;
            } else {
                self.fiat_withdrawals = items;
            }
        }
    }

    /// The `n` oldest pending algo orders trigger at `now`: they leave the pending list and
    /// are served by the history as `effective`, under the same `algoId`.
    pub fn trigger_algo_orders(&mut self, n: usize, now: i64) -> usize {
        let n = n.min(self.algo_pending.len());
        for mut item in self.algo_pending.drain(..n).collect::<Vec<_>>() {
            item.value["state"] = json!("effective");
            item.value["uTime"] = json!(now.to_string());
            item.value["triggerTime"] = json!(now.to_string());
            item.value["actualSz"] = item.value["sz"].clone();
            self.algo_orders.push(item);
        }
        self.algo_orders.sort_by_key(|i| i.key);
        n
    }

    /// Adds `n` filled orders (with their fills and bills) at `now`: newer than everything.
    pub fn append_orders(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        let last = self.fills.iter().map(|f| f.ts).max().unwrap_or(0);
        let mut t = now.max(last + 1000);
        for _ in 0..n {
            self.add_filled_order(rng, t);
            t += 1000;
        }
        n
    }

    /// The ground truth at `now`: every record OKX would serve, by list, as served.
    pub fn truth(&self, now: i64) -> Value {
        let reach = |items: &[Item]| -> Vec<Value> {
            items
                .iter()
                .filter(|i| i.ts >= now - REACH_MS)
                .map(|i| i.value.clone())
                .collect()
        };
        let beyond = |items: &[Item]| items.iter().filter(|i| i.ts < now - REACH_MS).count();
        let mut orders = reach(&self.orders);
        orders.extend(self.open_orders.iter().map(|i| i.value.clone()));
        let mut algo_orders = reach(&self.algo_orders);
        algo_orders.extend(self.algo_pending.iter().map(|i| i.value.clone()));
        let all = |items: &[Item]| items.iter().map(|i| i.value.clone()).collect::<Vec<_>>();
        json!({
            "uid": self.uid,
            "fills": reach(&self.fills),
            "orders": orders,
            "algo_orders": algo_orders,
            "fiat_deposits": all(&self.fiat_deposits),
            "fiat_withdrawals": all(&self.fiat_withdrawals),
            "bills": reach(&self.bills),
            "funding_bills": self.funding_bills.iter().map(|i| i.value.clone()).collect::<Vec<_>>(),
            "deposits": self.deposits.iter().map(|i| i.value.clone()).collect::<Vec<_>>(),
            "withdrawals": self.withdrawals.iter().map(|i| i.value.clone()).collect::<Vec<_>>(),
            "balances": {
                "trading": self.trading_balance["details"].clone(),
                "funding": self.funding_balances,
                "savings": self.savings_balances,
            },
            "staking_orders": self.staking_orders,
            "beyond_reach": {
                "fills": beyond(&self.fills),
                "orders": beyond(&self.orders),
                "algo_orders": beyond(&self.algo_orders),
                "bills": beyond(&self.bills),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dec_renders_every_digit() {
        assert_eq!(dec(150, 2), "1.50");
        assert_eq!(dec(5, 4), "0.0005");
        assert_eq!(dec(-5, 4), "-0.0005");
        assert_eq!(dec(12, 0), "12");
    }

    #[test]
    fn generation_is_deterministic_and_ids_grow_with_time() {
        let config = DatasetConfig {
            anchor_ms: 1_800_000_000_000,
            ..DatasetConfig::default()
        };
        let a = Dataset::generate(&config);
        let b = Dataset::generate(&config);
        assert_eq!(a.truth(config.anchor_ms), b.truth(config.anchor_ms));
        for list in [
            &a.fills,
            &a.orders,
            &a.bills,
            &a.algo_orders,
            &a.algo_pending,
        ] {
            for w in list.windows(2) {
                assert!(w[0].key < w[1].key);
            }
        }
        let truth = a.truth(config.anchor_ms);
        assert!(truth["beyond_reach"]["fills"].as_u64().unwrap() > 0);
        assert!(truth["fills"].as_array().unwrap().len() >= 300);
        assert!(truth["beyond_reach"]["algo_orders"].as_u64().unwrap() > 0);
        let algo = truth["algo_orders"].as_array().unwrap();
        for word in [
            "conditional",
            "oco",
            "trigger",
            "move_order_stop",
            "iceberg",
            "twap",
        ] {
            assert!(algo.iter().any(|o| o["ordType"] == word), "no {word} order");
        }
        for word in ["effective", "canceled", "order_failed", "live"] {
            assert!(algo.iter().any(|o| o["state"] == word), "no {word} order");
        }
        for list in [&a.fiat_deposits, &a.fiat_withdrawals] {
            for w in list.windows(2) {
                assert!(w[0].key <= w[1].key);
            }
        }
        let staking = truth["staking_orders"].as_array().unwrap();
        assert_eq!(staking.len(), 4);
        let dot = staking.iter().filter(|o| o["ccy"] == "DOT").count();
        assert_eq!(dot, 2, "two orders in one currency make one summed balance");
        for o in staking {
            assert!(["8", "13", "9", "1", "2"].contains(&o["state"].as_str().unwrap()));
            assert_eq!(o["investData"][0]["ccy"], o["ccy"]);
        }
    }
}
