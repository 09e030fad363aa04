//! The BitMEX simulator's account: generated from a seed, rendered as BitMEX's JSON objects.
//!
//! The account holds three currencies (`XBt`, `USDt`, `Gwei`), trades five instruments
//! (inverse and linear perpetuals, two spot pairs), and has a wallet history per currency of
//! deposits, withdrawals, transfers and daily realised PnL, with a running wallet balance.
//! Amounts of the account are integers in each currency's smallest unit, as BitMEX sends
//! them; prices are whole or half units, so their JSON text is exact.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{civil_from_days, days_from_civil, DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};

/// The id of BitMEX's unrealised-PnL line at the top of a wallet history.
pub const UNREALISED_PNL_ID: &str = "00000000-0000-0000-0000-000000000000";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// The end of the history (server ms).
    pub end_ms: i64,
    pub days: i64,
    pub executions: usize,
    pub orders_extra: usize,
    pub open_orders: usize,
    /// Per currency.
    pub deposits: usize,
    pub withdrawals: usize,
    pub transfers: usize,
    pub can_trade: bool,
    pub can_withdraw: bool,
}

/// A currency of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub asset: &'static str,
    pub currency: &'static str,
    pub scale: u32,
    /// The network of its deposits and withdrawals.
    pub network: &'static str,
}

pub const ASSETS: [Asset; 3] = [
    Asset {
        asset: "XBT",
        currency: "XBt",
        scale: 8,
        network: "btc",
    },
    Asset {
        asset: "USDT",
        currency: "USDt",
        scale: 6,
        network: "eth",
    },
    Asset {
        asset: "ETH",
        currency: "Gwei",
        scale: 9,
        network: "eth",
    },
];

/// How an instrument's quantities and costs work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Contracts of 1 quote unit, settled in the base currency (`XBTUSD`).
    Inverse,
    /// Contracts of 1e-6 base, settled in the quote currency (`XBTUSDT`).
    Linear,
    /// Quantities in the base currency's smallest unit (`XBT_USDT`).
    Spot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub symbol: &'static str,
    pub typ: &'static str,
    pub kind: Kind,
    pub underlying: &'static str,
    pub quote: &'static str,
    /// Empty for spot.
    pub settl: &'static str,
    /// A typical price, in whole quote units.
    pub price: i64,
    pub listed_ms: i64,
}

pub const INSTRUMENTS: [Instrument; 5] = [
    Instrument {
        symbol: "XBTUSD",
        typ: "FFWCSX",
        kind: Kind::Inverse,
        underlying: "XBT",
        quote: "USD",
        settl: "XBt",
        price: 42_000,
        listed_ms: 1_463_227_200_000,
    },
    Instrument {
        symbol: "XBTUSDT",
        typ: "FFWCSX",
        kind: Kind::Linear,
        underlying: "XBT",
        quote: "USDT",
        settl: "USDt",
        price: 42_000,
        listed_ms: 1_636_070_400_000,
    },
    Instrument {
        symbol: "ETHUSDT",
        typ: "FFWCSX",
        kind: Kind::Linear,
        underlying: "ETH",
        quote: "USDT",
        settl: "USDt",
        price: 2_400,
        listed_ms: 1_636_070_400_000,
    },
    Instrument {
        symbol: "XBT_USDT",
        typ: "IFXXXP",
        kind: Kind::Spot,
        underlying: "XBT",
        quote: "USDT",
        settl: "",
        price: 42_000,
        listed_ms: 1_651_363_200_000,
    },
    Instrument {
        symbol: "ETH_USDT",
        typ: "IFXXXP",
        kind: Kind::Spot,
        underlying: "ETH",
        quote: "USDT",
        settl: "",
        price: 2_400,
        listed_ms: 1_651_363_200_000,
    },
];

pub fn asset_of_currency(currency: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.currency == currency)
}

pub fn asset_by_name(asset: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.asset == asset)
}

pub fn instrument(symbol: &str) -> Option<&'static Instrument> {
    INSTRUMENTS.iter().find(|i| i.symbol == symbol)
}

/// One record and its time (ms), the time BitMEX filters and sorts it by.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub t: i64,
    pub v: Value,
}

/// The whole account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub user_id: i64,
    /// Oldest first.
    pub executions: Vec<Timed>,
    /// By last update (`timestamp`), oldest first.
    pub orders: Vec<Timed>,
    /// Per currency, oldest first (BitMEX lists them newest first).
    pub wallet: BTreeMap<String, Vec<Timed>>,
    /// Per currency: the completed balance.
    pub balances: BTreeMap<String, i128>,
    next_id: u64,
}

/// `2024-01-02T03:04:05.678Z`.
pub fn iso(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let rem = ms.rem_euclid(DAY_MS);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / HOUR_MS,
        (rem / MINUTE_MS) % 60,
        (rem / SECOND_MS) % 60,
        rem % SECOND_MS
    )
}

/// Parses `YYYY-MM-DDTHH:MM[:SS[.fff]]Z` (or without the `Z`, or a bare date) as UTC ms.
pub fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00"));
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let min: i64 = t.next()?.parse().ok()?;
    let s: i64 = t.next().map_or(Some(0), |s| s.parse().ok())?;
    let ms: i64 = if frac.is_empty() {
        0
    } else {
        format!("{:0<3}", &frac[..frac.len().min(3)]).parse().ok()?
    };
    Some(days_from_civil(y, m, day) * DAY_MS + h * HOUR_MS + min * MINUTE_MS + s * SECOND_MS + ms)
}

/// A UUID-shaped id, a pure function of the seed, a tag and a number.
fn uuid(seed: u64, tag: &str, n: u64) -> String {
    let a = hash_parts(&[seed, hash_str(tag), n]);
    let b = hash_parts(&[a, n, 7]);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// A price near the instrument's in half units: `(JSON number, twice the price)`.
fn price(rng: &mut SimRng, inst: &Instrument) -> (Value, i64) {
    let spread = inst.price / 10;
    let twice = 2 * rng.range_i64(inst.price - spread, inst.price + spread) + rng.range_i64(0, 2);
    (half_units(twice), twice)
}

/// `twice / 2` as a JSON number: whole, or with `.5`.
pub fn half_units(twice: i64) -> Value {
    if twice % 2 == 0 {
        json!(twice / 2)
    } else {
        json!(twice as f64 / 2.0)
    }
}

/// What one fill of `qty` at `twice_price / 2` costs, in the settlement currency's units
/// (negative: paid), and the settlement currency.
fn exec_cost(
    inst: &Instrument,
    side_buy: bool,
    qty: i64,
    twice_price: i64,
) -> (i128, &'static str) {
    let qty = i128::from(qty);
    let twice = i128::from(twice_price);
    let (cost, currency) = match inst.kind {
        // qty USD at price USD/XBT: qty / price XBT = qty * 1e8 * 2 / twice satoshis.
        Kind::Inverse => (qty * 100_000_000 * 2 / twice, "XBt"),
        // qty * 1e-6 base at price: qty * price * 1e-6 USDT = qty * twice / 2 USDt.
        Kind::Linear => (qty * twice / 2, "USDt"),
        // qty smallest base units at price: qty / 10^scale * price * 1e6 USDt.
        Kind::Spot => {
            let scale = asset_by_name(inst.underlying).map_or(8, |a| a.scale);
            (qty * twice * 1_000_000 / (2 * 10i128.pow(scale)), "USDt")
        }
    };
    (if side_buy { -cost } else { cost }, currency)
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let mut ds = Dataset {
            config: config.clone(),
            user_id: 100_000 + (config.seed % 900_000) as i64,
            executions: Vec::new(),
            orders: Vec::new(),
            wallet: BTreeMap::new(),
            balances: BTreeMap::new(),
            next_id: 0,
        };
        let start = config.end_ms - config.days * DAY_MS;
        // Minute-aligned times strictly before the end.
        let span = (config.end_ms - start - MINUTE_MS).max(1);
        let mut rng = root.fork("executions");
        let mut times: Vec<i64> = (0..config.executions)
            .map(|_| {
                start + rng.range_i64(0, span) / SECOND_MS * SECOND_MS + rng.range_i64(0, 1000)
            })
            .collect();
        times.sort_unstable();
        for t in times {
            ds.add_fill(&mut rng, t);
        }
        // Funding executions of the perpetuals, every eight hours over the last days.
        let mut t = (config.end_ms - 3 * DAY_MS).div_euclid(8 * HOUR_MS) * 8 * HOUR_MS;
        while t < config.end_ms && t >= start {
            ds.add_funding(&mut rng, t);
            t += 8 * HOUR_MS;
        }
        let mut rng = root.fork("orders");
        for _ in 0..config.orders_extra {
            let t = start + rng.range_i64(0, span);
            ds.add_unfilled_order(&mut rng, t, false);
        }
        for _ in 0..config.open_orders {
            let t = config.end_ms - rng.range_i64(HOUR_MS, 20 * DAY_MS.min(span));
            ds.add_unfilled_order(&mut rng, t.max(start), true);
        }
        ds.executions.sort_by_key(|e| e.t);
        ds.orders.sort_by_key(|o| o.t);
        let mut rng = root.fork("wallet");
        ds.generate_wallet(&mut rng, start, span);
        ds
    }

    fn id(&mut self, tag: &str) -> String {
        self.next_id += 1;
        uuid(self.config.seed, tag, self.next_id)
    }

    fn account(&self) -> i64 {
        self.user_id
    }

    /// One filled order and its execution at `t`.
    fn add_fill(&mut self, rng: &mut SimRng, t: i64) {
        let inst = rng.pick(&INSTRUMENTS).clone();
        let buy = rng.chance(0.5);
        let qty = match inst.kind {
            Kind::Inverse => 100 * rng.range_i64(1, 50),
            Kind::Linear => 2_000 * rng.range_i64(1, 100),
            Kind::Spot => 2_000_000 * rng.range_i64(1, 100),
        };
        let (px, twice) = price(rng, &inst);
        let (cost, settle) = exec_cost(&inst, buy, qty, twice);
        let maker = rng.chance(0.3);
        // Taker 0.075 %; makers earn a 0.01 % rebate.
        let (comm, rate) = if maker {
            (-(cost.abs() / 10_000), json!(-0.0001))
        } else {
            (cost.abs() * 75 / 100_000, json!(0.00075))
        };
        let order_id = self.id("order");
        let exec_id = self.id("exec");
        let ts = iso(t);
        let side = if buy { "Buy" } else { "Sell" };
        let ord_type = if maker { "Limit" } else { "Market" };
        let match_id = self.id("match");
        self.executions.push(Timed {
            t,
            v: json!({
                "execID": exec_id,
                "orderID": order_id,
                "clOrdID": "",
                "account": self.account(),
                "symbol": inst.symbol,
                "side": side,
                "lastQty": qty,
                "lastPx": px,
                "lastLiquidityInd": if maker { "AddedLiquidity" } else { "RemovedLiquidity" },
                "orderQty": qty,
                "price": px,
                "currency": inst.quote,
                "settlCurrency": inst.settl,
                "execType": "Trade",
                "ordType": ord_type,
                "ordStatus": "Filled",
                "commission": rate,
                "execCost": cost as i64,
                "execComm": comm as i64,
                "feeType": if maker { "Maker" } else { "Taker" },
                "trdMatchID": match_id,
                "text": "Submitted via API.",
                "transactTime": ts,
                "timestamp": ts,
            }),
        });
        let _ = settle;
        self.orders.push(Timed {
            t,
            v: json!({
                "orderID": order_id,
                "clOrdID": "",
                "account": self.account(),
                "symbol": inst.symbol,
                "side": side,
                "orderQty": qty,
                "price": px,
                "currency": inst.quote,
                "settlCurrency": inst.settl,
                "ordType": ord_type,
                "timeInForce": if maker { "GoodTillCancel" } else { "ImmediateOrCancel" },
                "ordStatus": "Filled",
                "leavesQty": 0,
                "cumQty": qty,
                "avgPx": px,
                "text": "Submitted via API.",
                "transactTime": ts,
                "timestamp": ts,
            }),
        });
    }

    fn add_funding(&mut self, rng: &mut SimRng, t: i64) {
        let inst = INSTRUMENTS[0].clone();
        let (px, _) = price(rng, &inst);
        let ts = iso(t);
        let exec_id = self.id("funding");
        self.executions.push(Timed {
            t,
            v: json!({
                "execID": exec_id,
                "orderID": UNREALISED_PNL_ID,
                "account": self.account(),
                "symbol": inst.symbol,
                "side": "",
                "lastQty": 1000,
                "lastPx": px,
                "currency": inst.quote,
                "settlCurrency": inst.settl,
                "execType": "Funding",
                "ordType": "Funding",
                "ordStatus": "Filled",
                "commission": 0.0001,
                "execCost": -2_400,
                "execComm": rng.range_i64(1, 500),
                "text": "Funding",
                "transactTime": ts,
                "timestamp": ts,
            }),
        });
    }

    /// An order without fills: cancelled, rejected, expired, or (`open`) still new.
    fn add_unfilled_order(&mut self, rng: &mut SimRng, t: i64, open: bool) {
        let inst = rng.pick(&INSTRUMENTS).clone();
        let qty = match inst.kind {
            Kind::Inverse => 100 * rng.range_i64(1, 50),
            Kind::Linear => 2_000 * rng.range_i64(1, 100),
            Kind::Spot => 2_000_000 * rng.range_i64(1, 100),
        };
        let (px, _) = price(rng, &inst);
        let status = if open {
            "New"
        } else {
            *rng.pick(&["Canceled", "Canceled", "Rejected", "Expired"])
        };
        let ts = iso(t);
        let v = json!({
            "orderID": self.id("order"),
            "clOrdID": "",
            "account": self.account(),
            "symbol": inst.symbol,
            "side": if rng.chance(0.5) { "Buy" } else { "Sell" },
            "orderQty": qty,
            "price": px,
            "currency": inst.quote,
            "settlCurrency": inst.settl,
            "ordType": "Limit",
            "timeInForce": "GoodTillCancel",
            "ordStatus": status,
            "leavesQty": if open { qty } else { 0 },
            "cumQty": 0,
            "avgPx": null,
            "text": "Submitted via API.",
            "transactTime": ts,
            "timestamp": ts,
        });
        self.orders.push(Timed { t, v });
    }

    fn generate_wallet(&mut self, rng: &mut SimRng, start: i64, span: i64) {
        for asset in &ASSETS {
            let unit = 10i128.pow(asset.scale);
            let mut events: Vec<(i64, &'static str, i128, bool)> = Vec::new();
            // A first deposit that funds the account, then more.
            events.push((start + MINUTE_MS, "Deposit", 50 * unit, false));
            for i in 0..self.config.deposits {
                let t = start + rng.range_i64(HOUR_MS, span);
                // The last two deposits are still pending.
                let pending = i + 2 >= self.config.deposits && asset.currency == "XBt";
                let t = if pending {
                    self.config.end_ms - rng.range_i64(HOUR_MS, 2 * DAY_MS)
                } else {
                    t
                };
                events.push((
                    t,
                    "Deposit",
                    unit * rng.range_i64(1, 500) as i128 / 100,
                    pending,
                ));
            }
            for _ in 0..self.config.withdrawals {
                let t = start + rng.range_i64(DAY_MS, span);
                events.push((
                    t,
                    "Withdrawal",
                    -(unit * rng.range_i64(1, 100) as i128 / 100),
                    false,
                ));
            }
            for _ in 0..self.config.transfers {
                let t = start + rng.range_i64(DAY_MS, span);
                let amount = unit * rng.range_i64(-50, 50) as i128 / 100;
                events.push((t, "Transfer", amount, false));
            }
            if asset.currency != "Gwei" {
                // Realised PnL once a day at 12:00.
                let mut day = start.div_euclid(DAY_MS) * DAY_MS + 12 * HOUR_MS;
                while day < self.config.end_ms {
                    if day >= start {
                        let amount = unit * rng.range_i64(-30, 40) as i128 / 1000;
                        events.push((day, "RealisedPNL", amount, false));
                    }
                    day += DAY_MS;
                }
            }
            events.sort_by_key(|e| e.0);
            let mut balance: i128 = 0;
            let mut rows = Vec::new();
            for (t, ty, amount, pending) in events {
                // A withdrawal's amount includes its fee, as BitMEX lists it (ccxt's example:
                // amount -100100000, fee 100000, the balance down by 100100000).
                let fee: i128 = if ty == "Withdrawal" { unit / 10_000 } else { 0 };
                let amount = amount - fee;
                if !pending {
                    balance += amount;
                }
                let id = self.id("transact");
                let (address, tx) = match ty {
                    "Deposit" | "Withdrawal" => (
                        format!(
                            "0x{:040x}",
                            hash_parts(&[self.config.seed, t as u64]) as u128 * 7919
                        ),
                        format!("{:064x}", u128::from(hash_parts(&[t as u64, 3])) << 32),
                    ),
                    "RealisedPNL" => ("XBTUSD".to_owned(), String::new()),
                    _ => (String::new(), String::new()),
                };
                let ts = iso(t);
                rows.push(Timed {
                    t,
                    v: json!({
                        "transactID": id,
                        "account": self.user_id,
                        "currency": asset.currency,
                        "network": if ty == "Deposit" || ty == "Withdrawal" { json!(asset.network) } else { Value::Null },
                        "transactType": ty,
                        "amount": amount as i64,
                        "fee": fee as i64,
                        "transactStatus": if pending { "Pending" } else { "Completed" },
                        "address": address,
                        "tx": tx,
                        "text": "",
                        "transactTime": ts,
                        "walletBalance": if pending { Value::Null } else { json!(balance as i64) },
                        "marginBalance": null,
                        "timestamp": ts,
                    }),
                });
            }
            self.balances.insert(asset.currency.to_owned(), balance);
            self.wallet.insert(asset.currency.to_owned(), rows);
        }
    }

    /// Adds `n` fills (and their orders) in the last minute before `now`; returns how many.
    pub fn append_executions(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        for i in 0..n {
            let t = now - MINUTE_MS + (i as i64) * 10;
            self.add_fill(rng, t);
        }
        self.executions.sort_by_key(|e| e.t);
        self.orders.sort_by_key(|o| o.t);
        n
    }

    /// The unrealised-PnL line BitMEX lists first in the `XBt` wallet history.
    pub fn unrealised_pnl(&self) -> Value {
        json!({
            "transactID": UNREALISED_PNL_ID,
            "account": self.user_id,
            "currency": "XBt",
            "transactType": "UnrealisedPNL",
            "amount": -12_345,
            "fee": 0,
            "transactStatus": "Pending",
            "address": "XBTUSD",
            "tx": "",
            "text": "",
            "transactTime": null,
            "walletBalance": self.balances.get("XBt").copied().unwrap_or(0) as i64,
            "marginBalance": null,
            "timestamp": null,
        })
    }

    /// `GET /user/staking?currency=`: what is staked of `currency` (BitMEX Earn); nothing of
    /// `USDt`.
    pub fn staking(&self, currency: &str) -> Vec<Value> {
        let units = match currency {
            "XBt" => 150_000_000 + (self.config.seed % 1_000) as i64,
            "Gwei" => 4_000_000_000,
            _ => return Vec::new(),
        };
        vec![json!({ "account": self.user_id, "currency": currency, "amount": units })]
    }

    /// `GET /user/margin?currency=all`: one margin account per currency; a tenth of each
    /// balance is held as margin.
    pub fn margins(&self, now: i64) -> Vec<Value> {
        ASSETS
            .iter()
            .map(|a| {
                let balance = self.balances.get(a.currency).copied().unwrap_or(0);
                let held = balance.max(0) / 10;
                json!({
                    "account": self.user_id,
                    "currency": a.currency,
                    "amount": balance as i64,
                    "walletBalance": balance as i64,
                    "marginBalance": balance as i64,
                    "initMargin": held as i64,
                    "maintMargin": 0,
                    "availableMargin": (balance - held) as i64,
                    "withdrawableMargin": (balance - held) as i64,
                    "unrealisedPnl": 0,
                    "realisedPnl": 0,
                    "timestamp": iso(now),
                })
            })
            .collect()
    }

    /// One bucketed row of `symbol` for the `bin_ms` bin closing at `close` (a pure function).
    pub fn bucket(&self, inst: &Instrument, bin_ms: i64, close: i64) -> Value {
        let h = hash_parts(&[
            self.config.seed,
            hash_str(inst.symbol),
            bin_ms as u64,
            close as u64,
        ]);
        let base = inst.price * 2;
        let wobble = |k: u64| (mix_mod(h, k, (inst.price / 50).max(1) as u64) as i64) * 2;
        let open = base + wobble(1) - inst.price / 50;
        let close_px = base + wobble(2) - inst.price / 50;
        let high = open.max(close_px) + wobble(3) / 2;
        let low = open.min(close_px) - wobble(4) / 2;
        let volume = match inst.kind {
            Kind::Spot => 1_000_000 * (1 + mix_mod(h, 5, 500) as i64),
            _ => 100 * (1 + mix_mod(h, 5, 10_000) as i64),
        };
        json!({
            "timestamp": iso(close),
            "symbol": inst.symbol,
            "open": half_units(open),
            "high": half_units(high),
            "low": half_units(low),
            "close": half_units(close_px),
            "trades": 1 + mix_mod(h, 6, 900),
            "volume": volume,
        })
    }
}

fn mix_mod(h: u64, k: u64, n: u64) -> u64 {
    hash_parts(&[h, k]) % n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DatasetConfig {
        DatasetConfig {
            seed: 7,
            end_ms: 1_700_000_000_000,
            days: 60,
            executions: 200,
            orders_extra: 20,
            open_orders: 3,
            deposits: 10,
            withdrawals: 5,
            transfers: 3,
            can_trade: true,
            can_withdraw: false,
        }
    }

    #[test]
    fn same_seed_same_account_and_balances_add_up() {
        let a = Dataset::generate(&config());
        let b = Dataset::generate(&config());
        assert_eq!(a.executions, b.executions);
        assert_eq!(a.wallet, b.wallet);
        for (currency, rows) in &a.wallet {
            let last = rows
                .iter()
                .rev()
                .find(|r| r.v["transactStatus"] == "Completed")
                .unwrap();
            assert_eq!(
                last.v["walletBalance"].as_i64().unwrap() as i128,
                a.balances[currency]
            );
        }
        assert_eq!(a.orders.len(), 200 + 20 + 3);
    }

    #[test]
    fn iso_round_trips() {
        for ms in [0, 1_700_000_000_123, 1_416_787_200_000] {
            assert_eq!(parse_iso(&iso(ms)), Some(ms));
        }
        assert_eq!(parse_iso("2014-11-24"), Some(1_416_787_200_000));
        assert_eq!(parse_iso("nonsense"), None);
    }
}
