//! The simulated Coinbase account: wallets, fills, orders, per-wallet transactions and
//! perpetuals (INTX) portfolios with their per-asset balances, generated from a seed, all
//! before the data set's anchor ("now" when the sim started).
//!
//! Amounts are built as exact decimal strings from integers; nothing goes through a float.

use serde_json::{json, Value};

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// Products traded by the account: id, base, quote, price in quote cents (scale 2), size
/// scale.
pub const PRODUCTS: [(&str, &str, &str, i64, u32); 5] = [
    ("BTC-USD", "BTC", "USD", 4_200_000, 8),
    ("ETH-USD", "ETH", "USD", 250_000, 6),
    ("SOL-USD", "SOL", "USD", 14_000, 4),
    ("ADA-USDC", "ADA", "USDC", 45, 2),
    ("ETH-BTC", "ETH", "BTC", 5, 6),
];

/// When every product was listed: candles exist from here on (2023-01-01 UTC).
pub const LISTED_MS: i64 = 1_672_531_200_000;

/// Everything the generator needs.
#[derive(Debug, Clone)]
pub struct DatasetConfig {
    pub seed: u64,
    /// The data set's "now", UTC ms: every record is older.
    pub anchor_ms: i64,
    /// Days of history before the anchor.
    pub days: i64,
    pub orders: usize,
    pub open_orders: usize,
    /// Transactions per currency wallet, about.
    pub transactions: usize,
    pub can_trade: bool,
    pub can_transfer: bool,
    /// Perpetuals (INTX) portfolios besides the default portfolio.
    pub intx_portfolios: usize,
    /// The key may not list the portfolios: `GET /api/v3/brokerage/portfolios` answers 403.
    pub portfolios_forbidden: bool,
}

/// One wallet (account) and its transactions, newest last.
#[derive(Debug, Clone)]
pub struct Wallet {
    pub raw: Value,
    pub uuid: String,
    pub transactions: Vec<Value>,
}

/// One perpetuals (INTX) portfolio: its entry in `GET /api/v3/brokerage/portfolios` and its
/// per-asset balances as `GET /api/v3/brokerage/intx/balances/{portfolio_uuid}` lists them.
#[derive(Debug, Clone)]
pub struct IntxPortfolio {
    pub uuid: String,
    pub name: String,
    pub balances: Vec<Value>,
}

/// The whole account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub portfolio_uuid: String,
    pub user_id: String,
    pub wallets: Vec<Wallet>,
    pub intx_portfolios: Vec<IntxPortfolio>,
    /// Fills, oldest first, with their paging sequence number.
    pub fills: Vec<(u64, i64, Value)>,
    /// Orders, oldest first, with their paging sequence number and creation time.
    pub orders: Vec<(u64, i64, Value)>,
    next_seq: u64,
}

/// A UUID-shaped id from the generator.
pub fn uuid(rng: &mut SimRng) -> String {
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

/// `mantissa / 10^scale` as a decimal string (`dec(-1234, 2)` = `"-12.34"`).
pub fn dec(mantissa: i128, scale: u32) -> String {
    let neg = mantissa < 0;
    let digits = mantissa.unsigned_abs().to_string();
    let s = scale as usize;
    let body = if s == 0 {
        digits
    } else {
        let padded = format!("{digits:0>width$}", width = s + 1);
        let (i, f) = padded.split_at(padded.len() - s);
        format!("{i}.{f}")
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// RFC 3339 with microseconds, as Coinbase writes `sequence_timestamp` and `created_time`.
pub fn rfc3339_us(ms: i64, micros: i64) -> String {
    let secs = ms.div_euclid(1000);
    format!(
        "{}.{:06}Z",
        seconds_text(secs),
        ms.rem_euclid(1000) * 1000 + micros
    )
}

/// RFC 3339 with milliseconds, as Coinbase writes `trade_time`.
pub fn rfc3339_ms(ms: i64) -> String {
    format!(
        "{}.{:03}Z",
        seconds_text(ms.div_euclid(1000)),
        ms.rem_euclid(1000)
    )
}

/// RFC 3339 in whole seconds, as the v2 API writes `created_at`.
pub fn rfc3339_s(ms: i64) -> String {
    format!("{}Z", seconds_text(ms.div_euclid(1000)))
}

fn seconds_text(secs: i64) -> String {
    let (y, m, d) = crate::time::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Parses what [`rfc3339_us`], [`rfc3339_ms`] and [`rfc3339_s`] write (and any RFC 3339 UTC
/// time with a `Z`): UTC ms.
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || !text.ends_with('Z') || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let days = crate::time::days_from_civil(n(0..4)?, n(5..7)? as u32, n(8..10)? as u32);
    let mut ms = days * DAY_MS + n(11..13)? * HOUR_MS + n(14..16)? * MINUTE_MS + n(17..19)? * 1000;
    if b[19] == b'.' {
        let frac = &text[20..text.len() - 1];
        let digits: String = frac.chars().take(3).collect();
        let digits = format!("{digits:0<3}");
        ms += digits.parse::<i64>().ok()?;
    }
    Some(ms)
}

/// Crypto wallets: code, name, exponent. DOGE and MASK are empty wallets that never held
/// anything; ZKQ is a currency no market lists.
const CRYPTO_NAMES: [(&str, &str, u32); 8] = [
    ("BTC", "Bitcoin", 8),
    ("ETH", "Ethereum", 8),
    ("SOL", "Solana", 9),
    ("ADA", "Cardano", 6),
    ("USDC", "USDC", 6),
    ("DOGE", "Dogecoin", 8),
    ("MASK", "Mask Network", 8),
    ("ZKQ", "Zkq Unlisted Token", 8),
];

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed).fork("coinbase");
        let mut rng = root.fork("account");
        let portfolio_uuid = uuid(&mut rng);
        let user_id = uuid(&mut rng);
        let mut ds = Dataset {
            config: config.clone(),
            portfolio_uuid,
            user_id,
            wallets: Vec::new(),
            intx_portfolios: Vec::new(),
            fills: Vec::new(),
            orders: Vec::new(),
            next_seq: 1_000_000,
        };
        ds.generate_wallets(&mut root.fork("wallets"));
        let mut irng = root.fork("intx");
        for i in 0..config.intx_portfolios {
            let portfolio = intx_portfolio(&mut irng, i);
            ds.intx_portfolios.push(portfolio);
        }
        let from = config.anchor_ms - config.days * DAY_MS;
        let mut orng = root.fork("orders");
        let mut times: Vec<i64> = (0..config.orders)
            .map(|_| orng.range_i64(from, config.anchor_ms - HOUR_MS))
            .collect();
        times.sort_unstable();
        let open_from = times.len().saturating_sub(config.open_orders);
        for (i, t) in times.into_iter().enumerate() {
            let status = if i >= open_from {
                "OPEN"
            } else if orng.chance(0.15) {
                "CANCELLED"
            } else {
                "FILLED"
            };
            ds.add_order(t, status, &mut orng);
        }
        ds
    }

    fn generate_wallets(&mut self, rng: &mut SimRng) {
        let created = LISTED_MS - 30 * DAY_MS;
        let add = |ds: &mut Dataset,
                   rng: &mut SimRng,
                   code: &str,
                   name: &str,
                   exponent: u32,
                   kind: &str,
                   default: bool,
                   platform: &str,
                   balance: i128,
                   hold: i128,
                   tx: usize| {
            let id = uuid(rng);
            let scale = exponent.min(8);
            let raw = json!({
                "uuid": id,
                "name": name,
                "currency": code,
                "available_balance": { "value": dec(balance, scale), "currency": code },
                "default": default,
                "active": true,
                "created_at": rfc3339_us(created, 0),
                "updated_at": rfc3339_us(created + DAY_MS, 0),
                "deleted_at": null,
                "type": kind,
                "ready": true,
                "hold": { "value": dec(hold, scale), "currency": code },
                "retail_portfolio_id": ds.portfolio_uuid,
                "platform": platform,
            });
            let mut w = Wallet {
                raw,
                uuid: id,
                transactions: Vec::new(),
            };
            ds.generate_transactions(&mut w, code, scale, tx, rng);
            ds.wallets.push(w);
        };
        let n = self.config.transactions;
        // Fiat.
        let usd_balance = i128::from(rng.range_i64(100_000, 9_000_000));
        add(
            self,
            rng,
            "USD",
            "Cash (USD)",
            2,
            "ACCOUNT_TYPE_FIAT",
            true,
            "ACCOUNT_PLATFORM_CONSUMER",
            usd_balance,
            12_345,
            n + n / 2,
        );
        for (i, (code, _, exp)) in CRYPTO_NAMES.iter().enumerate() {
            let scale = (*exp).min(8);
            let zero = matches!(*code, "DOGE" | "MASK");
            let (bal, hold) = if zero {
                (0, 0)
            } else {
                let b =
                    i128::from(rng.range_i64(1, 5_000_000)) * 10i128.pow(scale.saturating_sub(4));
                let h = if i % 2 == 0 { 0 } else { b / 7 };
                (b, h)
            };
            let tx = if zero {
                0
            } else {
                n / 2 + (rng.below(n as u64 + 1) as usize)
            };
            add(
                self,
                rng,
                code,
                &format!("{code} Wallet"),
                *exp,
                "ACCOUNT_TYPE_CRYPTO",
                true,
                "ACCOUNT_PLATFORM_CONSUMER",
                bal,
                hold,
                tx,
            );
        }
        // Several wallets per currency: staked ADA and ETH, a BTC vault, the futures balance.
        add(
            self,
            rng,
            "ADA",
            "Staked ADA",
            6,
            "ACCOUNT_TYPE_CRYPTO",
            false,
            "ACCOUNT_PLATFORM_CONSUMER",
            5_047_160,
            0,
            n / 3,
        );
        add(
            self,
            rng,
            "ETH",
            "Staked ETH",
            8,
            "ACCOUNT_TYPE_CRYPTO",
            false,
            "ACCOUNT_PLATFORM_CONSUMER",
            31_400_000,
            0,
            n / 3,
        );
        add(
            self,
            rng,
            "BTC",
            "BTC Vault",
            8,
            "ACCOUNT_TYPE_VAULT",
            false,
            "ACCOUNT_PLATFORM_CONSUMER",
            2_500_000,
            0,
            3,
        );
        add(
            self,
            rng,
            "USD",
            "Futures (USD)",
            2,
            "ACCOUNT_TYPE_FIAT",
            false,
            "ACCOUNT_PLATFORM_CFM_CONSUMER",
            150_000,
            2_000,
            0,
        );
    }

    fn generate_transactions(
        &mut self,
        w: &mut Wallet,
        code: &str,
        scale: u32,
        n: usize,
        rng: &mut SimRng,
    ) {
        let from = self.config.anchor_ms - self.config.days * DAY_MS;
        let mut times: Vec<i64> = (0..n)
            .map(|_| rng.range_i64(from, self.config.anchor_ms - HOUR_MS) / 1000 * 1000)
            .collect();
        times.sort_unstable();
        let staked = w.raw["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Staked");
        for t in times {
            let amount =
                i128::from(rng.range_i64(1, 2_000_000)) * 10i128.pow(scale.saturating_sub(5));
            let kind = if staked {
                *rng.pick(&["staking_reward", "staking_reward", "send"])
            } else if code == "USD" {
                *rng.pick(&[
                    "fiat_deposit",
                    "fiat_withdrawal",
                    "advanced_trade_fill",
                    "buy",
                ])
            } else {
                *rng.pick(&[
                    "send",
                    "send",
                    "advanced_trade_fill",
                    "sell",
                    "interest",
                    "tx",
                ])
            };
            let negative = match kind {
                "fiat_withdrawal" | "sell" => true,
                "send" | "advanced_trade_fill" | "tx" => rng.chance(0.5),
                _ => false,
            };
            let pending = rng.chance(0.03);
            let tx = transaction(
                rng,
                w,
                code,
                scale,
                kind,
                if negative { -amount } else { amount },
                t,
                pending,
            );
            w.transactions.push(tx);
        }
    }

    /// Adds one order at `t` with its fills (none for a cancelled order without fills).
    fn add_order(&mut self, t: i64, status: &str, rng: &mut SimRng) {
        let (product, _, _, cents, size_scale) = *rng.pick(&PRODUCTS);
        let order_id = uuid(rng);
        let side = if rng.chance(0.5) { "BUY" } else { "SELL" };
        // Open orders rest on the book: limit orders.
        let limit = status == "OPEN" || rng.chance(0.6);
        let price_cents = i128::from(cents) * i128::from(rng.range_i64(80, 120)) / 100
            + i128::from(rng.below(100));
        let size_units =
            i128::from(rng.range_i64(1, 5_000)) * 10i128.pow(size_scale.saturating_sub(4));
        let n_fills = match status {
            "FILLED" => 1 + rng.below(3) as usize,
            "OPEN" => rng.below(2) as usize,
            _ => rng.below(2) as usize,
        };
        let mut filled = 0i128;
        let mut value = 0i128; // scale: 2 + size_scale
        let mut fees = 0i128; // scale: 2 + size_scale
        let mut last_fill = None;
        for k in 0..n_fills {
            let share = if status == "FILLED" && k + 1 == n_fills {
                size_units - filled
            } else {
                size_units / (n_fills as i128 + 1)
            };
            if share <= 0 {
                continue;
            }
            let ft = t + (k as i64 + 1) * 1_000 + rng.range_i64(0, 500);
            let fill_value = price_cents * share;
            let fee = fill_value * 6 / 1000;
            filled += share;
            value += fill_value;
            fees += fee;
            last_fill = Some(ft);
            let seq = self.seq();
            let raw = json!({
                "entry_id": format!("{:016x}{:016x}{:016x}{:016x}", rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()),
                "trade_id": uuid(rng),
                "order_id": order_id,
                "trade_time": rfc3339_ms(ft),
                "trade_type": "FILL",
                "price": dec(price_cents, 2),
                "size": dec(share, size_scale),
                "commission": dec(fee, 2 + size_scale),
                "product_id": product,
                "sequence_timestamp": rfc3339_us(ft, 1 + rng.range_i64(0, 900)),
                "liquidity_indicator": if limit { "MAKER" } else { "TAKER" },
                "size_in_quote": false,
                "user_id": self.user_id,
                "side": side,
                "retail_portfolio_id": self.portfolio_uuid,
            });
            self.fills.push((seq, ft, raw));
        }
        let config = if limit {
            json!({ "limit_limit_gtc": { "base_size": dec(size_units, size_scale), "limit_price": dec(price_cents, 2), "post_only": false } })
        } else {
            json!({ "market_market_ioc": { "base_size": dec(size_units, size_scale) } })
        };
        let avg = if filled > 0 {
            dec(price_cents, 2)
        } else {
            "0".into()
        };
        let total_scale = 2 + size_scale;
        let seq = self.seq();
        let raw = json!({
            "order_id": order_id,
            "product_id": product,
            "user_id": self.user_id,
            "order_configuration": config,
            "side": side,
            "client_order_id": uuid(rng),
            "status": status,
            "time_in_force": if limit { "GOOD_UNTIL_CANCELLED" } else { "IMMEDIATE_OR_CANCEL" },
            "created_time": rfc3339_us(t, rng.range_i64(0, 999)),
            "completion_percentage": if status == "FILLED" { "100.00" } else { "0" },
            "filled_size": dec(filled, size_scale),
            "average_filled_price": avg,
            "fee": "",
            "number_of_fills": n_fills.to_string(),
            "filled_value": dec(value, total_scale),
            "pending_cancel": false,
            "size_in_quote": false,
            "total_fees": dec(fees, total_scale),
            "size_inclusive_of_fees": false,
            "total_value_after_fees": dec(if side == "BUY" { value + fees } else { value - fees }, total_scale),
            "trigger_status": "INVALID_ORDER_TYPE",
            "order_type": if limit { "LIMIT" } else { "MARKET" },
            "reject_reason": "REJECT_REASON_UNSPECIFIED",
            "settled": status == "FILLED",
            "product_type": "SPOT",
            "reject_message": "",
            "cancel_message": if status == "CANCELLED" { "User requested cancel" } else { "" },
            "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": "0",
            "is_liquidation": false,
            "last_fill_time": last_fill.map(rfc3339_ms),
            "edit_history": [],
            "leverage": "",
            "margin_type": "UNKNOWN_MARGIN_TYPE",
            "retail_portfolio_id": self.portfolio_uuid,
        });
        self.orders.push((seq, t, raw));
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1 + (hash_parts(&[self.next_seq]) % 7);
        self.next_seq
    }

    /// `n` new filled orders at `now` (each with its fills): for incremental syncs.
    pub fn append_orders(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        for i in 0..n {
            self.add_order(now - 10_000 + i as i64 * 10, "FILLED", rng);
        }
        n
    }

    /// Fills every open order at `now` (one fill for what is left), as an order completes
    /// after a client has seen it open. Returns how many orders changed.
    pub fn fill_open_orders(&mut self, now: i64, rng: &mut SimRng) -> usize {
        let open: Vec<usize> = (0..self.orders.len())
            .filter(|i| self.orders[*i].2["status"] == "OPEN")
            .collect();
        for (k, i) in open.iter().enumerate() {
            let raw = self.orders[*i].2.clone();
            let product = raw["product_id"].as_str().unwrap_or_default().to_owned();
            let Some(&(_, _, _, _, size_scale)) = PRODUCTS.iter().find(|p| p.0 == product) else {
                continue;
            };
            let config = raw["order_configuration"]["limit_limit_gtc"].clone();
            let size = units(config["base_size"].as_str().unwrap_or("0"), size_scale);
            let price = units(config["limit_price"].as_str().unwrap_or("0"), 2);
            let filled = units(raw["filled_size"].as_str().unwrap_or("0"), size_scale);
            let value = units(raw["filled_value"].as_str().unwrap_or("0"), 2 + size_scale);
            let fees = units(raw["total_fees"].as_str().unwrap_or("0"), 2 + size_scale);
            let share = size - filled;
            let ft = now - 5_000 + k as i64 * 10;
            let fill_value = price * share;
            let fee = fill_value * 6 / 1000;
            let seq = self.seq();
            let fill = json!({
                "entry_id": format!("{:016x}{:016x}{:016x}{:016x}", rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()),
                "trade_id": uuid(rng),
                "order_id": raw["order_id"],
                "trade_time": rfc3339_ms(ft),
                "trade_type": "FILL",
                "price": dec(price, 2),
                "size": dec(share, size_scale),
                "commission": dec(fee, 2 + size_scale),
                "product_id": product,
                "sequence_timestamp": rfc3339_us(ft, 7),
                "liquidity_indicator": "MAKER",
                "size_in_quote": false,
                "user_id": self.user_id,
                "side": raw["side"],
                "retail_portfolio_id": self.portfolio_uuid,
            });
            self.fills.push((seq, ft, fill));
            let o = &mut self.orders[*i].2;
            o["status"] = json!("FILLED");
            o["completion_percentage"] = json!("100.00");
            o["filled_size"] = json!(dec(size, size_scale));
            o["filled_value"] = json!(dec(value + fill_value, 2 + size_scale));
            o["total_fees"] = json!(dec(fees + fee, 2 + size_scale));
            o["average_filled_price"] = json!(dec(price, 2));
            o["number_of_fills"] = json!((o["number_of_fills"]
                .as_str()
                .unwrap_or("0")
                .parse::<u32>()
                .unwrap_or(0)
                + 1)
            .to_string());
            o["last_fill_time"] = json!(rfc3339_ms(ft));
            o["settled"] = json!(true);
        }
        open.len()
    }

    /// `n` new crypto deposits into the first default crypto wallet at `now`.
    pub fn append_deposits(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        let Some(i) = self
            .wallets
            .iter()
            .position(|w| w.raw["type"] == "ACCOUNT_TYPE_CRYPTO" && w.raw["default"] == true)
        else {
            return 0;
        };
        let code = self.wallets[i].raw["currency"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for k in 0..n {
            let t = (now - 10_000) / 1000 * 1000 + k as i64 * 1000;
            let amount = i128::from(rng.range_i64(1, 1_000_000));
            let tx = transaction(rng, &self.wallets[i], &code, 8, "send", amount, t, false);
            self.wallets[i].transactions.push(tx);
        }
        n
    }

    /// Completes every pending transaction. Returns how many changed.
    pub fn complete_pending(&mut self) -> usize {
        let mut n = 0;
        for w in &mut self.wallets {
            for tx in &mut w.transactions {
                if tx["status"] == "pending" {
                    tx["status"] = json!("completed");
                    if tx["network"].is_object() {
                        tx["network"]["status"] = json!("confirmed");
                    }
                    n += 1;
                }
            }
        }
        n
    }

    /// The ground truth, as `/__sim/truth` serves it.
    /// `GET /api/v3/brokerage/cfm/balance_summary`: the futures (CFM) account's summary, from
    /// the CFM wallet (`cfm_usd_balance` = its available + hold, the hold is the open orders'),
    /// in the documented shape; `None` when the account has no futures wallet.
    /// unconfirmed: how the summary's numbers relate to the CFM wallet of `/accounts`, and what
    /// Coinbase answers a user without a futures account (served here as 404 `NOT_FOUND`).
    pub fn cfm_balance_summary(&self) -> Option<Value> {
        let w = self
            .wallets
            .iter()
            .find(|w| w.raw["platform"] == "ACCOUNT_PLATFORM_CFM_CONSUMER")?;
        let cents = |v: &Value| -> i128 {
            let text = v.as_str().unwrap_or("0");
            let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
            let frac = format!("{frac:0<2}");
            whole.parse::<i128>().unwrap_or(0) * 100 + frac[..2].parse::<i128>().unwrap_or(0)
        };
        let available = cents(&w.raw["available_balance"]["value"]);
        let hold = cents(&w.raw["hold"]["value"]);
        let usd = |c: i128| json!({ "value": dec(c, 2), "currency": "USD" });
        Some(json!({
            "balance_summary": {
                "futures_buying_power": usd(available),
                "total_usd_balance": usd(available + hold),
                "cbi_usd_balance": usd(0),
                "cfm_usd_balance": usd(available + hold),
                "total_open_orders_hold_amount": usd(hold),
                "unrealized_pnl": usd(0),
                "daily_realized_pnl": usd(0),
                "initial_margin": usd(hold),
                "available_margin": usd(available),
                "liquidation_threshold": usd(0),
                "liquidation_buffer_amount": usd(available),
                "liquidation_buffer_percentage": "1000",
            }
        }))
    }

    /// `GET /api/v3/brokerage/portfolios`: the default portfolio and the INTX ones, those of
    /// `portfolio_type` only when it is given. Each is `{name, uuid, type, deleted}`.
    pub fn portfolios(&self, portfolio_type: Option<&str>) -> Value {
        let mut all = vec![json!({
            "name": "Default",
            "uuid": self.portfolio_uuid,
            "type": "DEFAULT",
            "deleted": false,
        })];
        all.extend(
            self.intx_portfolios.iter().map(
                |p| json!({ "name": p.name, "uuid": p.uuid, "type": "INTX", "deleted": false }),
            ),
        );
        all.retain(|p| portfolio_type.is_none_or(|t| p["type"] == t));
        json!({ "portfolios": all })
    }

    /// `GET /api/v3/brokerage/intx/balances/{portfolio_uuid}`: `{"portfolio_balances": [{
    /// "portfolio_uuid", "balances": [...], "is_margin_limit_reached"}]}`, the shape of
    /// Coinbase's `GetBalanceSummaryResponse`; `None` for a portfolio that is not an INTX one
    /// of the account.
    /// unconfirmed: what Coinbase answers for a portfolio that is not INTX (served as 404).
    pub fn intx_balances(&self, portfolio_uuid: &str) -> Option<Value> {
        let p = self
            .intx_portfolios
            .iter()
            .find(|p| p.uuid == portfolio_uuid)?;
        Some(json!({
            "portfolio_balances": [{
                "portfolio_uuid": p.uuid,
                "balances": p.balances,
                "is_margin_limit_reached": false,
            }]
        }))
    }

    pub fn truth(&self) -> Value {
        let mut deposits = Vec::new();
        let mut withdrawals = Vec::new();
        let mut ledger = Vec::new();
        for w in &self.wallets {
            for tx in &w.transactions {
                let negative = tx["amount"]["amount"]
                    .as_str()
                    .is_some_and(|a| a.starts_with('-'));
                match (tx["type"].as_str().unwrap_or_default(), negative) {
                    ("fiat_deposit", _) | ("send", false) => deposits.push(tx.clone()),
                    ("fiat_withdrawal", _) | ("send", true) => withdrawals.push(tx.clone()),
                    _ => {}
                }
                ledger.push(tx.clone());
            }
        }
        json!({
            "portfolio_uuid": self.portfolio_uuid,
            "accounts": self.wallets.iter().map(|w| w.raw.clone()).collect::<Vec<_>>(),
            "fills": self.fills.iter().map(|f| f.2.clone()).collect::<Vec<_>>(),
            "orders": self.orders.iter().map(|o| o.2.clone()).collect::<Vec<_>>(),
            "deposits": deposits,
            "withdrawals": withdrawals,
            "ledger": ledger,
            "cfm_balance_summary": self.cfm_balance_summary(),
            "intx_portfolios": self.intx_portfolios.iter().map(|p| json!({
                "uuid": p.uuid,
                "name": p.name,
                "balances": p.balances,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Collateral assets of an INTX portfolio: code, scale of the amounts, collateral weight.
const INTX_ASSETS: [(&str, u32, &str); 3] =
    [("USDC", 6, "1"), ("BTC", 8, "0.9"), ("ETH", 8, "0.85")];

/// The `i`-th INTX portfolio: one balance per collateral asset, in the fields of Coinbase's
/// perpetuals `Balance` (`asset` object, `quantity`, `hold`, `transfer_hold`,
/// `collateral_value`, `collateral_weight`, `max_withdraw_amount`, `loan`,
/// `loan_collateral_requirement_usd`, `pledged_quantity`), amounts as decimal strings. The
/// holds never exceed the quantity; the first asset of the second portfolio is empty.
fn intx_portfolio(rng: &mut SimRng, i: usize) -> IntxPortfolio {
    let uuid = uuid(rng);
    let mut balances = Vec::new();
    for (k, (code, scale, weight)) in INTX_ASSETS.iter().enumerate() {
        let quantity = if i == 1 && k == 0 {
            0
        } else {
            i128::from(rng.range_i64(1, 9_000_000)) * 10i128.pow(scale.saturating_sub(4))
        };
        let hold = quantity / i128::from(rng.range_i64(3, 9));
        let transfer_hold = if k == 1 { quantity / 20 } else { 0 };
        let free = quantity - hold - transfer_hold;
        balances.push(json!({
            "asset": {
                "asset_id": format!("{}-1-{k}", 14_000 + i),
                "asset_uuid": self::uuid(rng),
                "asset_name": code,
                "status": "ACTIVE",
                "collateral_weight": weight,
                "account_collateral_limit": "",
                "ecosystem_collateral_limit_breached": false,
                "asset_icon_url": "",
                "supported_networks_enabled": true,
            },
            "quantity": dec(quantity, *scale),
            "hold": dec(hold, *scale),
            "transfer_hold": dec(transfer_hold, *scale),
            "collateral_value": dec(free, *scale),
            "collateral_weight": weight,
            "max_withdraw_amount": dec(free, *scale),
            "loan": "0",
            "loan_collateral_requirement_usd": "0",
            "pledged_quantity": "0",
        }));
    }
    IntxPortfolio {
        uuid,
        name: format!("Perpetuals {}", i + 1),
        balances,
    }
}

/// A decimal string written by [`dec`] with `scale` digits back to its mantissa.
fn units(text: &str, scale: u32) -> i128 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = format!("{frac:0<width$}", width = scale as usize);
    format!("{int}{}", &frac[..scale as usize])
        .parse()
        .unwrap_or(0)
}

/// One v2 transaction object.
#[allow(clippy::too_many_arguments)]
fn transaction(
    rng: &mut SimRng,
    w: &Wallet,
    code: &str,
    scale: u32,
    kind: &str,
    amount: i128,
    t: i64,
    pending: bool,
) -> Value {
    let id = uuid(rng);
    let usd = amount / 10i128.pow(scale.saturating_sub(2)).max(1);
    let mut tx = json!({
        "id": id,
        "type": kind,
        "status": if pending { "pending" } else { "completed" },
        "amount": { "amount": dec(amount, scale), "currency": code },
        "native_amount": { "amount": dec(usd, 2), "currency": "USD" },
        "description": null,
        "created_at": rfc3339_s(t),
        "updated_at": rfc3339_s(t + 60_000),
        "resource": "transaction",
        "resource_path": format!("/v2/accounts/{}/transactions/{id}", w.uuid),
        "instant_exchange": false,
        "details": { "title": kind, "subtitle": code },
    });
    if kind == "send" {
        let hash = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64()
        );
        let fee = if amount < 0 {
            dec(i128::from(rng.range_i64(1, 999)), scale)
        } else {
            dec(0, scale)
        };
        tx["network"] = json!({
            "status": if pending { "pending" } else { "confirmed" },
            "hash": hash,
            "network_name": code.to_ascii_lowercase(),
            "transaction_fee": { "amount": fee, "currency": code },
        });
        tx["to"] = json!({ "resource": "address", "address": format!("addr{:012x}", rng.next_u64() & 0xffff_ffff_ffff) });
    }
    if kind == "advanced_trade_fill" {
        tx["advanced_trade_fill"] = json!({ "fill_price": "1", "product_id": format!("{code}-USD"), "order_id": uuid(rng), "commission": "0", "order_side": if amount < 0 { "sell" } else { "buy" } });
    }
    tx
}

/// Deterministic candle of `product` with `bar_ms` bars opening at `open` (ms): Coinbase's
/// object, prices derived from the product's reference price.
pub fn candle(seed: u64, product: &str, cents: i64, bar_ms: i64, open: i64) -> Value {
    let h = hash_parts(&[seed, hash_str(product), bar_ms as u64, open as u64]);
    let base = i128::from(cents) * 100; // scale 4
    let drift = |x: u64, span: i128| i128::from((x % 2001) as i64 - 1000) * span / 1000;
    let span = base / 20;
    let o = base + drift(h, span);
    let c = base + drift(h >> 11, span);
    let hi = o.max(c) + i128::from((h >> 22) % 1000) * span / 2000;
    let lo = o.min(c) - i128::from((h >> 33) % 1000) * span / 2000;
    let vol = i128::from((h >> 40) % 1_000_000) + 1;
    json!({
        "start": (open / 1000).to_string(),
        "low": dec(lo.max(1), 4),
        "high": dec(hi, 4),
        "open": dec(o, 4),
        "close": dec(c, 4),
        "volume": dec(vol, 3),
    })
}
