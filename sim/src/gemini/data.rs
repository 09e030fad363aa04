//! The Gemini simulator's account: generated from a seed, rendered as Gemini's JSON objects.
//!
//! Every object is built once, as the JSON Gemini sends (amounts as decimal strings, times in
//! `timestamp` seconds and `timestampms`), and served and dumped as the same value: what the
//! sim serves is its ground truth. Fills of one order share its price, so the order's average
//! price is that price exactly. Some fills of an order share a millisecond, so a page may end
//! in the middle of one.

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, SimRng};

const DAY_MS: i64 = 86_400_000;

/// A market: symbol (lower case), base, quote, price range and scales.
#[derive(Debug, Clone, Copy)]
pub struct Market {
    pub symbol: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    /// Price range in quote units, as integers at `price_scale`.
    pub price_lo: i64,
    pub price_hi: i64,
    pub price_scale: u32,
}

/// Every symbol `/v1/symbols` lists. The account trades the first five.
pub const MARKETS: [Market; 12] = [
    market("btcusd", "BTC", "USD", 2_500_000, 9_000_000, 2),
    market("ethusd", "ETH", "USD", 150_000, 450_000, 2),
    market("ethbtc", "ETH", "BTC", 4_000, 8_000, 5),
    market("solusd", "SOL", "USD", 2_000, 25_000, 2),
    market("btcgusd", "BTC", "GUSD", 2_500_000, 9_000_000, 2),
    market("ethgusd", "ETH", "GUSD", 150_000, 450_000, 2),
    market("solbtc", "SOL", "BTC", 100, 900, 7),
    market("paxgusd", "PAXG", "USD", 180_000, 260_000, 2),
    market("zecusd", "ZEC", "USD", 2_000, 9_000, 2),
    market("ltcusd", "LTC", "USD", 5_000, 15_000, 2),
    market("dogeusd", "DOGE", "USD", 5_000, 40_000, 5),
    market("btcgusdperp", "BTC", "GUSD", 2_500_000, 9_000_000, 2),
];
const TRADED: usize = 5;

const fn market(
    symbol: &'static str,
    base: &'static str,
    quote: &'static str,
    price_lo: i64,
    price_hi: i64,
    price_scale: u32,
) -> Market {
    Market {
        symbol,
        base,
        quote,
        price_lo,
        price_hi,
        price_scale,
    }
}

/// The account's currencies: a spot balance each.
pub const CURRENCIES: [&str; 7] = ["BTC", "ETH", "SOL", "USD", "GUSD", "USDC", "PAXG"];
/// Staked currencies: a staking balance each.
pub const STAKED: [&str; 2] = ["ETH", "SOL"];

#[derive(Debug, Clone)]
pub struct DatasetConfig {
    pub seed: u64,
    pub history_start_ms: i64,
    pub history_end_ms: i64,
    pub trades: usize,
    /// Orders cancelled without a fill, beyond those owning the trades.
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    pub auditor: bool,
    pub trader: bool,
    pub fund_manager: bool,
}

/// The whole account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    /// `mytrades` rows, oldest first.
    pub trades: Vec<Value>,
    /// Orders (closed and live), oldest first.
    pub orders: Vec<Value>,
    /// `transfers` rows, oldest first.
    pub transfers: Vec<Value>,
    pub balances: Vec<Value>,
    pub staking: Vec<Value>,
    /// `transactions` results of the group's other accounts (their trades, and transfers
    /// between accounts, some to or from this one), oldest first. This account's own trades
    /// and transfers are rendered from `trades` and `transfers` when served.
    pub group: Vec<Value>,
    next_id: u64,
}

/// This account's short name within its group, as a master key names it.
pub const ACCOUNT: &str = "primary";
/// Another account of the group.
pub const OTHER_ACCOUNT: &str = "secondary";
/// `transactions` serves nothing before 2022-08-01 00:00 UTC (Gemini's documentation).
pub const TRANSACTIONS_FIRST_MS: i64 = 1_659_312_000_000;

/// `units` at `scale` decimals, trailing zeros dropped ("0.02", "36", "0.0000001").
pub fn decimal(units: i128, scale: u32) -> String {
    let negative = units < 0;
    let digits = units.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let frac = frac.trim_end_matches('0');
    let text = if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    };
    if negative && text.bytes().any(|b| b != b'0' && b != b'.') {
        format!("-{text}")
    } else {
        text
    }
}

/// `units` at `scale` decimals with every decimal shown ("26580.00").
pub fn fixed(units: i128, scale: u32) -> String {
    let digits = units.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    if scale == 0 {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    }
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let mut ds = Dataset {
            config: config.clone(),
            trades: Vec::new(),
            orders: Vec::new(),
            transfers: Vec::new(),
            balances: Vec::new(),
            staking: Vec::new(),
            group: Vec::new(),
            next_id: 73_000_000_000,
        };
        let root = SimRng::new(config.seed);
        let mut rng = root.fork("orders");
        let (start, end) = (config.history_start_ms, config.history_end_ms);
        let mut orders = Vec::new();
        let mut trades = 0;
        while trades < config.trades {
            let m = MARKETS[rng.below(TRADED as u64) as usize];
            let t = rng.range_i64(start, end - DAY_MS);
            let fills = (1 + rng.below(3) as usize).min(config.trades - trades);
            trades += fills;
            orders.push((t, m, fills, rng.chance(0.15)));
        }
        for _ in 0..config.orders_extra {
            let m = MARKETS[rng.below(TRADED as u64) as usize];
            orders.push((rng.range_i64(start, end - DAY_MS), m, 0, true));
        }
        orders.sort_by_key(|o| o.0);
        for (t, m, fills, cancelled) in orders {
            ds.add_order(&mut rng, t, m, fills, cancelled, false);
        }
        for _ in 0..config.open_orders {
            let m = MARKETS[rng.below(TRADED as u64) as usize];
            let t = rng.range_i64(end - 30 * DAY_MS, end - DAY_MS);
            ds.add_order(&mut rng, t, m, 0, false, true);
        }
        ds.trades.sort_by_key(trade_key);
        ds.orders
            .sort_by_key(|o| o["timestampms"].as_i64().unwrap_or(0));
        ds.generate_transfers(&mut root.fork("transfers"));
        ds.generate_balances(&mut root.fork("balances"));
        ds.generate_group(&mut root.fork("group"));
        ds
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1 + (self.next_id % 7);
        self.next_id
    }

    /// One order at `t` with `fills` fills (same price, some in the same ms), live or not.
    fn add_order(
        &mut self,
        rng: &mut SimRng,
        t: i64,
        m: Market,
        fills: usize,
        cancelled: bool,
        live: bool,
    ) {
        let order_id = self.id();
        let price = rng.range_i64(m.price_lo, m.price_hi) as i128;
        let side = if rng.chance(0.5) { "buy" } else { "sell" };
        let mut executed: i128 = 0;
        let mut fill_t = t;
        for j in 0..fills {
            if j > 0 && !rng.chance(0.3) {
                fill_t += rng.range_i64(1, 5_000);
            }
            let amount = rng.range_i64(10_000, 50_000_000) as i128; // 8 decimals
            executed += amount;
            let tid = self.id();
            self.trades.push(trade_row(
                m,
                order_id,
                tid,
                fill_t,
                side,
                price,
                amount,
                rng.chance(0.6),
            ));
        }
        let remaining: i128 = if live || cancelled {
            rng.range_i64(10_000, 20_000_000) as i128
        } else {
            0
        };
        let avg = if executed > 0 {
            fixed(price, m.price_scale)
        } else {
            "0.00".to_owned()
        };
        self.orders.push(json!({
            "order_id": order_id.to_string(),
            "id": order_id.to_string(),
            "symbol": m.symbol,
            "exchange": "gemini",
            "avg_execution_price": avg,
            "side": side,
            "type": "exchange limit",
            "timestamp": (t / 1000).to_string(),
            "timestampms": t,
            "is_live": live,
            "is_cancelled": cancelled && !live,
            "is_hidden": false,
            "was_forced": false,
            "executed_amount": decimal(executed, 8),
            "options": [],
            "price": fixed(price, m.price_scale),
            "original_amount": decimal(executed + remaining, 8),
            "remaining_amount": decimal(remaining, 8),
        }));
    }

    fn generate_transfers(&mut self, rng: &mut SimRng) {
        let (start, end) = (self.config.history_start_ms, self.config.history_end_ms);
        let mut rows = Vec::new();
        for i in 0..self.config.deposits + self.config.withdrawals {
            let deposit = i < self.config.deposits;
            let t = rng.range_i64(start, end - DAY_MS);
            let currency = *rng.pick(&CURRENCIES);
            rows.push((t, deposit, currency, rng.next_u64()));
        }
        rows.sort_by_key(|r| r.0);
        let newest_deposit = rows.iter().rposition(|r| r.1);
        for (i, (t, deposit, currency, h)) in rows.into_iter().enumerate() {
            let eid = self.id();
            let fiat = currency == "USD";
            let amount = decimal((h % 500_000_000 + 1_000) as i128, 6);
            let mut row = json!({
                "type": if deposit { "Deposit" } else { "Withdrawal" },
                // The newest deposit is credited ahead of settlement.
                "status": if Some(i) == newest_deposit { "Advanced" } else { "Complete" },
                "timestampms": t,
                "eid": eid,
                "currency": currency,
                "amount": amount,
            });
            let o = row.as_object_mut().expect("an object");
            if fiat {
                o.insert(
                    "method".into(),
                    json!(if h % 2 == 0 { "ACH" } else { "Wire" }),
                );
            } else {
                o.insert(
                    "txHash".into(),
                    json!(format!("{:016x}{:016x}", h, hash_parts(&[h, eid]))),
                );
                o.insert(
                    "destination".into(),
                    json!(format!("addr{:012x}", hash_parts(&[eid]) >> 16)),
                );
                o.insert("outputIdx".into(), json!(0));
                if !deposit {
                    o.insert(
                        "withdrawalId".into(),
                        json!(format!("{:08x}-{:04x}", h >> 32, eid % 65_536)),
                    );
                    o.insert(
                        "feeAmount".into(),
                        json!(decimal((h % 900 + 100) as i128, 6)),
                    );
                    o.insert("feeCurrency".into(), json!(currency));
                }
            }
            self.transfers.push(row);
        }
    }

    fn generate_balances(&mut self, rng: &mut SimRng) {
        for currency in CURRENCIES {
            let amount = rng.range_i64(0, 5_000_000_000) as i128;
            let available = amount - rng.range_i64(0, (amount as i64 / 4).max(1)) as i128;
            self.balances.push(json!({
                "type": "exchange",
                "currency": currency,
                "amount": decimal(amount, 8),
                "available": decimal(available, 8),
                "availableForWithdrawal": decimal(available, 8),
            }));
        }
        for currency in STAKED {
            let balance = rng.range_i64(1_000_000, 900_000_000) as i128;
            self.staking.push(json!({
                "type": "Staking",
                "currency": currency,
                "balance": decimal(balance, 8),
                "available": "0",
                "availableForWithdrawal": "0",
                "balanceByProvider": { format!("provider-{}", currency.to_lowercase()): { "balance": decimal(balance, 8) } },
            }));
        }
    }

    /// The rest of the group: a tenth as many trades of the other account as this one has
    /// (at least three), and transfers between accounts: to and from this one, and between
    /// two others. Ids from their own range, so they never meet this account's.
    fn generate_group(&mut self, rng: &mut SimRng) {
        let (start, end) = (self.config.history_start_ms, self.config.history_end_ms);
        let mut id = 95_000_000_000_u64;
        let mut next = || {
            id += 3;
            id
        };
        for _ in 0..(self.config.trades / 10).max(3) {
            let m = MARKETS[rng.below(TRADED as u64) as usize];
            let t = rng.range_i64(start, end - DAY_MS);
            let price = rng.range_i64(m.price_lo, m.price_hi) as i128;
            let amount = rng.range_i64(10_000, 50_000_000) as i128;
            let side = if rng.chance(0.5) { "buy" } else { "sell" };
            let (order_id, tid) = (next(), next());
            let row = trade_row(m, order_id, tid, t, side, price, amount, rng.chance(0.5));
            self.group.push(transaction_trade(&row, OTHER_ACCOUNT));
        }
        for i in 0..9 {
            let (source, destination) = match i % 3 {
                0 => (ACCOUNT, OTHER_ACCOUNT),
                1 => (OTHER_ACCOUNT, ACCOUNT),
                _ => (OTHER_ACCOUNT, "tertiary"),
            };
            let t = rng.range_i64(start, end - DAY_MS);
            let currency = *rng.pick(&CURRENCIES);
            let eid = next();
            self.group.push(json!({
                "timestampms": t,
                "source": source,
                "destination": destination,
                "operationReason": "",
                "status": "Complete",
                "eid": eid,
                "currency": currency,
                "amount": decimal(rng.range_i64(1_000, 90_000_000) as i128, 6),
                "method": "Internal",
                "correlationId": eid + 1,
                "transferType": "Internal",
            }));
        }
        self.group.sort_by_key(transaction_key);
    }

    /// Every `transactions` result of the group, oldest first (by time, then id).
    pub fn transactions(&self) -> Vec<Value> {
        let mut all: Vec<Value> = self
            .trades
            .iter()
            .map(|t| transaction_trade(t, ACCOUNT))
            .chain(self.transfers.iter().map(transaction_transfer))
            .chain(self.group.iter().cloned())
            .filter(|v| v["timestampms"].as_i64().unwrap_or(0) >= TRANSACTIONS_FIRST_MS)
            .collect();
        all.sort_by_key(transaction_key);
        all
    }

    /// The ledger this account's `transactions` results make, as the connector should store
    /// it: `{id, asset, amount, type, timestamp, raw}` per entry. A trade is three entries
    /// (base, quote = price × amount exactly, fee), a transfer one, signed by its direction.
    pub fn ledger(&self) -> Vec<Value> {
        let mut entries = Vec::new();
        for item in self.transactions() {
            let t = item["timestampms"].as_i64().unwrap_or(0);
            let mut push = |id: String, asset: &str, amount: String, kind: &str| {
                entries.push(json!({
                    "id": id, "asset": asset, "amount": amount, "type": kind,
                    "timestamp": t, "raw": item.clone(),
                }))
            };
            let text = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
            if item.get("tid").is_some() {
                if item["account"] != ACCOUNT {
                    continue;
                }
                let tid = item["tid"].to_string();
                let symbol = find_market(&text("symbol")).expect("a sim market");
                let (amount, cost) = (text("amount"), product(&text("price"), &text("amount")));
                let buy = item["side"] == "Buy";
                let minus = |x: &str| format!("-{x}");
                push(
                    format!("{tid}:base"),
                    symbol.base,
                    if buy { amount.clone() } else { minus(&amount) },
                    "trade",
                );
                push(
                    format!("{tid}:quote"),
                    symbol.quote,
                    if buy { minus(&cost) } else { cost },
                    "trade",
                );
                push(
                    format!("{tid}:fee"),
                    &text("feeAssetCode"),
                    minus(&text("feeAmount")),
                    "fee",
                );
            } else {
                let amount = text("amount");
                let signed = if item["destination"] == ACCOUNT && item["source"] != ACCOUNT {
                    amount
                } else if item["source"] == ACCOUNT && item["destination"] != ACCOUNT {
                    format!("-{amount}")
                } else {
                    continue;
                };
                push(
                    item["eid"].to_string(),
                    &text("currency"),
                    signed,
                    &text("transferType").to_lowercase(),
                );
            }
        }
        entries
    }

    /// `n` new filled orders of one fill each on the first market, in the minute before `now`.
    pub fn append_trades(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        for i in 0..n {
            let t = now - 60_000 + (i as i64) * (50_000 / n.max(1) as i64);
            self.add_order(rng, t, MARKETS[0], 1, false, false);
        }
        self.trades.sort_by_key(trade_key);
        self.orders
            .sort_by_key(|o| o["timestampms"].as_i64().unwrap_or(0));
        n
    }

    /// Ground truth: every object as served.
    pub fn truth(&self) -> Value {
        json!({
            "trades": self.trades,
            "orders": self.orders,
            "deposits": self.transfers.iter().filter(|t| t["type"] == "Deposit").collect::<Vec<_>>(),
            "withdrawals": self.transfers.iter().filter(|t| t["type"] == "Withdrawal").collect::<Vec<_>>(),
            "balances": { "spot": self.balances, "staking": self.staking },
            "roles": self.roles(),
            "account": self.account(),
            "symbols": self.account_symbols(),
            "transactions": self.transactions(),
            "ledger": self.ledger(),
        })
    }

    pub fn roles(&self) -> Value {
        json!({
            "isAuditor": self.config.auditor,
            "isFundManager": self.config.fund_manager,
            "isTrader": self.config.trader,
            "counterparty_id": format!("CP{:06X}", self.config.seed % 0xFF_FFFF),
            "isBroker": false,
        })
    }

    pub fn account(&self) -> Value {
        json!({
            "account": {
                "accountName": "Primary",
                "shortName": "primary",
                "type": "exchange",
                "created": self.config.history_start_ms.to_string(),
            },
            "users": [{"name": "Sim User", "status": "Active", "countryCode": "US", "isVerified": true}],
            "memo_reference_code": format!("GEM{:06X}", hash_str("memo") % 0xFF_FFFF),
        })
    }

    /// The symbols the account traded.
    pub fn account_symbols(&self) -> Vec<&'static str> {
        MARKETS[..TRADED].iter().map(|m| m.symbol).collect()
    }
}

fn trade_key(t: &Value) -> (i64, u64) {
    (
        t["timestampms"].as_i64().unwrap_or(0),
        t["tid"].as_u64().unwrap_or(0),
    )
}

#[allow(clippy::too_many_arguments)]
fn trade_row(
    m: Market,
    order_id: u64,
    tid: u64,
    t: i64,
    side: &str,
    price: i128,
    amount: i128,
    taker: bool,
) -> Value {
    // Fee: 0.25 % of the notional, exactly (price_scale + 8 + 4 decimals).
    let fee = price * amount * 25;
    json!({
        "price": fixed(price, m.price_scale),
        "amount": decimal(amount, 8),
        "timestamp": t / 1000,
        "timestampms": t,
        "type": if side == "buy" { "Buy" } else { "Sell" },
        "aggressor": taker,
        "fee_currency": m.quote,
        "fee_amount": decimal(fee, m.price_scale + 8 + 4),
        "tid": tid,
        "order_id": order_id.to_string(),
        "exchange": "gemini",
        "is_auction_fill": false,
        "is_clearing_fill": false,
        "symbol": m.symbol.to_uppercase(),
    })
}

/// A `mytrades` row as a `transactions` trade result of `account` (Gemini's `Transaction`
/// schema, trade shape).
fn transaction_trade(row: &Value, account: &str) -> Value {
    json!({
        "account": account,
        "amount": row["amount"],
        "clientOrderId": "",
        "price": row["price"],
        "timestampms": row["timestampms"],
        "side": row["type"],
        "isAggressor": row["aggressor"],
        "feeAssetCode": row["fee_currency"],
        "feeAmount": row["fee_amount"],
        "orderId": row["order_id"].as_str().and_then(|o| o.parse::<u64>().ok()),
        "exchange": "gemini",
        "isAuctionFill": false,
        "isClearingFill": false,
        "tid": row["tid"],
        "symbol": row["symbol"],
    })
}

/// A `transfers` row as a `transactions` transfer result (transfer shape): a deposit comes
/// to this account, a withdrawal leaves it. unconfirmed: that Gemini names the account in
/// `destination`/`source` and leaves the outside end out.
fn transaction_transfer(row: &Value) -> Value {
    let deposit = row["type"] == "Deposit";
    let mut v = json!({
        "timestampms": row["timestampms"],
        "operationReason": "",
        "status": row["status"],
        "eid": row["eid"],
        "currency": row["currency"],
        "amount": row["amount"],
        "transferType": row["type"],
    });
    let o = v.as_object_mut().expect("an object");
    o.insert(
        if deposit { "destination" } else { "source" }.into(),
        json!(ACCOUNT),
    );
    for (from, to) in [
        ("method", "method"),
        ("txHash", "transactionHash"),
        ("withdrawalId", "withdrawalId"),
    ] {
        if let Some(x) = row.get(from) {
            o.insert(to.into(), x.clone());
        }
    }
    v
}

fn transaction_key(v: &Value) -> (i64, u64) {
    (
        v["timestampms"].as_i64().unwrap_or(0),
        v.get("tid")
            .or_else(|| v.get("eid"))
            .and_then(Value::as_u64)
            .unwrap_or(0),
    )
}

/// `a × b` of two plain decimals, exactly, every digit of the summed scale kept
/// (`"26580.00" × "0.02"` → `"531.6000"`).
pub fn product(a: &str, b: &str) -> String {
    let parse = |x: &str| -> (i128, u32) {
        let (int, frac) = x.split_once('.').unwrap_or((x, ""));
        let units: i128 = format!("{int}{frac}").parse().expect("a plain decimal");
        (units, frac.len() as u32)
    };
    let ((ua, sa), (ub, sb)) = (parse(a), parse(b));
    fixed(ua * ub, sa + sb)
}

/// Time frames of `/v2/candles`: Gemini's word and its length.
pub const FRAMES: [(&str, i64); 7] = [
    ("1m", 60_000),
    ("5m", 300_000),
    ("15m", 900_000),
    ("30m", 1_800_000),
    ("1hr", 3_600_000),
    ("6hr", 21_600_000),
    ("1day", DAY_MS),
];
/// How many candles `/v2/candles` serves: the most recent, the open one included.
pub const CANDLE_ROWS: i64 = 300;

/// The JSON text of the candle of `symbol` opening at `open` (numbers, as Gemini sends).
pub fn candle_row(seed: u64, m: &Market, frame_ms: i64, open: i64) -> String {
    let h = hash_parts(&[seed, hash_str(m.symbol), frame_ms as u64, open as u64]);
    let span = (m.price_hi - m.price_lo).max(1) as u64;
    let base = m.price_lo as u64 + h % span;
    let o = base;
    let c = m.price_lo as u64 + (h >> 20) % span;
    let hi = o.max(c) + (h >> 40) % (span / 50 + 1);
    let lo = o.min(c).saturating_sub((h >> 48) % (span / 50 + 1)).max(1);
    let volume = (h >> 8) % 90_000_000_000 + 1;
    let p = |v: u64| decimal(v as i128, m.price_scale);
    format!(
        "[{open},{},{},{},{},{}]",
        p(o),
        p(hi),
        p(lo),
        p(c),
        decimal(volume as i128, 8)
    )
}

/// The candles `/v2/candles/{symbol}/{frame}` serves at `now`, newest first, as JSON text.
pub fn candle_rows(seed: u64, m: &Market, frame_ms: i64, now: i64) -> Vec<String> {
    let current = now.div_euclid(frame_ms) * frame_ms;
    (0..CANDLE_ROWS)
        .map(|i| candle_row(seed, m, frame_ms, current - i * frame_ms))
        .collect()
}

pub fn find_market(symbol: &str) -> Option<&'static Market> {
    MARKETS
        .iter()
        .find(|m| m.symbol.eq_ignore_ascii_case(symbol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_render_exactly() {
        assert_eq!(decimal(2_000_000, 8), "0.02");
        assert_eq!(decimal(3_600, 2), "36");
        assert_eq!(decimal(10, 8), "0.0000001");
        assert_eq!(fixed(2_658_000, 2), "26580.00");
        assert_eq!(fixed(5, 5), "0.00005");
    }

    #[test]
    fn the_same_seed_gives_the_same_account() {
        let config = DatasetConfig {
            seed: 7,
            history_start_ms: 1_700_000_000_000,
            history_end_ms: 1_710_000_000_000,
            trades: 100,
            orders_extra: 5,
            open_orders: 2,
            deposits: 10,
            withdrawals: 5,
            auditor: true,
            trader: false,
            fund_manager: false,
        };
        let a = Dataset::generate(&config);
        let b = Dataset::generate(&config);
        assert_eq!(a.truth(), b.truth());
        assert_eq!(a.trades.len(), 100);
        assert_eq!(a.transfers.len(), 15);
        let live = a.orders.iter().filter(|o| o["is_live"] == true).count();
        assert_eq!(live, 2);
        // The group's results: this account's trades and transfers, and the others'.
        assert_eq!(a.transactions().len(), 100 + 15 + a.group.len());
        // Three entries a trade, one a transfer to or from this account (six of nine
        // between accounts).
        assert_eq!(a.ledger().len(), 3 * 100 + 15 + 6);
    }

    #[test]
    fn products_keep_every_digit() {
        assert_eq!(product("26580.00", "0.02"), "531.6000");
        assert_eq!(product("20000.00", "0.5"), "10000.000");
        assert_eq!(product("3", "4"), "12");
    }
}
