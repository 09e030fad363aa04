//! The simulated KuCoin account: generated from a seed, rendered as KuCoin's own JSON.
//!
//! Orders with their fills, deposits, withdrawals, the ledger entries all of these make, and
//! the balances of every account type. Every record is kept as the JSON object KuCoin would
//! send (its `raw`), sorted by `createdAt`; amounts are exact decimal strings built from
//! integers, never from floating point.

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::SECOND_MS;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// No record before this time (UTC ms).
    pub history_start_ms: i64,
    /// No record at or after this time, so the truth does not depend on today's date.
    pub history_end_ms: i64,
    /// Orders that are done (filled or canceled).
    pub orders: usize,
    /// Orders still active, created anywhere in the history.
    pub active_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Fills of the high-frequency account.
    pub hf_fills: usize,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            history_start_ms: 1_767_225_600_000, // 2026-01-01
            history_end_ms: 1_777_593_600_000,   // 2026-05-01
            orders: 300,
            active_orders: 4,
            deposits: 60,
            withdrawals: 40,
            hf_fills: 150,
        }
    }
}

/// One spot market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    pub symbol: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    /// Price around which trades happen, in units of 10^-8 quote.
    pub price: u64,
}

/// The markets the account trades. `NEWCOIN9` is a currency no list knows: it must be stored
/// as it is, never dropped.
pub const MARKETS: [Market; 6] = [
    Market {
        symbol: "BTC-USDT",
        base: "BTC",
        quote: "USDT",
        price: 6_000_000_000_000,
    },
    Market {
        symbol: "ETH-USDT",
        base: "ETH",
        quote: "USDT",
        price: 300_000_000_000,
    },
    Market {
        symbol: "ETH-BTC",
        base: "ETH",
        quote: "BTC",
        price: 5_000_000,
    },
    Market {
        symbol: "KCS-USDT",
        base: "KCS",
        quote: "USDT",
        price: 1_000_000_000,
    },
    Market {
        symbol: "WAX-USDT",
        base: "WAX",
        quote: "USDT",
        price: 5_000_000,
    },
    Market {
        symbol: "NEWCOIN9-USDT",
        base: "NEWCOIN9",
        quote: "USDT",
        price: 12_345_678,
    },
];

/// Currencies moved in and out of the account.
const CURRENCIES: [(&str, &str); 5] = [
    ("BTC", "btc"),
    ("ETH", "eth"),
    ("USDT", "trc20"),
    ("KCS", "kcc"),
    ("WAX", "wax"),
];

/// The generated account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    /// `GET /api/v1/accounts` items.
    pub accounts: Vec<Value>,
    /// Fills, by `createdAt` ascending.
    pub fills: Vec<Value>,
    /// Orders, by `createdAt` ascending.
    pub orders: Vec<Value>,
    pub deposits: Vec<Value>,
    pub withdrawals: Vec<Value>,
    pub ledger: Vec<Value>,
    /// The high-frequency account's fills (`GET /api/v1/hf/fills`), by `createdAt` ascending,
    /// their numeric ids ascending with it.
    pub hf_fills: Vec<Value>,
    /// The high-frequency account's orders, by `createdAt` ascending; `_seq` (stripped before
    /// serving) is the sequence `lastId` pages by.
    pub hf_orders: Vec<Value>,
    /// The high-frequency account's ledger (`GET /api/v1/hf/accounts/ledgers`), by
    /// `createdAt` ascending, numeric ids ascending with it.
    pub hf_ledger: Vec<Value>,
    /// `GET /api/v3/isolated/accounts` `assets` entries.
    pub isolated: Vec<Value>,
    /// `GET /api/v1/account-overview` (futures) per margin currency.
    pub futures: Vec<Value>,
    /// `GET /api/v1/earn/hold-assets` items.
    pub earn: Vec<Value>,
    /// The account's uid.
    pub uid: u64,
    counter: u64,
}

/// A decimal string of `units` × 10^-8, trailing zeros kept to 8 places like KuCoin's.
pub fn dec8(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let u = units.unsigned_abs();
    format!("{sign}{}.{:08}", u / 100_000_000, u % 100_000_000)
}

/// An order of the high-frequency account as KuCoin writes it (`active`, `inOrderBook`,
/// `lastUpdatedAt`), with the hidden `_seq`.
#[allow(clippy::too_many_arguments)]
fn hf_order(
    seq: u64,
    id: &str,
    m: &Market,
    side: &str,
    price: u64,
    size: u64,
    deal_size: u64,
    deal_funds: u128,
    active: bool,
    canceled: bool,
    created: i64,
    updated: i64,
) -> Value {
    json!({
        "_seq": seq,
        "id": id,
        "clientOid": format!("sim-hf-{seq}"),
        "symbol": m.symbol,
        "opType": "DEAL",
        "type": "limit",
        "side": side,
        "price": dec8(i128::from(price)),
        "size": dec8(i128::from(size)),
        "funds": "0",
        "dealSize": dec8(i128::from(deal_size)),
        "dealFunds": dec8(deal_funds as i128),
        "cancelledSize": if canceled { dec8(i128::from(size - deal_size)) } else { "0".into() },
        "cancelledFunds": "0",
        "remainSize": if active { dec8(i128::from(size - deal_size)) } else { "0".into() },
        "remainFunds": "0",
        "fee": dec8((deal_funds / 1000) as i128),
        "feeCurrency": m.quote,
        "stp": null,
        "timeInForce": "GTC",
        "postOnly": false,
        "hidden": false,
        "iceberg": false,
        "visibleSize": "0",
        "cancelAfter": 0,
        "channel": "API",
        "remark": null,
        "tags": null,
        "cancelExist": canceled,
        "tradeType": "TRADE",
        "inOrderBook": active,
        "active": active,
        "tax": "0",
        "createdAt": created,
        "lastUpdatedAt": updated,
    })
}

/// An object without the sim's hidden keys (`_seq`).
pub fn served(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("_seq");
    }
    v
}

/// The 10^-8 units of a decimal string this module wrote (`"1.50000000"` → 150000000).
fn units(v: &Value) -> u128 {
    let s = v.as_str().unwrap_or("0");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<8}");
    whole.parse::<u128>().unwrap_or(0) * 100_000_000 + frac[..8].parse::<u128>().unwrap_or(0)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// `createdAt` of a record (a number, or text on the high-frequency endpoints).
pub fn created_at(v: &Value) -> i64 {
    match &v["createdAt"] {
        Value::String(s) => s.parse().unwrap_or(0),
        other => other.as_i64().unwrap_or(0),
    }
}

impl Dataset {
    /// Generates the account of `config`: the same seed always gives the same account.
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let mut ds = Dataset {
            config: config.clone(),
            accounts: Vec::new(),
            fills: Vec::new(),
            orders: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            ledger: Vec::new(),
            hf_fills: Vec::new(),
            hf_ledger: Vec::new(),
            hf_orders: Vec::new(),
            isolated: Vec::new(),
            futures: Vec::new(),
            earn: Vec::new(),
            uid: 100_000_000 + root.clone().fork("uid").below(900_000_000),
            counter: 0,
        };
        let (start, end) = (config.history_start_ms, config.history_end_ms);
        let mut rng = root.fork("orders");
        for _ in 0..config.orders {
            let t = rng.range_i64(start, end - 60 * SECOND_MS);
            ds.add_order(&mut rng, t, false);
        }
        for _ in 0..config.active_orders {
            let t = rng.range_i64(start, end - 60 * SECOND_MS);
            ds.add_order(&mut rng, t, true);
        }
        let mut rng = root.fork("deposits");
        for i in 0..config.deposits {
            let t = rng.range_i64(start, end);
            // The newest few are still processing.
            let status = if i + 2 >= config.deposits {
                "PROCESSING"
            } else if rng.chance(0.05) {
                "FAILURE"
            } else {
                "SUCCESS"
            };
            ds.add_deposit(&mut rng, t, status);
        }
        let mut rng = root.fork("withdrawals");
        for i in 0..config.withdrawals {
            let t = rng.range_i64(start, end);
            let status = if i + 1 == config.withdrawals {
                "WALLET_PROCESSING"
            } else if rng.chance(0.05) {
                "FAILURE"
            } else {
                "SUCCESS"
            };
            ds.add_withdrawal(&mut rng, t, status);
        }
        let mut rng = root.fork("hf");
        let mut times: Vec<i64> = (0..config.hf_fills)
            .map(|_| rng.range_i64(start, end))
            .collect();
        times.sort_unstable();
        for t in times {
            ds.add_hf_fill(&mut rng, t);
        }
        // Orders of the high-frequency account that filled nothing: some canceled, a few
        // still active.
        for i in 0..(config.hf_fills / 20 + 2) {
            let t = rng.range_i64(start, end);
            ds.add_hf_order(&mut rng, t, i < 2);
        }
        ds.hf_orders.sort_by_key(created_at);
        // `lastId` pages newest first: the sequence follows creation time.
        for (i, o) in ds.hf_orders.iter_mut().enumerate() {
            o["_seq"] = json!(2_682_265_000u64 + i as u64);
        }
        ds.sort();
        ds.accounts = ds.balances(&mut root.fork("accounts"));
        ds.other_wallets(&mut root.fork("wallets"));
        ds
    }

    /// Isolated margin on BTC-USDT, futures in USDT, XBT and USDC (empty), Earn holdings.
    fn other_wallets(&mut self, rng: &mut SimRng) {
        let asset = |rng: &mut SimRng, currency: &str| {
            let available = rng.below(10_000_000_000);
            let hold = rng.below(100_000_000);
            json!({
                "currency": currency,
                "borrowEnabled": true,
                "transferInEnabled": true,
                "liability": "0",
                "total": dec8(i128::from(available + hold)),
                "available": dec8(i128::from(available)),
                "hold": dec8(i128::from(hold)),
                "maxBorrowSize": "0",
            })
        };
        self.isolated = vec![json!({
            "symbol": "BTC-USDT",
            "status": "EFFECTIVE",
            "debtRatio": "0",
            "baseAsset": asset(rng, "BTC"),
            "quoteAsset": asset(rng, "USDT"),
        })];
        // Futures amounts are JSON numbers, as KuCoin Futures sends them (6 places here, so
        // every one is exact as a double too).
        let number = |units: u64| -> Value {
            serde_json::from_str(&format!("{}.{:06}", units / 1_000_000, units % 1_000_000))
                .expect("a decimal is a JSON number")
        };
        self.futures = ["USDT", "XBT", "USDC"]
            .iter()
            .map(|c| {
                let some = *c != "USDC";
                let mut draw = |max: u64| if some { rng.below(max) } else { 0 };
                let (available, position, order, frozen) = (
                    draw(5_000_000_000),
                    draw(1_000_000_000),
                    draw(100_000_000),
                    draw(10_000_000),
                );
                let pnl = draw(1_000_000);
                json!({
                    "accountEquity": number(available + position + order + frozen + pnl),
                    "unrealisedPNL": number(pnl),
                    "marginBalance": number(available + position + order + frozen),
                    "positionMargin": number(position),
                    "orderMargin": number(order),
                    "frozenFunds": number(frozen),
                    "availableBalance": number(available),
                    "currency": c,
                    "riskRatio": 0,
                    "maxWithdrawAmount": number(available),
                })
            })
            .collect();
        self.earn = [("USDT", "DEMAND"), ("USDT", "TIME"), ("ETH", "STAKING")]
            .iter()
            .enumerate()
            .map(|(i, (c, ty))| {
                json!({
                    "orderId": format!("2155441{i}"),
                    "productId": format!("{}", 2600 + i),
                    "productCategory": ty,
                    "productType": ty,
                    "currency": c,
                    "incomeCurrency": c,
                    "returnRate": "0.04",
                    "holdAmount": dec8(i128::from(1_000_000 + rng.below(50_000_000_000))),
                    "redeemedAmount": "0",
                    "redeemingAmount": "0",
                    "lockStartTime": self.config.history_start_ms,
                    "lockEndTime": null,
                    "purchaseTime": self.config.history_start_ms,
                    "redeemPeriod": 0,
                    "status": "LOCKED",
                    "earlyRedeemSupported": 0,
                })
            })
            .collect();
    }

    fn sort(&mut self) {
        for list in [
            &mut self.fills,
            &mut self.orders,
            &mut self.deposits,
            &mut self.withdrawals,
            &mut self.ledger,
        ] {
            list.sort_by(|a, b| {
                created_at(a)
                    .cmp(&created_at(b))
                    .then_with(|| a["id"].to_string().cmp(&b["id"].to_string()))
            });
        }
    }

    /// A 24-hex id like KuCoin's (a Mongo ObjectId: seconds, then a unique tail).
    fn object_id(&mut self, t: i64, tag: &str) -> String {
        self.counter += 1;
        let tail = hash_parts(&[self.config.seed, hash_str(tag), self.counter]);
        format!("{:08x}{:016x}", (t / 1000) as u32, tail)
    }

    /// One order at `t`: done ones are filled (1 to 3 fills) or canceled (some partly
    /// filled); active ones may be partly filled.
    fn add_order(&mut self, rng: &mut SimRng, t: i64, active: bool) {
        let m = *rng.pick(&MARKETS);
        let side = if rng.chance(0.5) { "buy" } else { "sell" };
        let market_order = !active && rng.chance(0.2);
        let size: u64 = 1_000 + rng.below(50_000_000);
        let price = m.price - m.price / 20 + rng.below((m.price / 10).max(1));
        let canceled = !active && !market_order && rng.chance(0.25);
        let n_fills = if active || canceled {
            // Open or canceled: unfilled or partly filled.
            rng.below(2)
        } else {
            1 + rng.below(3)
        };
        let id = self.object_id(t, "order");
        let mut deal_size: u64 = 0;
        let mut deal_funds: u128 = 0;
        let mut fee_total: u128 = 0;
        let mut ft = t;
        for k in 0..n_fills {
            // Fills split the size; a partly filled order fills half.
            let part = if active || canceled {
                size / 2
            } else if k + 1 == n_fills {
                size - deal_size
            } else {
                size / n_fills
            };
            if part == 0 {
                continue;
            }
            ft += 1 + rng.below(5_000) as i64;
            let fill_price = price;
            let funds = u128::from(part) * u128::from(fill_price) / 100_000_000;
            let fee = funds / 1000;
            deal_size += part;
            deal_funds += funds;
            fee_total += fee;
            let liquidity = if market_order || rng.chance(0.5) {
                "taker"
            } else {
                "maker"
            };
            let trade_id = format!("{}", 1_000_000_000_000 + self.counter * 7 + k);
            let fill = json!({
                "symbol": m.symbol,
                "tradeId": trade_id,
                "orderId": id,
                "counterOrderId": self.object_id(ft, "counter"),
                "side": side,
                "liquidity": liquidity,
                "forceTaker": false,
                "price": dec8(i128::from(fill_price)),
                "size": dec8(i128::from(part)),
                "funds": dec8(funds as i128),
                "fee": dec8(fee as i128),
                "feeRate": "0.001",
                "feeCurrency": m.quote,
                "stop": "",
                "tradeType": "TRADE",
                "type": if market_order { "market" } else { "limit" },
                "createdAt": ft,
            });
            self.fills.push(fill);
            // The ledger: base and quote move, the fee leaves in quote.
            let (base_dir, quote_dir) = if side == "buy" {
                ("in", "out")
            } else {
                ("out", "in")
            };
            let quote_amount = if side == "buy" {
                funds + fee
            } else {
                funds - fee
            };
            let context = format!(
                "{{\"symbol\":\"{}\",\"orderId\":\"{id}\",\"tradeId\":\"{trade_id}\"}}",
                m.symbol
            );
            self.add_ledger(
                ft,
                m.base,
                part as i128,
                base_dir,
                "Exchange",
                &context,
                "TRADE",
            );
            self.add_ledger(
                ft,
                m.quote,
                quote_amount as i128,
                quote_dir,
                "Exchange",
                &context,
                "TRADE",
            );
        }
        let order = json!({
            "id": id,
            "symbol": m.symbol,
            "opType": "DEAL",
            "type": if market_order { "market" } else { "limit" },
            "side": side,
            "price": if market_order { "0".to_string() } else { dec8(i128::from(price)) },
            "size": dec8(i128::from(size)),
            "funds": "0",
            "dealFunds": dec8(deal_funds as i128),
            "dealSize": dec8(i128::from(deal_size)),
            "fee": dec8(fee_total as i128),
            "feeCurrency": m.quote,
            "stp": "",
            "stop": "",
            "stopTriggered": false,
            "stopPrice": "0",
            "timeInForce": "GTC",
            "postOnly": false,
            "hidden": false,
            "iceberg": false,
            "visibleSize": "0",
            "cancelAfter": 0,
            "channel": "API",
            "clientOid": format!("sim-{}", self.counter),
            "remark": null,
            "tags": "",
            "isActive": active,
            "cancelExist": canceled,
            "createdAt": t,
            "tradeType": "TRADE",
        });
        self.orders.push(order);
    }

    fn next_hf_seq(&self) -> u64 {
        self.hf_orders
            .iter()
            .filter_map(|o| o["_seq"].as_u64())
            .max()
            .unwrap_or(2_682_265_000)
            + 1
    }

    /// An order of the high-frequency account with no fill: active, or canceled.
    fn add_hf_order(&mut self, rng: &mut SimRng, t: i64, active: bool) {
        let m = MARKETS[if rng.chance(0.5) { 0 } else { 3 }];
        let id = self.object_id(t, "hf-order");
        let size = 1_000 + rng.below(20_000_000);
        let price = m.price - m.price / 10 + rng.below((m.price / 20).max(1));
        let seq = self.next_hf_seq();
        self.hf_orders.push(hf_order(
            seq,
            &id,
            &m,
            if rng.chance(0.5) { "buy" } else { "sell" },
            price,
            size,
            0,
            0,
            active,
            !active,
            t,
            t,
        ));
    }

    /// Cancels the oldest active order of the high-frequency account at `t`.
    pub fn cancel_oldest_hf_active(&mut self, t: i64) -> bool {
        let Some(o) = self.hf_orders.iter_mut().find(|o| o["active"] == true) else {
            return false;
        };
        o["active"] = json!(false);
        o["inOrderBook"] = json!(false);
        o["cancelExist"] = json!(true);
        o["cancelledSize"] = o["size"].clone();
        o["remainSize"] = json!("0");
        o["lastUpdatedAt"] = json!(t);
        true
    }

    /// One fill of the high-frequency account at `t` (not before the newest one).
    fn add_hf_fill(&mut self, rng: &mut SimRng, t: i64) {
        const HF_MARKETS: [usize; 3] = [0, 2, 3]; // BTC-USDT, ETH-BTC, KCS-USDT
        let m = MARKETS[*rng.pick(&HF_MARKETS)];
        let id = self
            .hf_fills
            .last()
            .and_then(|f| f["id"].as_u64())
            .unwrap_or(2_678_000_000)
            + 1
            + rng.below(5);
        let size = 1_000 + rng.below(20_000_000);
        let price = m.price - m.price / 20 + rng.below((m.price / 10).max(1));
        let funds = u128::from(size) * u128::from(price) / 100_000_000;
        let order_id = self.object_id(t, "hf-order");
        let counter = self.object_id(t, "hf-counter");
        let side = if rng.chance(0.5) { "buy" } else { "sell" };
        let t = t.max(self.hf_fills.last().map(created_at).unwrap_or(t));
        let fee = funds / 1000;
        let (base_dir, quote_dir) = if side == "buy" {
            ("in", "out")
        } else {
            ("out", "in")
        };
        let quote_amount = if side == "buy" {
            funds + fee
        } else {
            funds - fee
        };
        for (currency, amount, direction) in [
            (m.base, u128::from(size), base_dir),
            (m.quote, quote_amount, quote_dir),
        ] {
            let ledger_id = self
                .hf_ledger
                .last()
                .and_then(|l| l["id"].as_str())
                .and_then(|id| id.parse::<u64>().ok())
                .unwrap_or(42_852_000_000)
                + 1
                + rng.below(7);
            let balance = 1_000_000_000_000 + rng.below(1_000_000_000_000);
            self.hf_ledger.push(json!({
                "id": ledger_id.to_string(),
                "currency": currency,
                "amount": dec8(amount as i128),
                "fee": "0.00000000",
                "balance": dec8(i128::from(balance)),
                "accountType": "TRADE_HF",
                "bizType": "TRADE_EXCHANGE",
                "direction": direction,
                "createdAt": t.to_string(),
                "context": format!("{{\"symbol\":\"{}\",\"orderId\":\"{order_id}\",\"tradeId\":\"{}\"}}", m.symbol, 616_000_000_000u64 + id),
            }));
        }
        let seq = self.next_hf_seq();
        self.hf_orders.push(hf_order(
            seq,
            &order_id,
            &m,
            side,
            price,
            size,
            size,
            funds,
            false,
            false,
            t - 3,
            t,
        ));
        self.hf_fills.push(json!({
            "id": id,
            "symbol": m.symbol,
            "tradeId": 616_000_000_000u64 + id,
            "orderId": order_id,
            "counterOrderId": counter,
            "side": side,
            "liquidity": if rng.chance(0.5) { "taker" } else { "maker" },
            "forceTaker": false,
            "price": dec8(i128::from(price)),
            "size": dec8(i128::from(size)),
            "funds": dec8(funds as i128),
            "fee": dec8(fee as i128),
            "feeRate": "0.001",
            "feeCurrency": m.quote,
            "stop": "",
            "tradeType": "TRADE",
            "type": "limit",
            "createdAt": t,
        }));
    }

    fn add_deposit(&mut self, rng: &mut SimRng, t: i64, status: &str) {
        let (currency, chain) = *rng.pick(&CURRENCIES);
        let amount = 1_000_000 + rng.below(10_000_000_000);
        let tx = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        let memo = if currency == "WAX" {
            format!("{}", rng.below(1_000_000_000))
        } else {
            String::new()
        };
        let deposit = json!({
            "currency": currency,
            "chain": chain,
            "status": status,
            "address": format!("sim-{chain}-address-{}", rng.below(5)),
            "memo": memo,
            "isInner": false,
            "amount": dec8(i128::from(amount)),
            "fee": "0.00000000",
            "walletTxId": tx,
            "createdAt": t,
            "updatedAt": t + 60 * SECOND_MS,
            "remark": "Deposit",
        });
        if status == "SUCCESS" {
            let context = format!("{{\"txId\":\"{tx}\"}}");
            self.add_ledger(
                t,
                currency,
                i128::from(amount),
                "in",
                "Deposit",
                &context,
                "MAIN",
            );
        }
        self.deposits.push(deposit);
    }

    fn add_withdrawal(&mut self, rng: &mut SimRng, t: i64, status: &str) {
        let (currency, chain) = *rng.pick(&CURRENCIES);
        let amount = 1_000_000 + rng.below(5_000_000_000);
        let fee = 10_000 + rng.below(100_000);
        let id = self.object_id(t, "withdrawal");
        let tx = if status == "SUCCESS" {
            format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
        } else {
            String::new()
        };
        let withdrawal = json!({
            "id": id,
            "address": format!("sim-{chain}-out-{}", rng.below(3)),
            "memo": "",
            "currency": currency,
            "chain": chain,
            "amount": dec8(i128::from(amount)),
            "fee": dec8(i128::from(fee)),
            "walletTxId": tx,
            "isInner": false,
            "status": status,
            "remark": "",
            "createdAt": t,
            "updatedAt": t + 120 * SECOND_MS,
        });
        if status != "FAILURE" {
            let context = format!("{{\"withdrawalId\":\"{id}\"}}");
            self.add_ledger(
                t,
                currency,
                i128::from(amount + fee),
                "out",
                "Withdrawal",
                &context,
                "MAIN",
            );
        }
        self.withdrawals.push(withdrawal);
    }

    #[allow(clippy::too_many_arguments)]
    fn add_ledger(
        &mut self,
        t: i64,
        currency: &str,
        amount: i128,
        direction: &str,
        biz_type: &str,
        context: &str,
        account_type: &str,
    ) {
        let id = self.object_id(t, "ledger");
        // The balance after: a deterministic figure (the sim keeps no running books).
        let balance = 1_000_000_000_000
            + (hash_parts(&[self.config.seed, self.counter]) % 1_000_000_000_000) as i128;
        self.ledger.push(json!({
            "id": id,
            "currency": currency,
            "amount": dec8(amount),
            "fee": "0",
            "balance": dec8(balance),
            "accountType": account_type,
            "bizType": biz_type,
            "direction": direction,
            "createdAt": t,
            "context": context,
        }));
    }

    /// The balances of every account type: main (funding), trade (spot), trade_hf, margin.
    fn balances(&self, rng: &mut SimRng) -> Vec<Value> {
        let mut out = Vec::new();
        let mut currencies: Vec<&str> = CURRENCIES.iter().map(|(c, _)| *c).collect();
        currencies.push("NEWCOIN9");
        for ty in ["main", "trade", "trade_hf", "margin"] {
            for c in &currencies {
                if ty != "trade" && rng.chance(0.4) {
                    continue;
                }
                let available = if rng.chance(0.15) {
                    0
                } else {
                    rng.below(100_000_000_000)
                };
                let holds = if ty == "trade" && rng.chance(0.3) {
                    rng.below(1_000_000_000)
                } else {
                    0
                };
                let id = format!(
                    "{:024x}",
                    hash_parts(&[self.config.seed, hash_str(ty), hash_str(c)])
                );
                out.push(json!({
                    "id": id,
                    "currency": c,
                    "type": ty,
                    "balance": dec8(i128::from(available + holds)),
                    "available": dec8(i128::from(available)),
                    "holds": dec8(i128::from(holds)),
                }));
            }
        }
        out
    }

    /// Adds `n` filled orders (one to three fills each) and two high-frequency fills just
    /// before `now`, as if just traded; returns the number of fills added.
    pub fn append_trades(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        let before = self.fills.len();
        for i in 0..n {
            // A few ms apart, seconds back from now, so each is already in the past.
            let t = now - 30 * SECOND_MS - 10 * (n - i) as i64;
            let fills = self.fills.len();
            while self.fills.len() == fills {
                self.add_order(rng, t, false);
            }
        }
        // Two fills in the high-frequency account too.
        for k in 0..2 {
            self.add_hf_fill(rng, now - 25 * SECOND_MS + k);
        }
        self.sort();
        self.fills.len() - before + 2
    }

    /// Fills the oldest active order at `t` (one fill for what was left): it is then done, and
    /// a client that only walks recent windows must read it by id. Returns whether there was
    /// one.
    pub fn complete_oldest_active(&mut self, t: i64) -> bool {
        let Some(i) = self.orders.iter().position(|o| o["isActive"] == true) else {
            return false;
        };
        let o = self.orders[i].clone();
        let size = units(&o["size"]);
        let done = units(&o["dealSize"]);
        let price = units(&o["price"]);
        let part = size - done;
        let funds = part * price / 100_000_000;
        let fee = funds / 1000;
        let id = text(&o["id"]);
        let symbol = text(&o["symbol"]);
        let side = text(&o["side"]);
        let m = *MARKETS
            .iter()
            .find(|m| m.symbol == symbol)
            .expect("a known market");
        let trade_id = format!("{}", 2_000_000_000_000 + self.counter);
        let counter = self.object_id(t, "counter");
        self.fills.push(json!({
            "symbol": symbol,
            "tradeId": trade_id,
            "orderId": id,
            "counterOrderId": counter,
            "side": side,
            "liquidity": "maker",
            "forceTaker": false,
            "price": o["price"],
            "size": dec8(part as i128),
            "funds": dec8(funds as i128),
            "fee": dec8(fee as i128),
            "feeRate": "0.001",
            "feeCurrency": m.quote,
            "stop": "",
            "tradeType": "TRADE",
            "type": "limit",
            "createdAt": t,
        }));
        let (base_dir, quote_dir) = if side == "buy" {
            ("in", "out")
        } else {
            ("out", "in")
        };
        let quote_amount = if side == "buy" {
            funds + fee
        } else {
            funds - fee
        };
        let context =
            format!("{{\"symbol\":\"{symbol}\",\"orderId\":\"{id}\",\"tradeId\":\"{trade_id}\"}}");
        self.add_ledger(
            t,
            m.base,
            part as i128,
            base_dir,
            "Exchange",
            &context,
            "TRADE",
        );
        self.add_ledger(
            t,
            m.quote,
            quote_amount as i128,
            quote_dir,
            "Exchange",
            &context,
            "TRADE",
        );
        let order = &mut self.orders[i];
        order["isActive"] = json!(false);
        order["dealSize"] = json!(dec8(size as i128));
        order["dealFunds"] = json!(dec8((units(&o["dealFunds"]) + funds) as i128));
        order["fee"] = json!(dec8((units(&o["fee"]) + fee) as i128));
        self.sort();
        true
    }

    /// Records of `list` with `createdAt` in `[from, to]`, newest first.
    pub fn newest_first(list: &[Value], from: i64, to: i64) -> Vec<&Value> {
        let mut hits: Vec<&Value> = list
            .iter()
            .filter(|v| (from..=to).contains(&created_at(v)))
            .collect();
        hits.reverse();
        hits
    }

    /// The whole account as the truth endpoint serves it.
    pub fn truth(&self) -> Value {
        json!({
            "uid": self.uid,
            "balances": self.accounts,
            "trades": self.fills,
            "hf_trades": self.hf_fills,
            "hf_ledger": self.hf_ledger,
            "hf_orders": self.hf_orders.iter().map(served).collect::<Vec<_>>(),
            "orders": self.orders,
            "deposits": self.deposits,
            "withdrawals": self.withdrawals,
            "ledger": self.ledger,
            "isolated": self.isolated,
            "futures": self.futures,
            "earn": self.earn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_account_and_amounts_are_exact() {
        let c = DatasetConfig::default();
        let a = Dataset::generate(&c);
        let b = Dataset::generate(&c);
        assert_eq!(a.truth(), b.truth());
        assert!(!a.fills.is_empty() && !a.ledger.is_empty());
        assert_eq!(dec8(123_456_789), "1.23456789");
        assert_eq!(dec8(-5), "-0.00000005");
        let active = a.orders.iter().filter(|o| o["isActive"] == true).count();
        assert_eq!(active, c.active_orders);
        for f in &a.fills {
            assert!((c.history_start_ms..c.history_end_ms).contains(&created_at(f)));
        }
    }
}
