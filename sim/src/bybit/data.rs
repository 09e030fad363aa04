//! Deterministic data set of the Bybit simulator: one unified trading account.
//!
//! Everything is a function of [`DatasetConfig`]: the seed and the end of the data (by default
//! the minute the simulator started, because Bybit serves two years of history, and orders
//! closed without a fill for 24 hours only: a fixed calendar would fall out of reach). Amounts are integers scaled by 10^8 and printed the way Bybit prints them
//! (`"0.0125"`, `"43125.5"`). Rendering to JSON lives in `render.rs`.

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// 10^8: the scale of every amount.
pub const SCALE: i128 = 100_000_000;

/// What the data set is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// Exclusive end of the data, UTC ms; the data stops an hour before it.
    pub end_ms: i64,
    /// How many days of history before `end_ms`.
    pub days: i64,
    pub executions: usize,
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    pub funding_fees: usize,
    pub can_trade: bool,
    pub can_withdraw: bool,
    /// A classic (non-unified) account: the key says so, and the only transaction log is the
    /// contract wallet's (`contract-transaction-log`); spot fills appear in no log.
    pub classic: bool,
}

impl DatasetConfig {
    /// Defaults, with the data ending at `end_ms`.
    pub fn ending(end_ms: i64) -> Self {
        Self {
            seed: 42,
            end_ms,
            days: 180,
            executions: 1_200,
            orders_extra: 60,
            open_orders: 4,
            deposits: 40,
            withdrawals: 25,
            funding_fees: 12,
            can_trade: true,
            can_withdraw: true,
            classic: false,
        }
    }
}

/// A product category of the v5 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Spot,
    Linear,
    Inverse,
    Option,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Spot,
        Category::Linear,
        Category::Inverse,
        Category::Option,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Spot => "spot",
            Category::Linear => "linear",
            Category::Inverse => "inverse",
            Category::Option => "option",
        }
    }
    pub fn parse(s: &str) -> Option<Category> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub category: Category,
    pub symbol: String,
    pub base: String,
    pub quote: String,
    /// Settle coin of derivatives (quote for linear, base for inverse).
    pub settle: String,
    pub base_price: f64,
    pub price_dp: u32,
    pub qty_dp: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub category: Category,
    pub instrument: usize,
    pub exec_id: String,
    pub order_id: String,
    pub order_link_id: String,
    pub is_buy: bool,
    pub price: i128,
    pub qty: i128,
    pub value: i128,
    pub fee: i128,
    pub fee_currency: String,
    pub time: i64,
    pub is_maker: bool,
    /// `Trade`, or `Funding` for a perpetual's funding fee.
    pub exec_type: &'static str,
    pub order_price: i128,
    pub order_qty: i128,
    pub order_type: &'static str,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub category: Category,
    pub instrument: usize,
    pub order_id: String,
    pub order_link_id: String,
    pub is_buy: bool,
    /// 0 for market orders.
    pub price: i128,
    pub qty: i128,
    pub cum_qty: i128,
    pub cum_value: i128,
    pub cum_fee: i128,
    pub status: &'static str,
    pub order_type: &'static str,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub id: String,
    pub category: Category,
    pub symbol: String,
    pub side: &'static str,
    pub time: i64,
    pub kind: &'static str,
    pub currency: String,
    pub qty: i128,
    pub trade_price: i128,
    pub fee: i128,
    pub funding: i128,
    pub change: i128,
    pub cash_balance: i128,
    pub trade_id: String,
    pub order_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deposit {
    pub id: String,
    pub coin: String,
    pub chain: String,
    pub amount: i128,
    pub tx_id: String,
    pub status: i64,
    pub to_address: String,
    pub tag: String,
    pub fee: i128,
    pub success_at: i64,
    pub confirmations: u32,
    pub tx_index: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Withdrawal {
    pub withdraw_id: String,
    pub tx_id: String,
    pub withdraw_type: u8,
    pub coin: String,
    pub chain: String,
    pub amount: i128,
    pub fee: i128,
    pub status: &'static str,
    pub to_address: String,
    pub tag: String,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WalletCoin {
    pub coin: String,
    pub wallet_balance: i128,
    pub locked: i128,
    pub usd_price: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FundCoin {
    pub coin: String,
    pub wallet_balance: i128,
    pub transfer_balance: i128,
}

/// One Bybit Earn position.
#[derive(Debug, Clone, PartialEq)]
pub struct EarnPosition {
    /// `FlexibleSaving` or `OnChain`.
    pub category: &'static str,
    pub coin: String,
    pub product_id: String,
    pub amount: i128,
    pub total_pnl: i128,
    pub claimable_yield: i128,
    /// OnChain only: position id and order id.
    pub id: String,
    pub order_id: String,
}

/// What an order is: where, when, which side, market or limit.
#[derive(Debug, Clone, Copy)]
struct OrderSpec {
    instrument: usize,
    time: i64,
    is_buy: bool,
    market: bool,
}

/// The whole account, every list sorted by time ascending.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub user_id: u64,
    pub instruments: Vec<Instrument>,
    pub executions: Vec<Execution>,
    pub orders: Vec<Order>,
    pub ledger: Vec<LedgerRow>,
    pub deposits: Vec<Deposit>,
    pub withdrawals: Vec<Withdrawal>,
    pub unified: Vec<WalletCoin>,
    /// A classic account's spot wallet (`wallet-balance?accountType=SPOT`); empty for a
    /// unified account.
    pub spot: Vec<WalletCoin>,
    /// A classic account's contract (derivatives) wallet (`accountType=CONTRACT`); empty for a
    /// unified account.
    pub contract: Vec<WalletCoin>,
    pub funding: Vec<FundCoin>,
    pub earn: Vec<EarnPosition>,
    next_seq: u64,
}

/// Coins of the account with a rough USD price. `币安人生` is an asset only this venue lists
/// (a code no other exchange uses): it must be stored as is.
const COINS: &[(&str, f64)] = &[
    ("BTC", 60_000.0),
    ("ETH", 3_000.0),
    ("USDT", 1.0),
    ("USDC", 1.0),
    ("SOL", 140.0),
    ("XRP", 0.55),
    ("DOGE", 0.12),
    ("MNT", 0.8),
    ("币安人生", 0.15),
];

/// `(category, symbol, base, quote, settle, price decimals, qty decimals)`; the first ones
/// of each category are traded.
const INSTRUMENTS: &[(Category, &str, &str, &str, &str, u32, u32)] = &[
    (Category::Spot, "BTCUSDT", "BTC", "USDT", "", 2, 6),
    (Category::Spot, "ETHUSDT", "ETH", "USDT", "", 2, 5),
    (Category::Spot, "SOLUSDT", "SOL", "USDT", "", 2, 3),
    (Category::Spot, "ETHBTC", "ETH", "BTC", "", 6, 4),
    (Category::Spot, "XRPUSDT", "XRP", "USDT", "", 4, 2),
    (Category::Spot, "DOGEUSDT", "DOGE", "USDT", "", 5, 1),
    (Category::Spot, "MNTUSDT", "MNT", "USDT", "", 4, 2),
    (Category::Spot, "币安人生USDT", "币安人生", "USDT", "", 5, 1),
    (Category::Spot, "BTCUSDC", "BTC", "USDC", "", 2, 6),
    (Category::Spot, "SOLUSDC", "SOL", "USDC", "", 2, 3),
    (Category::Linear, "BTCUSDT", "BTC", "USDT", "USDT", 1, 3),
    (Category::Linear, "ETHUSDT", "ETH", "USDT", "USDT", 2, 2),
    (Category::Linear, "SOLUSDT", "SOL", "USDT", "USDT", 3, 1),
    (Category::Inverse, "BTCUSD", "BTC", "USD", "BTC", 1, 0),
    (Category::Inverse, "ETHUSD", "ETH", "USD", "ETH", 2, 0),
];

/// How many of the spot instruments are traded.
const TRADED_SPOT: usize = 8;

fn coin_price(code: &str) -> f64 {
    COINS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(1.0, |(_, p)| *p)
}

/// An id in Bybit's UUID form, a pure function of its parts.
pub fn uuid(seed: u64, tag: &str, n: u64) -> String {
    let a = hash_parts(&[seed, hash_str(tag), n]);
    let b = hash_parts(&[a, n, 7]);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        0x4000 | (a & 0x0fff),
        0x8000 | (b >> 50 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// The instrument's price at `t`: a deterministic wobble of ±20 % around its base price.
pub fn price_at(seed: u64, instrument: &Instrument, t: i64) -> f64 {
    let hour = t.div_euclid(HOUR_MS);
    let h = hash_parts(&[seed, hash_str(&instrument.symbol), hour as u64]);
    instrument.base_price * (0.8 + 0.4 * ((h % 10_000) as f64 / 10_000.0))
}

/// `v` rounded to `dp` decimals, scaled by 10^8.
pub fn to_scaled(v: f64, dp: u32) -> i128 {
    let unit = 10f64.powi(dp as i32);
    let rounded = (v * unit).round() as i128;
    rounded * SCALE / 10i128.pow(dp)
}

/// `a × b / 10^8`, truncated.
pub fn mul(a: i128, b: i128) -> i128 {
    a * b / SCALE
}

fn hex(rng: &mut SimRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
        .collect()
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let seed = config.seed;
        let start = config.end_ms - config.days.max(1) * DAY_MS;
        let end = config.end_ms - HOUR_MS;
        let instruments: Vec<Instrument> = INSTRUMENTS
            .iter()
            .map(
                |&(category, symbol, base, quote, settle, pdp, qdp)| Instrument {
                    category,
                    symbol: symbol.to_owned(),
                    base: base.to_owned(),
                    quote: quote.to_owned(),
                    settle: settle.to_owned(),
                    base_price: coin_price(base) / coin_price(quote).max(1e-9),
                    price_dp: pdp,
                    qty_dp: qdp,
                },
            )
            .collect();
        let traded: Vec<usize> = (0..instruments.len())
            .filter(|&i| match instruments[i].category {
                Category::Spot => i < TRADED_SPOT,
                Category::Linear => true,
                Category::Inverse => instruments[i].symbol == "BTCUSD",
                Category::Option => false,
            })
            .collect();
        let mut ds = Dataset {
            config: config.clone(),
            user_id: 100_000_000 + root.clone().fork("uid").below(900_000_000),
            instruments,
            executions: Vec::new(),
            orders: Vec::new(),
            ledger: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            unified: Vec::new(),
            spot: Vec::new(),
            contract: Vec::new(),
            funding: Vec::new(),
            earn: Vec::new(),
            next_seq: 1,
        };

        // Filled orders with their executions.
        let mut rng = root.fork("executions");
        let mut made = 0usize;
        let mut n_order = 0u64;
        while made < config.executions {
            let inst = *rng.pick(&traded);
            let fills = (1 + rng.below(3) as usize).min(config.executions - made);
            let time = rng.range_i64(start, end - 10 * MINUTE_MS);
            let is_buy = rng.chance(0.5);
            let market = rng.chance(0.3);
            let spec = OrderSpec {
                instrument: inst,
                time,
                is_buy,
                market,
            };
            ds.add_order_with_fills(spec, fills, n_order, &mut rng);
            n_order += 1;
            made += fills;
        }
        // Orders without fills: cancelled, rejected, deactivated conditional orders. Bybit
        // keeps those 24 hours only, so the account holds the recent ones.
        let mut rng = root.fork("orders_extra");
        for k in 0..config.orders_extra {
            let inst = *rng.pick(&traded);
            let time = rng.range_i64(end - 20 * HOUR_MS, end - 2 * HOUR_MS);
            let status = *rng.pick(&["Cancelled", "Cancelled", "Rejected", "Deactivated"]);
            ds.add_idle_order(inst, time, status, n_order + k as u64, &mut rng);
        }
        n_order += config.orders_extra as u64;
        // Orders still open, in the last two days.
        let mut rng = root.fork("open_orders");
        for k in 0..config.open_orders {
            let inst = traded[k % traded.len()];
            let time = rng.range_i64(end - 2 * DAY_MS, end);
            ds.add_idle_order(inst, time, "New", n_order + k as u64, &mut rng);
        }
        // Funding fees of perpetuals: executions of type Funding, and ledger rows.
        let mut rng = root.fork("funding");
        let linear: Vec<usize> = traded
            .iter()
            .copied()
            .filter(|&i| ds.instruments[i].category == Category::Linear)
            .collect();
        for k in 0..config.funding_fees {
            let inst = *rng.pick(&linear);
            let time = (rng.range_i64(start, end) / (8 * HOUR_MS)) * 8 * HOUR_MS;
            ds.add_funding(inst, time, k as u64, &mut rng);
        }
        ds.executions
            .sort_by(|a, b| a.time.cmp(&b.time).then(a.seq.cmp(&b.seq)));
        ds.orders
            .sort_by(|a, b| a.created.cmp(&b.created).then(a.order_id.cmp(&b.order_id)));

        // Deposits and withdrawals.
        let mut rng = root.fork("deposits");
        let coins = ["BTC", "ETH", "USDT", "USDC", "SOL", "币安人生"];
        for k in 0..config.deposits {
            let coin = *rng.pick(&coins);
            let chain = chain_of(coin);
            let recent = k + 3 >= config.deposits;
            let time = if recent {
                rng.range_i64(end - DAY_MS, end)
            } else {
                rng.range_i64(start, end - DAY_MS)
            };
            let status = if recent {
                *rng.pick(&[1, 2, 10011])
            } else if k % 17 == 5 {
                4
            } else if k % 11 == 3 {
                10012
            } else {
                3
            };
            let amount = to_scaled((50.0 + rng.below(5000) as f64) / coin_price(coin), 6).max(1);
            ds.deposits.push(Deposit {
                id: format!(
                    "{}",
                    1_000_000 + hash_parts(&[seed, 11, k as u64]) % 9_000_000
                ),
                coin: coin.to_owned(),
                chain: chain.to_owned(),
                amount,
                tx_id: format!("0x{}", hex(&mut rng, 64)),
                status,
                to_address: format!("0x{}", hex(&mut rng, 40)),
                tag: if coin == "XRP" {
                    "12345".into()
                } else {
                    String::new()
                },
                fee: 0,
                success_at: time,
                confirmations: if status == 3 { 64 } else { 3 },
                tx_index: rng.below(300) as u32,
            });
        }
        ds.deposits
            .sort_by(|a, b| a.success_at.cmp(&b.success_at).then(a.id.cmp(&b.id)));
        let mut rng = root.fork("withdrawals");
        for k in 0..config.withdrawals {
            let coin = *rng.pick(&coins);
            let recent = k + 2 >= config.withdrawals;
            let time = if recent {
                rng.range_i64(end - DAY_MS, end)
            } else {
                rng.range_i64(start, end - DAY_MS)
            };
            let status = if recent {
                *rng.pick(&["Pending", "SecurityCheck", "BlockchainConfirmed"])
            } else if k % 9 == 4 {
                "CancelByUser"
            } else if k % 13 == 6 {
                "Fail"
            } else {
                "success"
            };
            let internal = k % 7 == 2;
            let amount = to_scaled((20.0 + rng.below(3000) as f64) / coin_price(coin), 6).max(1);
            ds.withdrawals.push(Withdrawal {
                withdraw_id: format!(
                    "{}",
                    10_000_000 + hash_parts(&[seed, 12, k as u64]) % 90_000_000
                ),
                tx_id: if internal || status != "success" {
                    String::new()
                } else {
                    format!("0x{}", hex(&mut rng, 64))
                },
                withdraw_type: u8::from(internal),
                coin: coin.to_owned(),
                chain: chain_of(coin).to_owned(),
                amount,
                fee: if internal {
                    0
                } else {
                    to_scaled(1.0 / coin_price(coin), 6)
                },
                status,
                to_address: format!("0x{}", hex(&mut rng, 40)),
                tag: String::new(),
                create_time: time,
                update_time: time + rng.range_i64(MINUTE_MS, HOUR_MS),
            });
        }
        ds.withdrawals.sort_by(|a, b| {
            a.create_time
                .cmp(&b.create_time)
                .then(a.withdraw_id.cmp(&b.withdraw_id))
        });

        ds.recompute_ledger();
        ds.recompute_balances();
        let mut rng = root.fork("earn");
        for (k, (category, coin)) in [
            ("FlexibleSaving", "USDT"),
            ("FlexibleSaving", "BTC"),
            ("OnChain", "ETH"),
        ]
        .into_iter()
        .enumerate()
        {
            let amount = to_scaled((500.0 + rng.below(5_000) as f64) / coin_price(coin), 8);
            let onchain = category == "OnChain";
            ds.earn.push(EarnPosition {
                category,
                coin: coin.to_owned(),
                product_id: (1 + k * 7).to_string(),
                amount,
                total_pnl: amount / 1000,
                claimable_yield: if onchain { 0 } else { amount / 20_000 },
                id: if onchain {
                    (300 + k).to_string()
                } else {
                    String::new()
                },
                order_id: if onchain {
                    uuid(seed, "earn", k as u64)
                } else {
                    String::new()
                },
            });
        }
        ds
    }

    fn add_order_with_fills(&mut self, spec: OrderSpec, fills: usize, n: u64, rng: &mut SimRng) {
        let OrderSpec {
            instrument: inst,
            time,
            is_buy,
            market,
        } = spec;
        let seed = self.config.seed;
        let i = self.instruments[inst].clone();
        let price = to_scaled(price_at(seed, &i, time), i.price_dp).max(1);
        let notional = 20.0 + rng.below(2_000) as f64;
        // What one unit of quantity is worth in USD: inverse contracts are counted in USD.
        let usd_per_unit = if i.category == Category::Inverse {
            1.0
        } else {
            price_at(seed, &i, time) * coin_price(&i.quote)
        };
        let step = SCALE / 10i128.pow(i.qty_dp.min(8));
        let per_fill = to_scaled(notional / usd_per_unit.max(1e-12), i.qty_dp).max(step);
        let order_id = uuid(seed, "order", n);
        let link = format!("exsync-{n}");
        let mut cum_qty = 0;
        let mut cum_value = 0;
        let mut cum_fee = 0;
        let mut t = time;
        let order_qty = per_fill * fills as i128;
        for f in 0..fills {
            let qty = per_fill;
            let value = if i.category == Category::Inverse {
                // Inverse contracts: qty in USD, value in the coin.
                qty * SCALE / price.max(1)
            } else {
                mul(price, qty)
            };
            let maker = !market && rng.chance(0.6);
            let (fee, fee_currency) = match (i.category, is_buy) {
                (Category::Spot, true) => (qty / 1000, i.base.clone()),
                (Category::Spot, false) => (value / 1000, i.quote.clone()),
                (Category::Inverse, _) => (value * 55 / 100_000, i.settle.clone()),
                _ => (value * 55 / 100_000, i.settle.clone()),
            };
            let seq = self.next_seq;
            self.next_seq += 1;
            self.executions.push(Execution {
                category: i.category,
                instrument: inst,
                exec_id: uuid(seed, "exec", n * 8 + f as u64),
                order_id: order_id.clone(),
                order_link_id: link.clone(),
                is_buy,
                price,
                qty,
                value,
                fee,
                fee_currency,
                time: t,
                is_maker: maker,
                exec_type: "Trade",
                order_price: if market { 0 } else { price },
                order_qty,
                order_type: if market { "Market" } else { "Limit" },
                seq,
            });
            cum_qty += qty;
            cum_value += value;
            cum_fee += fee;
            t += rng.range_i64(1, 3 * MINUTE_MS);
        }
        self.orders.push(Order {
            category: i.category,
            instrument: inst,
            order_id,
            order_link_id: link,
            is_buy,
            price: if market { 0 } else { price },
            qty: order_qty,
            cum_qty,
            cum_value,
            cum_fee,
            status: "Filled",
            order_type: if market { "Market" } else { "Limit" },
            created: time,
            updated: t,
        });
    }

    fn add_idle_order(
        &mut self,
        inst: usize,
        time: i64,
        status: &'static str,
        n: u64,
        rng: &mut SimRng,
    ) {
        let seed = self.config.seed;
        let i = self.instruments[inst].clone();
        let price = to_scaled(price_at(seed, &i, time) * 0.9, i.price_dp).max(1);
        let qty = to_scaled(100.0 / i.base_price.max(1e-9), i.qty_dp)
            .max(10i128.pow(8 - i.qty_dp.min(8)));
        self.orders.push(Order {
            category: i.category,
            instrument: inst,
            order_id: uuid(seed, "order", n),
            order_link_id: String::new(),
            is_buy: rng.chance(0.5),
            price,
            qty,
            cum_qty: 0,
            cum_value: 0,
            cum_fee: 0,
            status,
            order_type: "Limit",
            created: time,
            updated: if status == "New" {
                time
            } else {
                time + rng.range_i64(1, HOUR_MS)
            },
        });
    }

    fn add_funding(&mut self, inst: usize, time: i64, k: u64, rng: &mut SimRng) {
        let seed = self.config.seed;
        let i = self.instruments[inst].clone();
        let price = to_scaled(price_at(seed, &i, time), i.price_dp).max(1);
        let qty = to_scaled(0.5 + rng.below(10) as f64, i.qty_dp);
        let value = mul(price, qty);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.executions.push(Execution {
            category: i.category,
            instrument: inst,
            exec_id: uuid(seed, "funding", k),
            order_id: String::new(),
            order_link_id: String::new(),
            is_buy: rng.chance(0.5),
            price,
            qty,
            value,
            fee: value / 10_000,
            fee_currency: i.settle.clone(),
            time,
            is_maker: false,
            exec_type: "Funding",
            order_price: 0,
            order_qty: 0,
            order_type: "UNKNOWN",
            seq,
        });
    }

    /// The transaction log from the executions: a spot fill moves its base and its quote coin,
    /// a derivative fill pays its fee, a funding fee is a settlement. Balances run from zero
    /// per coin (the log of a fresh account). A classic account logs its contract wallet only:
    /// its spot fills leave no row.
    pub fn recompute_ledger(&mut self) {
        let seed = self.config.seed;
        let mut balances: std::collections::BTreeMap<String, i128> = Default::default();
        let mut rows = Vec::new();
        for e in &self.executions {
            let i = &self.instruments[e.instrument];
            let side = if e.is_buy { "Buy" } else { "Sell" };
            let mut push = |currency: &str,
                            change: i128,
                            kind: &'static str,
                            fee: i128,
                            funding: i128,
                            n: u64| {
                let bal = balances.entry(currency.to_owned()).or_insert(0);
                *bal += change;
                rows.push(LedgerRow {
                    id: format!(
                        "{}",
                        hash_parts(&[seed, hash_str(&e.exec_id), n]) % 1_000_000_000_000
                    ),
                    category: e.category,
                    symbol: i.symbol.clone(),
                    side,
                    time: e.time,
                    kind,
                    currency: currency.to_owned(),
                    qty: e.qty,
                    trade_price: e.price,
                    fee,
                    funding,
                    change,
                    cash_balance: *bal,
                    trade_id: if kind == "TRADE" {
                        e.exec_id.clone()
                    } else {
                        String::new()
                    },
                    order_id: e.order_id.clone(),
                });
            };
            match (e.exec_type, e.category) {
                (_, Category::Spot) if self.config.classic => {}
                ("Funding", _) => push(&i.settle, -e.fee, "SETTLEMENT", 0, e.fee, 0),
                (_, Category::Spot) => {
                    let base_fee = if e.fee_currency == i.base { e.fee } else { 0 };
                    let quote_fee = if e.fee_currency == i.quote { e.fee } else { 0 };
                    let (db, dq) = if e.is_buy {
                        (e.qty, -e.value)
                    } else {
                        (-e.qty, e.value)
                    };
                    push(&i.base, db - base_fee, "TRADE", base_fee, 0, 0);
                    push(&i.quote, dq - quote_fee, "TRADE", quote_fee, 0, 1);
                }
                _ => push(&i.settle, -e.fee, "TRADE", e.fee, 0, 0),
            }
        }
        self.ledger = rows;
    }

    /// Balances: the unified wallet holds what the log says (never below zero) plus a seeded
    /// starting amount, open spot orders lock part of it; the funding wallet holds what the
    /// settled deposits brought less the settled withdrawals (never below zero). A classic
    /// account has no unified wallet but a spot wallet (the seeded amounts, open spot orders
    /// locking part of them: its fills are in no log) and a contract wallet (half the seeded
    /// amount plus what its log says, never below zero, for the coins the log moves; nothing
    /// locked).
    pub fn recompute_balances(&mut self) {
        let mut rng = SimRng::new(self.config.seed).fork("balances");
        let mut unified = Vec::new();
        let mut spot = Vec::new();
        let mut contract = Vec::new();
        for (coin, price) in COINS {
            let from_log = self
                .ledger
                .iter()
                .rev()
                .find(|r| r.currency == *coin)
                .map_or(0, |r| r.cash_balance);
            let seeded = to_scaled((1_000.0 + rng.below(20_000) as f64) / price, 8);
            if self.config.classic {
                let locked = if *coin == "USDT" || *coin == "BTC" {
                    seeded / 10
                } else {
                    0
                };
                spot.push(WalletCoin {
                    coin: (*coin).to_owned(),
                    wallet_balance: seeded,
                    locked,
                    usd_price: *price,
                });
                if self.ledger.iter().any(|r| r.currency == *coin) {
                    contract.push(WalletCoin {
                        coin: (*coin).to_owned(),
                        wallet_balance: (seeded / 2 + from_log).max(0),
                        locked: 0,
                        usd_price: *price,
                    });
                }
                continue;
            }
            let balance = (seeded + from_log).max(0);
            let locked = if *coin == "USDT" || *coin == "BTC" {
                balance / 10
            } else {
                0
            };
            unified.push(WalletCoin {
                coin: (*coin).to_owned(),
                wallet_balance: balance,
                locked,
                usd_price: *price,
            });
        }
        self.unified = unified;
        self.spot = spot;
        self.contract = contract;
        let mut funding: Vec<FundCoin> = Vec::new();
        for d in self
            .deposits
            .iter()
            .filter(|d| matches!(d.status, 3 | 10012))
        {
            match funding.iter_mut().find(|f| f.coin == d.coin) {
                Some(f) => f.wallet_balance += d.amount,
                None => funding.push(FundCoin {
                    coin: d.coin.clone(),
                    wallet_balance: d.amount,
                    transfer_balance: 0,
                }),
            }
        }
        for w in self
            .withdrawals
            .iter()
            .filter(|w| !matches!(w.status, "CancelByUser" | "Fail" | "Reject"))
        {
            if let Some(f) = funding.iter_mut().find(|f| f.coin == w.coin) {
                f.wallet_balance = (f.wallet_balance - w.amount - w.fee).max(0);
            }
        }
        for f in &mut funding {
            f.transfer_balance = f.wallet_balance - f.wallet_balance / 20;
        }
        funding.sort_by(|a, b| a.coin.cmp(&b.coin));
        self.funding = funding;
    }

    /// Adds `n` filled spot orders of one fill each at `now`, with their log rows.
    pub fn append_executions(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        let spot: Vec<usize> = (0..TRADED_SPOT.min(self.instruments.len())).collect();
        let base = 1_000_000 + self.orders.len() as u64;
        for k in 0..n {
            let inst = *rng.pick(&spot);
            let is_buy = rng.chance(0.5);
            let spec = OrderSpec {
                instrument: inst,
                time: now,
                is_buy,
                market: true,
            };
            self.add_order_with_fills(spec, 1, base + k as u64, rng);
        }
        self.executions
            .sort_by(|a, b| a.time.cmp(&b.time).then(a.seq.cmp(&b.seq)));
        self.orders
            .sort_by(|a, b| a.created.cmp(&b.created).then(a.order_id.cmp(&b.order_id)));
        self.recompute_ledger();
        n
    }
}

fn chain_of(coin: &str) -> &'static str {
    match coin {
        "BTC" => "BTC",
        "ETH" | "USDC" | "币安人生" => "ETH",
        "USDT" => "TRX",
        "SOL" => "SOL",
        _ => "ETH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> DatasetConfig {
        DatasetConfig::ending(20_000 * DAY_MS)
    }

    #[test]
    fn same_seed_same_data() {
        let a = Dataset::generate(&small());
        let b = Dataset::generate(&small());
        assert_eq!(a.executions, b.executions);
        assert_eq!(a.ledger, b.ledger);
        let c = Dataset::generate(&DatasetConfig { seed: 7, ..small() });
        assert_ne!(a.executions, c.executions);
    }

    #[test]
    fn counts_ids_and_times() {
        let ds = Dataset::generate(&small());
        let trades = ds
            .executions
            .iter()
            .filter(|e| e.exec_type == "Trade")
            .count();
        assert_eq!(trades, 1_200);
        let mut ids: Vec<&str> = ds.executions.iter().map(|e| e.exec_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ds.executions.len());
        let start = small().end_ms - 180 * DAY_MS;
        assert!(ds
            .executions
            .iter()
            .all(|e| e.time >= start && e.time < small().end_ms));
        assert!(ds.orders.iter().any(|o| o.status == "New"));
        assert!(ds.deposits.iter().any(|d| d.status != 3));
        let mut ledger_ids: Vec<&str> = ds.ledger.iter().map(|r| r.id.as_str()).collect();
        ledger_ids.sort_unstable();
        ledger_ids.dedup();
        assert_eq!(ledger_ids.len(), ds.ledger.len());
    }

    #[test]
    fn a_classic_account_logs_its_contract_wallet_only() {
        let unified = Dataset::generate(&small());
        let classic = Dataset::generate(&DatasetConfig {
            classic: true,
            ..small()
        });
        assert_eq!(unified.executions, classic.executions);
        assert!(unified.ledger.iter().any(|r| r.category == Category::Spot));
        assert!(!classic.ledger.is_empty());
        assert!(classic.ledger.iter().all(|r| r.category != Category::Spot));
        let contract: Vec<&LedgerRow> = unified
            .ledger
            .iter()
            .filter(|r| r.category != Category::Spot)
            .collect();
        assert_eq!(contract.len(), classic.ledger.len());
    }
}
