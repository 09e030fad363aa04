//! Deterministic data set of the Binance simulator: assets, symbols, trades, orders, transfers.
//!
//! Everything here is a function of [`DatasetConfig`] (seed included): the same configuration
//! gives the same data on every run. Amounts are integers scaled by 10^8, the way Binance prints
//! them ("0.01000000"); rendering to JSON lives in `render.rs`.

use std::collections::HashMap;

use crate::prng::{hash_parts, hash_str, SimRng};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// 10^8: the scale of every amount in the data set.
pub const SCALE: u128 = 100_000_000;

/// The smallest amount Binance prints: "0.00000001".
pub const TINY: u64 = 1;
/// A quantity with every digit used: "98765432109.87654321".
pub const HUGE: u64 = 9_876_543_210_987_654_321;

/// The non-ASCII asset; its symbol must be percent-encoded by clients before signing.
pub const ASSET_BINANCE_LIFE: &str = "币安人生";
pub const ASSET_1000SATS: &str = "1000SATS";
/// Bought and sold again, never deposited or withdrawn: its balance ends at zero.
pub const ASSET_ROUND_TRIP: &str = "DOGE";

/// Known asset codes, in the order the account lists them; the rest are generated.
const KNOWN_ASSETS: &[(&str, f64)] = &[
    ("BTC", 60_000.0),
    ("ETH", 3_000.0),
    ("USDT", 1.0),
    ("BNB", 550.0),
    (ASSET_1000SATS, 0.000_3),
    (ASSET_BINANCE_LIFE, 0.15),
    (ASSET_ROUND_TRIP, 0.12),
    ("USDC", 1.0),
    ("FDUSD", 1.0),
    ("XRP", 0.55),
    ("SOL", 140.0),
    ("ADA", 0.45),
    ("TRX", 0.12),
    ("LTC", 75.0),
    ("DOT", 6.5),
    ("LINK", 14.0),
    ("AVAX", 30.0),
    ("SHIB", 0.000_02),
    ("UNI", 8.0),
    ("ATOM", 7.5),
    ("ETC", 24.0),
    ("XLM", 0.1),
    ("BCH", 380.0),
    ("FIL", 5.0),
    ("APT", 8.5),
    ("ARB", 0.9),
    ("OP", 1.8),
    ("NEAR", 5.2),
    ("PEPE", 0.000_01),
    ("TON", 5.5),
    ("SUI", 1.2),
    ("INJ", 22.0),
    ("AAVE", 95.0),
    ("ALGO", 0.18),
    ("SAND", 0.4),
    ("MANA", 0.4),
    ("AXS", 6.5),
    ("CHZ", 0.08),
];

/// Quote assets, most used first.
const QUOTES: &[&str] = &["USDT", "BTC", "ETH", "BNB", "FDUSD", "USDC"];

/// Binance's withdrawal statuses: 0 email sent, 1 cancelled, 2 awaiting approval, 3 rejected,
/// 4 processing, 5 failure, 6 completed.
pub const WITHDRAW_COMPLETED: u8 = 6;
/// Binance's deposit statuses: 0 pending, 1 success, 2 rejected, 6 credited but cannot withdraw,
/// 7 wrong deposit, 8 waiting user confirm.
pub const DEPOSIT_SUCCESS: u8 = 1;

/// What the data set is made of. Every field takes part in the data; the seed fixes the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetConfig {
    pub seed: u64,
    /// Milliseconds; data starts here.
    pub history_start_ms: i64,
    /// Milliseconds; no generated data at or after this instant.
    pub history_end_ms: i64,
    pub assets: usize,
    pub symbols: usize,
    pub traded_symbols: usize,
    pub trades: usize,
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    pub can_trade: bool,
    pub can_withdraw: bool,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            history_start_ms: 1_704_067_200_000, // 2024-01-01
            history_end_ms: 1_780_272_000_000,   // 2026-06-01
            assets: 60,
            symbols: 200,
            traded_symbols: 12,
            trades: 5_000,
            orders_extra: 200,
            open_orders: 5,
            deposits: 300,
            withdrawals: 150,
            can_trade: true,
            can_withdraw: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolStatus {
    Trading,
    Break,
}

impl SymbolStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolStatus::Trading => "TRADING",
            SymbolStatus::Break => "BREAK",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SymbolInfo {
    pub name: String,
    pub base: u16,
    pub quote: u16,
    pub status: SymbolStatus,
    /// Decimals of the price tick (PRICE_FILTER.tickSize = 10^-price_decimals).
    pub price_decimals: u8,
    /// Decimals of the quantity step (LOT_SIZE.stepSize = 10^-qty_decimals).
    pub qty_decimals: u8,
    /// Price around which this symbol moves, in quote units, unscaled.
    pub base_price: f64,
}

/// One fill of the account, as `GET /api/v3/myTrades` serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    pub id: u64,
    pub order_id: u64,
    pub time: i64,
    pub price: u64,
    pub qty: u64,
    pub commission: u64,
    pub commission_asset: u16,
    pub is_buyer: bool,
    pub is_maker: bool,
}

impl Trade {
    /// price × qty, truncated to 8 decimals.
    pub fn quote_qty(&self) -> u128 {
        u128::from(self.price) * u128::from(self.qty) / SCALE
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Expired => "EXPIRED",
        }
    }
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderType {
    Limit,
    Market,
    LimitMaker,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "LIMIT",
            OrderType::Market => "MARKET",
            OrderType::LimitMaker => "LIMIT_MAKER",
        }
    }
}

/// One order of the account, as `GET /api/v3/allOrders` serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: u64,
    pub time: i64,
    pub update_time: i64,
    /// 0 for MARKET orders.
    pub price: u64,
    pub orig_qty: u64,
    pub executed_qty: u64,
    pub cum_quote: u128,
    /// Index of its first trade in the symbol's trade list, and how many trades it has.
    pub first_trade: u32,
    pub n_trades: u32,
    pub status: OrderStatus,
    pub kind: OrderType,
    pub is_buy: bool,
    /// "GTC" or "IOC".
    pub ioc: bool,
}

/// The trades and orders of one traded symbol, both sorted by id (and so by time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SymbolBook {
    pub trades: Vec<Trade>,
    pub orders: Vec<Order>,
}

impl SymbolBook {
    /// The trades of the order with this id, if the order exists.
    pub fn order_trades(&self, order_id: u64) -> Option<&[Trade]> {
        let pos = self.orders.binary_search_by_key(&order_id, |o| o.id).ok()?;
        let o = &self.orders[pos];
        let start = o.first_trade as usize;
        Some(&self.trades[start..start + o.n_trades as usize])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deposit {
    pub id: u64,
    pub coin: u16,
    pub amount: u64,
    pub network: &'static str,
    pub status: u8,
    pub address: String,
    pub address_tag: String,
    pub tx_id: String,
    pub insert_time: i64,
    pub complete_time: Option<i64>,
    pub confirm_times: &'static str,
    pub wallet_type: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Withdrawal {
    pub id: String,
    pub coin: u16,
    pub amount: u64,
    pub fee: u64,
    pub network: &'static str,
    pub status: u8,
    pub address: String,
    pub tx_id: String,
    pub apply_time: i64,
    pub complete_time: Option<i64>,
    pub transfer_type: u8,
    pub withdraw_order_id: Option<String>,
    pub info: &'static str,
    pub confirm_no: u32,
    pub wallet_type: u8,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Balance {
    pub free: u128,
    pub locked: u128,
}

/// The whole simulated account and market.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub assets: Vec<String>,
    pub symbols: Vec<SymbolInfo>,
    pub symbol_index: HashMap<String, usize>,
    /// Symbol indices of the traded symbols.
    pub traded: Vec<usize>,
    /// One book per symbol; empty for untraded symbols.
    pub books: Vec<SymbolBook>,
    /// Ascending `insert_time`.
    pub deposits: Vec<Deposit>,
    /// Ascending `apply_time`.
    pub withdrawals: Vec<Withdrawal>,
    /// One per asset, in asset order.
    pub balances: Vec<Balance>,
    pub uid: u64,
    /// When the API key was created (before any data).
    pub key_create_time: i64,
    /// Last change of the account: latest trade, deposit or withdrawal.
    pub update_time: i64,
    /// The symbol whose base asset is bought and fully sold again.
    pub round_trip_symbol: usize,
}

/// The reference price of a symbol at a time: a pure function, shared by trades and klines.
pub fn price_at(seed: u64, sym: &SymbolInfo, t: i64) -> f64 {
    let h = hash_parts(&[seed, hash_str(&sym.name)]);
    let tri = |period: i64, phase: u64| {
        let x = (t + (phase % period as u64) as i64).rem_euclid(period) as f64 / period as f64;
        4.0 * (x - 0.5).abs() - 1.0
    };
    let slow = tri(97 * DAY_MS, h);
    let mid = tri(11 * DAY_MS + 7 * HOUR_MS, h >> 17);
    let fast = tri(7 * HOUR_MS + 13 * MINUTE_MS, h >> 33);
    sym.base_price * (1.0 + 0.30 * slow + 0.06 * mid + 0.01 * fast)
}

/// Rounds an unscaled amount to `decimals` and scales it by 10^8 (at least one tick).
pub fn to_scaled(v: f64, decimals: u8) -> u64 {
    let step = 10u64.pow(8 - u32::from(decimals.min(8)));
    let units = (v * SCALE as f64 / step as f64).round().max(1.0);
    (units as u64).saturating_mul(step)
}

fn price_decimals(p: f64) -> u8 {
    if p >= 1_000.0 {
        2
    } else if p >= 1.0 {
        4
    } else {
        8
    }
}

fn qty_decimals(p: f64) -> u8 {
    if p >= 1_000.0 {
        5
    } else if p >= 1.0 {
        3
    } else if p >= 0.01 {
        1
    } else {
        0
    }
}

fn generated_code(rng: &mut SimRng) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let len = 3 + rng.below(3) as usize;
    (0..len).map(|_| *rng.pick(LETTERS) as char).collect()
}

fn hex(rng: &mut SimRng, n: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| *rng.pick(HEX) as char).collect()
}

fn base58(rng: &mut SimRng, n: usize) -> String {
    const B58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    (0..n).map(|_| *rng.pick(B58) as char).collect()
}

fn network_for(coin: &str, rng: &mut SimRng) -> &'static str {
    match coin {
        "BTC" | ASSET_1000SATS => "BTC",
        "ETH" => "ETH",
        "BNB" | ASSET_BINANCE_LIFE => "BSC",
        "USDT" => ["TRX", "ETH", "BSC"][rng.below(3) as usize],
        "TRX" => "TRX",
        _ => ["ETH", "BSC"][rng.below(2) as usize],
    }
}

fn address_for(network: &str, rng: &mut SimRng) -> String {
    match network {
        "BTC" => format!("bc1q{}", base58(rng, 38).to_lowercase()),
        "TRX" => format!("T{}", base58(rng, 33)),
        _ => format!("0x{}", hex(rng, 40)),
    }
}

fn tx_for(network: &str, rng: &mut SimRng) -> String {
    match network {
        "BTC" | "TRX" => hex(rng, 64),
        _ => format!("0x{}", hex(rng, 64)),
    }
}

/// Times uniform over `[start, end)` minus one quiet gap, sorted. The gap is long enough that any
/// tiling of the history into 90-day windows has at least one empty window.
fn times_with_gap(rng: &mut SimRng, n: usize, start: i64, end: i64) -> Vec<i64> {
    let span = end - start;
    let gap_len = 200 * DAY_MS;
    let gap = if span >= 2 * gap_len {
        let g0 = start + rng.range_i64(span / 8, span - gap_len - span / 8);
        Some((g0, g0 + gap_len))
    } else {
        None
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let t = rng.range_i64(start, end);
        if let Some((g0, g1)) = gap {
            if t >= g0 && t < g1 {
                continue;
            }
        }
        out.push(t);
    }
    out.sort_unstable();
    out
}

struct OrderDraft {
    time: i64,
    seq: u32,
    order: Order,
}

impl Dataset {
    /// Builds the data set of `config`.
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let start = config.history_start_ms;
        let end = config.history_end_ms.max(start + DAY_MS);

        // Assets.
        let mut rng = root.fork("assets");
        let n_assets = config.assets.max(7);
        let mut assets: Vec<String> = Vec::with_capacity(n_assets);
        let mut usd: Vec<f64> = Vec::with_capacity(n_assets);
        for (code, price) in KNOWN_ASSETS.iter().take(n_assets) {
            assets.push((*code).to_string());
            usd.push(*price);
        }
        while assets.len() < n_assets {
            let code = generated_code(&mut rng);
            if assets.contains(&code) || KNOWN_ASSETS.iter().any(|(k, _)| *k == code) {
                continue;
            }
            // Log-uniform between 0.001 and 1000 USD, in whole powers and a mantissa.
            let price = (1.0 + rng.below(9) as f64) * 10f64.powi(rng.range_i64(-3, 3) as i32);
            assets.push(code);
            usd.push(price);
        }
        let asset_idx: HashMap<String, u16> = assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.clone(), i as u16))
            .collect();
        let idx = |code: &str| asset_idx[code];
        let quotes: Vec<u16> = QUOTES
            .iter()
            .filter_map(|q| asset_idx.get(*q).copied())
            .collect();

        // Symbols: the traded ones first, then the rest of the market.
        let mut rng = root.fork("symbols");
        let mut symbols: Vec<SymbolInfo> = Vec::new();
        let mut symbol_index: HashMap<String, usize> = HashMap::new();
        let mut add_symbol = |symbols: &mut Vec<SymbolInfo>,
                              base: u16,
                              quote: u16,
                              status: SymbolStatus|
         -> Option<usize> {
            let name = format!("{}{}", assets[base as usize], assets[quote as usize]);
            if base == quote || symbol_index.contains_key(&name) {
                return None;
            }
            let p = usd[base as usize] / usd[quote as usize];
            symbols.push(SymbolInfo {
                name: name.clone(),
                base,
                quote,
                status,
                price_decimals: price_decimals(p),
                qty_decimals: qty_decimals(p),
                base_price: p,
            });
            symbol_index.insert(name, symbols.len() - 1);
            Some(symbols.len() - 1)
        };
        let usdt = idx("USDT");
        let n_traded = config.traded_symbols.max(3);
        let mut traded = Vec::new();
        let fixed: &[(&str, &str)] = &[
            (ASSET_BINANCE_LIFE, "USDT"),
            (ASSET_1000SATS, "USDT"),
            (ASSET_ROUND_TRIP, "USDT"),
            ("BTC", "USDT"),
            ("ETH", "USDT"),
            ("BNB", "USDT"),
            ("ETH", "BTC"),
            ("BNB", "BTC"),
        ];
        for (b, q) in fixed.iter().take(n_traded) {
            if let Some(s) = add_symbol(&mut symbols, idx(b), idx(q), SymbolStatus::Trading) {
                traded.push(s);
            }
        }
        let round_trip_symbol = traded[2];
        // More traded pairs among the known assets the account uses.
        let pool: Vec<u16> = (7..assets.len().min(KNOWN_ASSETS.len()))
            .map(|i| i as u16)
            .chain([idx("BTC"), idx("ETH"), idx("BNB")])
            .collect();
        let mut attempts = 0;
        while traded.len() < n_traded && attempts < 10_000 && !pool.is_empty() {
            attempts += 1;
            let base = *rng.pick(&pool);
            let quote = *rng.pick(&quotes[..quotes.len().min(4)]);
            if let Some(s) = add_symbol(&mut symbols, base, quote, SymbolStatus::Trading) {
                traded.push(s);
            }
        }
        let mut touched: Vec<bool> = vec![false; assets.len()];
        for &s in &traded {
            touched[symbols[s].base as usize] = true;
            touched[symbols[s].quote as usize] = true;
        }
        let untouched: Vec<u16> = (0..assets.len() as u16)
            .filter(|&a| !touched[a as usize])
            .collect();
        let all_assets: Vec<u16> = (0..assets.len() as u16).collect();
        let mut attempts = 0;
        while symbols.len() < config.symbols.max(traded.len()) && attempts < 200_000 {
            attempts += 1;
            let base = if !untouched.is_empty() && rng.chance(0.8) {
                *rng.pick(&untouched)
            } else {
                *rng.pick(&all_assets)
            };
            let quote = if attempts < 100_000 {
                *rng.pick(&quotes)
            } else {
                *rng.pick(&all_assets)
            };
            let status = if rng.chance(0.05) {
                SymbolStatus::Break
            } else {
                SymbolStatus::Trading
            };
            add_symbol(&mut symbols, base, quote, status);
        }
        let mut books: Vec<SymbolBook> = vec![SymbolBook::default(); symbols.len()];

        // Trades and the orders owning them.
        let mut rng = root.fork("trades");
        let weights: Vec<u64> = traded
            .iter()
            .map(|&s| match symbols[s].name.as_str() {
                "BTCUSDT" => 20,
                "ETHUSDT" => 10,
                _ => 1 + rng.below(8),
            })
            .collect();
        let total_w: u64 = weights.iter().sum();
        let mut counts: Vec<usize> = weights
            .iter()
            .map(|w| (config.trades as u128 * u128::from(*w) / u128::from(total_w)) as usize)
            .collect();
        let assigned: usize = counts.iter().sum();
        counts[traded.len() - 1] += config.trades - assigned;
        // The round trip needs pairs: give the odd trade to another symbol.
        if counts[2] % 2 == 1 {
            counts[2] -= 1;
            counts[0] += 1;
        }
        let bnb = idx("BNB");
        for (k, &s) in traded.iter().enumerate() {
            let sym = symbols[s].clone();
            let n = counts[k];
            let round_trip = s == round_trip_symbol;
            let mut srng = rng.fork(&sym.name);
            let times = {
                let mut t: Vec<i64> = (0..n).map(|_| srng.range_i64(start, end)).collect();
                t.sort_unstable();
                t
            };
            let mut trade_id = 1_000_000 + srng.below(50_000_000);
            let mut trades: Vec<Trade> = Vec::with_capacity(n);
            let mut drafts: Vec<OrderDraft> = Vec::new();
            let mut i = 0usize;
            let mut last_buy_qty = 0u64;
            while i < n {
                let group = if round_trip {
                    1
                } else {
                    match srng.below(100) {
                        0..=69 => 1,
                        70..=89 => 2,
                        90..=96 => 3,
                        _ => 4 + srng.below(3) as usize,
                    }
                }
                .min(n - i);
                let is_buy = if round_trip {
                    drafts.len() % 2 == 0
                } else {
                    srng.chance(0.5)
                };
                let kind = match srng.below(10) {
                    0..=5 => OrderType::Limit,
                    6..=8 => OrderType::Market,
                    _ => OrderType::LimitMaker,
                };
                let price = to_scaled(price_at(config.seed, &sym, times[i]), sym.price_decimals);
                let first = trades.len();
                let mut executed = 0u64;
                let mut cum_quote = 0u128;
                for j in 0..group {
                    let t = times[i + j];
                    let usd_value =
                        (1.0 + srng.below(9) as f64) * 10f64.powi(srng.range_i64(1, 5) as i32);
                    let base_usd = usd[sym.base as usize];
                    let mut qty = to_scaled(usd_value / base_usd, sym.qty_decimals);
                    if round_trip {
                        if is_buy {
                            last_buy_qty = qty;
                        } else {
                            qty = last_buy_qty;
                        }
                    }
                    let trade_price = if kind == OrderType::Market {
                        to_scaled(price_at(config.seed, &sym, t), sym.price_decimals)
                    } else {
                        price
                    };
                    let mut tr = Trade {
                        id: trade_id,
                        order_id: 0,
                        time: t,
                        price: trade_price,
                        qty,
                        commission: 0,
                        commission_asset: 0,
                        is_buyer: is_buy,
                        is_maker: match kind {
                            OrderType::Market => false,
                            OrderType::LimitMaker => true,
                            OrderType::Limit => srng.chance(0.5),
                        },
                    };
                    // Binance takes the fee in BNB when enabled, else in the received asset.
                    let fee_choice = srng.below(3);
                    let quote_qty = tr.quote_qty();
                    if fee_choice == 0 && sym.base != bnb && sym.quote != bnb {
                        tr.commission_asset = bnb;
                        let bnb_fee =
                            quote_qty as f64 / SCALE as f64 * usd[sym.quote as usize] * 0.000_75
                                / usd[bnb as usize];
                        tr.commission = to_scaled(bnb_fee, 8);
                    } else if is_buy && !round_trip {
                        tr.commission_asset = sym.base;
                        tr.commission = (qty / 1000).max(TINY);
                    } else {
                        tr.commission_asset = sym.quote;
                        tr.commission = u64::try_from(quote_qty / 1000)
                            .unwrap_or(u64::MAX)
                            .max(TINY);
                    }
                    executed += tr.qty;
                    cum_quote += tr.quote_qty();
                    trades.push(tr);
                    trade_id += 1 + srng.below(200);
                }
                let (status, orig_qty) = match srng.below(100) {
                    _ if round_trip => (OrderStatus::Filled, executed),
                    0..=87 => (OrderStatus::Filled, executed),
                    88..=95 => (OrderStatus::Canceled, executed + executed / 2 + 1),
                    _ => (OrderStatus::Expired, executed + executed / 3 + 1),
                };
                let ioc =
                    status == OrderStatus::Expired || kind == OrderType::Market && srng.chance(0.2);
                let created = match kind {
                    OrderType::Market => times[i] - srng.below(40) as i64,
                    _ => times[i] - srng.below(6 * HOUR_MS as u64) as i64,
                }
                .max(start);
                let last_t = times[i + group - 1];
                let update_time = if status == OrderStatus::Filled {
                    last_t
                } else {
                    last_t + srng.below(2 * HOUR_MS as u64) as i64
                };
                drafts.push(OrderDraft {
                    time: created,
                    seq: drafts.len() as u32,
                    order: Order {
                        id: 0,
                        time: created,
                        update_time,
                        price: if kind == OrderType::Market { 0 } else { price },
                        orig_qty,
                        executed_qty: executed,
                        cum_quote,
                        first_trade: first as u32,
                        n_trades: group as u32,
                        status,
                        kind,
                        is_buy,
                        ioc,
                    },
                });
                i += group;
            }
            // The huge and the tiny amounts, at fixed places so every seed has them.
            if sym.name == "1000SATSUSDT" && !trades.is_empty() {
                let m = trades.len() / 2;
                trades[m].qty = HUGE;
                trades[m].price = 100; // 0.00000100
                trades[m].commission_asset = sym.quote;
                trades[m].commission = u64::try_from(trades[m].quote_qty() / 1000).unwrap_or(1);
            }
            if sym.name == "BTCUSDT" && !trades.is_empty() {
                let m = trades.len() / 3;
                trades[m].qty = TINY;
                trades[m].commission_asset = sym.base;
                trades[m].commission = TINY;
            }
            // Re-derive the order totals from the (possibly adjusted) trades.
            for d in &mut drafts {
                let o = &mut d.order;
                let ts = &trades[o.first_trade as usize..(o.first_trade + o.n_trades) as usize];
                let executed: u64 = ts.iter().map(|t| t.qty).sum();
                let cum: u128 = ts.iter().map(|t| t.quote_qty()).sum();
                if o.status == OrderStatus::Filled {
                    o.orig_qty = executed;
                } else {
                    o.orig_qty = o.orig_qty.max(executed.saturating_add(1));
                }
                o.executed_qty = executed;
                o.cum_quote = cum;
            }
            books[s] = SymbolBook {
                trades,
                orders: Vec::new(),
            };
            // Orders are numbered later, once the unfilled ones are mixed in.
            let drafts_for = drafts;
            books[s].orders = drafts_for
                .into_iter()
                .map(|d| {
                    let mut o = d.order;
                    // Stash creation order in `id` until numbering.
                    o.id = u64::from(d.seq);
                    debug_assert_eq!(o.time, d.time);
                    o
                })
                .collect();
        }

        // Orders without fills, spread over the history.
        let mut rng = root.fork("orders-extra");
        let non_round: Vec<usize> = traded
            .iter()
            .copied()
            .filter(|&s| s != round_trip_symbol)
            .collect();
        let mut extra: Vec<Vec<Order>> = vec![Vec::new(); symbols.len()];
        for _ in 0..config.orders_extra {
            let s = *rng.pick(&traded);
            let sym = &symbols[s];
            let t = rng.range_i64(start, end);
            let status = if rng.chance(0.7) {
                OrderStatus::Canceled
            } else {
                OrderStatus::Expired
            };
            let price = to_scaled(
                price_at(config.seed, sym, t) * (0.9 + 0.2 * rng.unit()),
                sym.price_decimals,
            );
            let qty = to_scaled(
                (1.0 + rng.below(9) as f64) * 10f64.powi(rng.range_i64(1, 4) as i32)
                    / usd[sym.base as usize],
                sym.qty_decimals,
            );
            extra[s].push(Order {
                id: 0,
                time: t,
                update_time: t + rng.below(3 * DAY_MS as u64) as i64,
                price,
                orig_qty: qty,
                executed_qty: 0,
                cum_quote: 0,
                first_trade: 0,
                n_trades: 0,
                status,
                kind: OrderType::Limit,
                is_buy: rng.chance(0.5),
                ioc: status == OrderStatus::Expired && rng.chance(0.5),
            });
        }
        // Open orders: the newest of their symbols. Odd ones keep the symbol's last fills.
        let mut partial_done: Vec<bool> = vec![false; symbols.len()];
        for k in 0..config.open_orders {
            if non_round.is_empty() {
                break;
            }
            let s = non_round[k % non_round.len()];
            let sym = &symbols[s];
            if k % 2 == 1 && !partial_done[s] {
                if let Some(o) = books[s]
                    .orders
                    .iter_mut()
                    .max_by_key(|o| (o.first_trade, o.time))
                {
                    if o.kind != OrderType::Market {
                        o.status = OrderStatus::PartiallyFilled;
                        o.kind = OrderType::Limit;
                        o.ioc = false;
                        o.orig_qty = o.executed_qty.saturating_mul(2).max(o.executed_qty + 1);
                        partial_done[s] = true;
                        continue;
                    }
                }
            }
            let t = end - 1 - rng.below(2 * DAY_MS as u64) as i64;
            let price = to_scaled(
                price_at(config.seed, sym, t) * (0.85 + 0.1 * rng.unit()),
                sym.price_decimals,
            );
            let is_buy = rng.chance(0.5);
            let price = if is_buy { price } else { price + price / 4 };
            let qty = to_scaled(
                (1.0 + rng.below(9) as f64) * 100.0 / usd[sym.base as usize],
                sym.qty_decimals,
            );
            extra[s].push(Order {
                id: 0,
                time: t,
                update_time: t,
                price,
                orig_qty: qty,
                executed_qty: 0,
                cum_quote: 0,
                first_trade: 0,
                n_trades: 0,
                status: OrderStatus::New,
                kind: OrderType::Limit,
                is_buy,
                ioc: false,
            });
        }
        // Number every symbol's orders by time; point the trades at them.
        let mut rng = root.fork("order-ids");
        for &s in &traded {
            let book = &mut books[s];
            let mut all: Vec<(i64, u8, u64, Order)> = book
                .orders
                .drain(..)
                .map(|o| (o.time, 0u8, o.id, o))
                .chain(
                    extra[s]
                        .drain(..)
                        .enumerate()
                        .map(|(i, o)| (o.time, 1u8, i as u64, o)),
                )
                .collect();
            all.sort_by_key(|(t, kind, seq, _)| (*t, *kind, *seq));
            let mut next_id = 100_000 + rng.below(5_000_000);
            for (_, _, _, mut o) in all {
                o.id = next_id;
                next_id += 1 + rng.below(500);
                for t in
                    &mut book.trades[o.first_trade as usize..(o.first_trade + o.n_trades) as usize]
                {
                    t.order_id = o.id;
                }
                book.orders.push(o);
            }
        }

        // Deposits.
        let mut rng = root.fork("deposits");
        let mut flow_assets: Vec<u16> = Vec::new();
        for &s in &traded {
            for a in [symbols[s].base, symbols[s].quote] {
                if assets[a as usize] != ASSET_ROUND_TRIP && !flow_assets.contains(&a) {
                    flow_assets.push(a);
                }
            }
        }
        let life = idx(ASSET_BINANCE_LIFE);
        let sats = idx(ASSET_1000SATS);
        let times = times_with_gap(&mut rng, config.deposits, start, end);
        let mut deposits = Vec::with_capacity(times.len());
        let mut dep_id = 700_000_000_000_000_000u64 + rng.below(1_000_000_000);
        for (k, t) in times.into_iter().enumerate() {
            let coin = match k % 50 {
                7 | 31 => life,
                13 | 44 => sats,
                _ if rng.chance(0.4) => usdt,
                _ => *rng.pick(&flow_assets),
            };
            let code = assets[coin as usize].clone();
            let network = network_for(&code, &mut rng);
            let status = match rng.below(100) {
                0..=79 => DEPOSIT_SUCCESS,
                80..=86 => 6,
                87..=91 => 0,
                92..=95 => 7,
                96..=97 => 8,
                _ => 2,
            };
            let usd_value = (1.0 + rng.below(9) as f64) * 10f64.powi(rng.range_i64(2, 5) as i32);
            let amount = to_scaled(usd_value / usd[coin as usize], 8);
            dep_id += 1 + rng.below(1_000_000_000);
            let confirm = match network {
                "BTC" => "2/2",
                "ETH" => "12/12",
                "TRX" => "1/1",
                _ => "15/15",
            };
            deposits.push(Deposit {
                id: dep_id,
                coin,
                amount,
                network,
                status,
                address: address_for(network, &mut rng),
                address_tag: String::new(),
                tx_id: tx_for(network, &mut rng),
                insert_time: t,
                complete_time: matches!(status, 1 | 6)
                    .then(|| t + rng.range_i64(MINUTE_MS, HOUR_MS)),
                confirm_times: confirm,
                wallet_type: u8::from(rng.chance(0.2)),
            });
        }

        // Withdrawals.
        let mut rng = root.fork("withdrawals");
        let times = times_with_gap(&mut rng, config.withdrawals, start, end);
        let mut withdrawals = Vec::with_capacity(times.len());
        for (k, t) in times.into_iter().enumerate() {
            let coin = match k % 40 {
                5 => life,
                23 => sats,
                _ if rng.chance(0.4) => usdt,
                _ => *rng.pick(&flow_assets),
            };
            let code = assets[coin as usize].clone();
            let network = network_for(&code, &mut rng);
            let status = match rng.below(100) {
                0..=74 => WITHDRAW_COMPLETED,
                75..=80 => 4,
                81..=87 => 1,
                88..=92 => 3,
                93..=97 => 5,
                _ => 2,
            };
            let usd_value = (1.0 + rng.below(9) as f64) * 10f64.powi(rng.range_i64(1, 4) as i32);
            let amount = to_scaled(usd_value / usd[coin as usize], 8);
            let fee = to_scaled(0.8 / usd[coin as usize], 8);
            let id = hex(&mut rng, 32);
            let transfer_type = u8::from(rng.chance(0.1));
            let address = address_for(network, &mut rng);
            let done = status == WITHDRAW_COMPLETED;
            let tx_id = if done {
                if transfer_type == 1 {
                    format!(
                        "Internal transfer {}",
                        100_000_000_000u64 + rng.below(900_000_000_000)
                    )
                } else {
                    tx_for(network, &mut rng)
                }
            } else {
                String::new()
            };
            // applyTime is printed to the second: keep the millisecond value consistent with it.
            let apply_time = t - t.rem_euclid(1000);
            withdrawals.push(Withdrawal {
                id,
                coin,
                amount,
                fee,
                network,
                status,
                address,
                tx_id,
                apply_time,
                complete_time: done
                    .then(|| apply_time + rng.range_i64(MINUTE_MS, 6 * HOUR_MS) / 1000 * 1000),
                transfer_type,
                withdraw_order_id: rng
                    .chance(0.15)
                    .then(|| format!("WITHDRAW{}", hex(&mut rng, 12))),
                info: match status {
                    3 => "The address is not valid. Please confirm with the recipient",
                    5 => "Withdrawal failed on chain. Funds returned to your account",
                    _ => "",
                },
                confirm_no: if done { 12 + rng.below(60) as u32 } else { 0 },
                wallet_type: u8::from(rng.chance(0.3)),
            });
        }

        let mut rng = root.fork("account");
        let mut ds = Dataset {
            config: config.clone(),
            assets,
            symbols,
            symbol_index,
            traded,
            books,
            deposits,
            withdrawals,
            balances: Vec::new(),
            uid: 100_000_000 + rng.below(900_000_000),
            key_create_time: start - rng.range_i64(DAY_MS, 400 * DAY_MS),
            update_time: 0,
            round_trip_symbol,
        };
        ds.recompute_balances();
        ds
    }

    /// Balances from the flows: deposits, withdrawals, trades and fees; open orders lock funds.
    pub fn recompute_balances(&mut self) {
        let mut flow: Vec<i128> = vec![0; self.assets.len()];
        let mut locked: Vec<i128> = vec![0; self.assets.len()];
        let mut update = self.config.history_start_ms;
        for d in &self.deposits {
            if matches!(d.status, 1 | 6) {
                flow[d.coin as usize] += i128::from(d.amount);
                update = update.max(d.insert_time);
            }
        }
        for w in &self.withdrawals {
            // Cancelled (1), rejected (3) and failed (5) withdrawals are refunded.
            if !matches!(w.status, 1 | 3 | 5) {
                flow[w.coin as usize] -= i128::from(w.amount) + i128::from(w.fee);
                update = update.max(w.apply_time);
            }
        }
        for &s in &self.traded {
            let sym = &self.symbols[s];
            let (b, q) = (sym.base as usize, sym.quote as usize);
            let book = &self.books[s];
            for t in &book.trades {
                let qq = t.quote_qty() as i128;
                if t.is_buyer {
                    flow[b] += i128::from(t.qty);
                    flow[q] -= qq;
                } else {
                    flow[b] -= i128::from(t.qty);
                    flow[q] += qq;
                }
                flow[t.commission_asset as usize] -= i128::from(t.commission);
                update = update.max(t.time);
            }
            for o in book.orders.iter().filter(|o| o.status.is_open()) {
                let rest = i128::from(o.orig_qty - o.executed_qty);
                if o.is_buy {
                    locked[q] += rest * i128::from(o.price) / SCALE as i128;
                } else {
                    locked[b] += rest;
                }
            }
        }
        self.update_time = update;
        self.balances = flow
            .iter()
            .zip(&locked)
            .map(|(&f, &l)| {
                let total = f.max(0) as u128;
                let locked = (l.max(0) as u128).min(total);
                Balance {
                    free: total - locked,
                    locked,
                }
            })
            .collect();
    }

    /// Adds `n` fills (each with its own FILLED order) at `now` on the traded symbols, ids
    /// continuing where they stopped. The round-trip symbol is left alone.
    pub fn append_trades(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        let targets: Vec<usize> = self
            .traded
            .iter()
            .copied()
            .filter(|&s| s != self.round_trip_symbol)
            .collect();
        if targets.is_empty() {
            return 0;
        }
        let seed = self.config.seed;
        for _ in 0..n {
            let s = *rng.pick(&targets);
            let sym = self.symbols[s].clone();
            let book = &mut self.books[s];
            let last_trade = book.trades.last().map(|t| (t.id, t.time));
            let trade_id = last_trade.map_or(1_000_000, |(id, _)| id + 1 + rng.below(50));
            let time = last_trade.map_or(now, |(_, t)| t.max(now));
            let order_id = book
                .orders
                .last()
                .map_or(100_000, |o| o.id + 1 + rng.below(50));
            let price = to_scaled(price_at(seed, &sym, time), sym.price_decimals);
            let qty = to_scaled(
                (1.0 + rng.below(9) as f64) * 100.0 / (sym.base_price.max(1e-12)),
                sym.qty_decimals,
            )
            .max(TINY);
            let is_buy = rng.chance(0.5);
            let trade = Trade {
                id: trade_id,
                order_id,
                time,
                price,
                qty,
                commission: 0,
                commission_asset: sym.quote,
                is_buyer: is_buy,
                is_maker: false,
            };
            let trade = Trade {
                commission: u64::try_from(trade.quote_qty() / 1000)
                    .unwrap_or(1)
                    .max(TINY),
                ..trade
            };
            book.orders.push(Order {
                id: order_id,
                time,
                update_time: time,
                price: 0,
                orig_qty: qty,
                executed_qty: qty,
                cum_quote: trade.quote_qty(),
                first_trade: book.trades.len() as u32,
                n_trades: 1,
                status: OrderStatus::Filled,
                kind: OrderType::Market,
                is_buy,
                ioc: false,
            });
            book.trades.push(trade);
        }
        self.recompute_balances();
        n
    }

    pub fn total_trades(&self) -> usize {
        self.books.iter().map(|b| b.trades.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> DatasetConfig {
        DatasetConfig {
            trades: 2_000,
            ..DatasetConfig::default()
        }
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = Dataset::generate(&small());
        let b = Dataset::generate(&small());
        assert_eq!(a, b);
        let c = Dataset::generate(&DatasetConfig { seed: 7, ..small() });
        assert_ne!(a.books, c.books);
        assert_ne!(a.deposits, c.deposits);
    }

    #[test]
    fn ids_increase_with_time_and_orders_match_trades() {
        let ds = Dataset::generate(&small());
        assert_eq!(ds.total_trades(), 2_000);
        for &s in &ds.traded {
            let book = &ds.books[s];
            for w in book.trades.windows(2) {
                assert!(w[0].id < w[1].id);
                assert!(w[0].time <= w[1].time);
            }
            for w in book.orders.windows(2) {
                assert!(w[0].id < w[1].id);
                assert!(w[0].time <= w[1].time);
            }
            for t in &book.trades {
                let trades = book.order_trades(t.order_id).expect("trade's order exists");
                assert!(trades.iter().any(|x| x.id == t.id));
            }
            for o in &book.orders {
                let ts = book.order_trades(o.id).unwrap();
                assert_eq!(o.executed_qty, ts.iter().map(|t| t.qty).sum::<u64>());
                assert_eq!(o.cum_quote, ts.iter().map(|t| t.quote_qty()).sum::<u128>());
                assert!(o.orig_qty >= o.executed_qty);
                if o.status == OrderStatus::Filled {
                    assert_eq!(o.orig_qty, o.executed_qty);
                }
            }
        }
        let open: usize = ds
            .books
            .iter()
            .flat_map(|b| &b.orders)
            .filter(|o| o.status.is_open())
            .count();
        assert_eq!(open, 5);
    }

    #[test]
    fn round_trip_asset_ends_at_zero_and_never_moves() {
        let ds = Dataset::generate(&small());
        let doge = ds
            .assets
            .iter()
            .position(|a| a == ASSET_ROUND_TRIP)
            .unwrap();
        assert_eq!(ds.balances[doge], Balance::default());
        assert!(!ds.books[ds.round_trip_symbol].trades.is_empty());
        assert!(ds.deposits.iter().all(|d| d.coin as usize != doge));
        assert!(ds.withdrawals.iter().all(|w| w.coin as usize != doge));
        let quote = ds.symbols[ds.round_trip_symbol].quote as usize;
        assert!(
            ds.balances[quote].free > 0 || ds.deposits.iter().any(|d| d.coin as usize == quote)
        );
    }

    #[test]
    fn special_assets_and_amounts_exist() {
        let ds = Dataset::generate(&small());
        for name in ["币安人生USDT", "1000SATSUSDT", "DOGEUSDT"] {
            let s = ds.symbol_index[name];
            assert!(ds.traded.contains(&s), "{name} is traded");
        }
        let all: Vec<&Trade> = ds.books.iter().flat_map(|b| &b.trades).collect();
        assert!(all.iter().any(|t| t.qty == HUGE));
        assert!(all.iter().any(|t| t.qty == TINY));
        let life = ds
            .assets
            .iter()
            .position(|a| a == ASSET_BINANCE_LIFE)
            .unwrap() as u16;
        assert!(ds.deposits.iter().any(|d| d.coin == life));
        assert!(ds.withdrawals.iter().any(|w| w.coin == life));
        assert_eq!(ds.symbols.len(), 200);
        assert_eq!(ds.assets.len(), 60);
    }

    #[test]
    fn a_million_trades_generate_quickly() {
        let t0 = std::time::Instant::now();
        let ds = Dataset::generate(&DatasetConfig {
            trades: 1_000_000,
            ..DatasetConfig::default()
        });
        assert_eq!(ds.total_trades(), 1_000_000);
        // Generous bound for debug builds on slow machines; release takes well under a second.
        assert!(t0.elapsed().as_secs() < 60, "took {:?}", t0.elapsed());
    }
}
