//! Deterministic data set of the Bitget simulator: one classic (v2) account.
//!
//! Everything is a function of [`DatasetConfig`]: the seed and the end of the data (by default
//! the minute the simulator started, because Bitget serves fills, orders and bills of the last
//! 90 days only: a fixed calendar would fall out of reach). Fills, orders and bills lie in the
//! last `trade_days`; deposits and withdrawals in the last `days`. Amounts are integers scaled
//! by 10^8. Ids are numbers that grow with time, as Bitget's do, so `idLessThan` pages back in
//! time. Rendering to JSON lives in `render.rs`.

use std::collections::BTreeMap;

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
    /// Days of deposits and withdrawals before `end_ms`.
    pub days: i64,
    /// Days of fills, orders and bills before `end_ms` (at most 89: Bitget serves 90).
    pub trade_days: i64,
    pub fills: usize,
    pub orders_extra: usize,
    pub open_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Futures fills (one order each), spread over the product types.
    pub futures_fills: usize,
    pub can_trade: bool,
    pub can_withdraw: bool,
    /// A unified trading account: served by the `/api/v3` endpoints; the classic v2 account
    /// and trade endpoints refuse it.
    pub uta: bool,
}

impl DatasetConfig {
    /// Defaults, with the data ending at `end_ms`.
    pub fn ending(end_ms: i64) -> Self {
        Self {
            seed: 42,
            end_ms,
            days: 200,
            trade_days: 80,
            fills: 900,
            orders_extra: 60,
            open_orders: 4,
            deposits: 60,
            withdrawals: 40,
            futures_fills: 150,
            can_trade: true,
            can_withdraw: true,
            uta: false,
        }
    }
}

/// Which account a fill or an order belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Margin {
    Spot,
    Cross,
    Isolated,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Symbol {
    pub symbol: String,
    pub base: String,
    pub quote: String,
    pub base_price: f64,
    pub price_dp: u32,
    pub qty_dp: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fill {
    /// Spot, cross margin or isolated margin.
    pub margin: Margin,
    pub symbol: usize,
    pub trade_id: u64,
    pub order_id: u64,
    pub is_buy: bool,
    pub price: i128,
    pub size: i128,
    pub amount: i128,
    pub fee: i128,
    pub fee_coin: String,
    pub maker: bool,
    pub market: bool,
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Spot, cross margin or isolated margin.
    pub margin: Margin,
    pub symbol: usize,
    pub order_id: u64,
    pub client_oid: String,
    pub is_buy: bool,
    /// 0 for market orders.
    pub price: i128,
    pub size: i128,
    pub filled: i128,
    pub quote_volume: i128,
    /// `live`, `partially_filled`, `filled`, `cancelled`.
    pub status: &'static str,
    pub market: bool,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bill {
    pub bill_id: u64,
    pub coin: String,
    pub group_type: &'static str,
    pub business_type: &'static str,
    pub size: i128,
    pub balance: i128,
    pub fees: i128,
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TransferRow {
    pub order_id: u64,
    pub trade_id: String,
    pub coin: String,
    pub size: i128,
    pub fee: i128,
    /// `success`, `pending`, `fail`.
    pub status: &'static str,
    pub to_address: String,
    pub from_address: String,
    pub chain: String,
    pub tag: String,
    pub dest: &'static str,
    pub time: i64,
    pub updated: i64,
}

/// A futures fill, its order and the bill of its fee, in one product type.
#[derive(Debug, Clone, PartialEq)]
pub struct FuturesFill {
    pub product_type: &'static str,
    pub symbol: &'static str,
    pub margin_coin: &'static str,
    pub trade_id: u64,
    pub order_id: u64,
    pub bill_id: u64,
    pub is_buy: bool,
    /// `open` or `close`.
    pub trade_side: &'static str,
    pub price: i128,
    pub size: i128,
    pub quote: i128,
    pub fee: i128,
    /// The margin coin's balance after the fee.
    pub balance: i128,
    pub maker: bool,
    pub time: i64,
}

/// A futures order without a fill: cancelled, or still open (`live`).
#[derive(Debug, Clone, PartialEq)]
pub struct FuturesCancel {
    pub status: &'static str,
    pub product_type: &'static str,
    pub symbol: &'static str,
    pub margin_coin: &'static str,
    pub order_id: u64,
    pub is_buy: bool,
    pub price: i128,
    pub size: i128,
    pub created: i64,
    pub updated: i64,
}

/// One cross margin record: a transfer, a loan, a repayment or interest.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginRecord {
    /// The isolated wallet's symbol; `None` for cross margin.
    pub symbol: Option<&'static str>,
    pub margin_id: u64,
    pub coin: &'static str,
    pub margin_type: &'static str,
    pub amount: i128,
    pub balance: i128,
    pub time: i64,
}

/// `(product type, symbol, margin coin, price)` of the futures traded.
pub const FUTURES: &[(&str, &str, &str, f64)] = &[
    ("USDT-FUTURES", "BTCUSDT", "USDT", 60_000.0),
    ("USDT-FUTURES", "ETHUSDT", "USDT", 3_000.0),
    ("USDC-FUTURES", "BTCPERP", "USDC", 60_000.0),
    ("COIN-FUTURES", "BTCUSD", "BTC", 60_000.0),
];

/// One coin of a wallet: `(coin, available, frozen, locked)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    pub coin: String,
    pub available: i128,
    pub frozen: i128,
    pub locked: i128,
}

/// One futures account (per product type and margin coin).
#[derive(Debug, Clone, PartialEq)]
pub struct FuturesAccount {
    pub product_type: &'static str,
    pub coin: String,
    pub available: i128,
    pub locked: i128,
}

/// The whole account, every list sorted by time ascending.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub user_id: u64,
    pub symbols: Vec<Symbol>,
    pub fills: Vec<Fill>,
    pub orders: Vec<Order>,
    pub bills: Vec<Bill>,
    pub deposits: Vec<TransferRow>,
    pub withdrawals: Vec<TransferRow>,
    pub futures_fills: Vec<FuturesFill>,
    pub futures_cancels: Vec<FuturesCancel>,
    pub margin_records: Vec<MarginRecord>,
    pub spot: Vec<Holding>,
    pub funding: Vec<Holding>,
    pub futures: Vec<FuturesAccount>,
    pub margin: Vec<Holding>,
    /// Isolated margin: `(symbol, holding)`.
    pub isolated: Vec<(&'static str, Holding)>,
    pub earn: Vec<Holding>,
    next_id: u64,
}

/// Coins of the account with a rough USD price. `币安人生` is a coin only this venue lists
/// (a code no other exchange uses): it must be stored as is.
const COINS: &[(&str, f64)] = &[
    ("BTC", 60_000.0),
    ("ETH", 3_000.0),
    ("USDT", 1.0),
    ("USDC", 1.0),
    ("SOL", 140.0),
    ("XRP", 0.55),
    ("BGB", 1.2),
    ("币安人生", 0.15),
];

/// `(symbol, base, quote, price decimals, qty decimals)`; the first [`TRADED`] are traded.
/// `DOGEUSDT` trades a coin the account never held: it is no partition of the account.
const SYMBOLS: &[(&str, &str, &str, u32, u32)] = &[
    ("BTCUSDT", "BTC", "USDT", 2, 6),
    ("ETHUSDT", "ETH", "USDT", 2, 4),
    ("SOLUSDT", "SOL", "USDT", 3, 3),
    ("ETHBTC", "ETH", "BTC", 6, 4),
    ("BGBUSDT", "BGB", "USDT", 4, 2),
    ("币安人生USDT", "币安人生", "USDT", 5, 1),
    ("XRPUSDT", "XRP", "USDT", 4, 2),
    ("BTCUSDC", "BTC", "USDC", 2, 6),
    ("DOGEUSDT", "DOGE", "USDT", 5, 1),
];

/// How many of the symbols are traded.
const TRADED: usize = 6;

fn coin_price(code: &str) -> f64 {
    COINS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(0.1, |(_, p)| *p)
}

/// The symbol's price at `t`: a deterministic wobble of ±20 % around its base price.
pub fn price_at(seed: u64, s: &Symbol, t: i64) -> f64 {
    let hour = t.div_euclid(HOUR_MS);
    let h = hash_parts(&[seed, hash_str(&s.symbol), hour as u64]);
    s.base_price * (0.8 + 0.4 * ((h % 10_000) as f64 / 10_000.0))
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
        let end = config.end_ms - HOUR_MS;
        let trade_start = config.end_ms - config.trade_days.clamp(1, 89) * DAY_MS;
        let start = config.end_ms - config.days.max(1) * DAY_MS;
        let symbols: Vec<Symbol> = SYMBOLS
            .iter()
            .map(|&(symbol, base, quote, pdp, qdp)| Symbol {
                symbol: symbol.to_owned(),
                base: base.to_owned(),
                quote: quote.to_owned(),
                base_price: coin_price(base) / coin_price(quote).max(1e-9),
                price_dp: pdp,
                qty_dp: qdp,
            })
            .collect();
        let mut ds = Dataset {
            config: config.clone(),
            user_id: 1_000_000_000 + root.clone().fork("uid").below(8_000_000_000),
            symbols,
            fills: Vec::new(),
            orders: Vec::new(),
            bills: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            futures_fills: Vec::new(),
            futures_cancels: Vec::new(),
            margin_records: Vec::new(),
            spot: Vec::new(),
            funding: Vec::new(),
            futures: Vec::new(),
            margin: Vec::new(),
            isolated: Vec::new(),
            earn: Vec::new(),
            next_id: 1,
        };

        // Filled orders with their fills.
        let mut rng = root.fork("fills");
        let mut made = 0usize;
        while made < config.fills {
            let symbol = rng.below(TRADED as u64) as usize;
            let fills = (1 + rng.below(3) as usize).min(config.fills - made);
            let time = rng.range_i64(trade_start, end - 10 * MINUTE_MS);
            let is_buy = rng.chance(0.5);
            let market = rng.chance(0.3);
            ds.add_filled_order(Margin::Spot, symbol, time, is_buy, market, fills, &mut rng);
            made += fills;
        }
        // Orders cancelled without a fill.
        let mut rng = root.fork("orders_extra");
        for _ in 0..config.orders_extra {
            let symbol = rng.below(TRADED as u64) as usize;
            let time = rng.range_i64(trade_start, end - HOUR_MS);
            ds.add_idle_order(Margin::Spot, symbol, time, "cancelled", &mut rng);
        }
        // Orders still open, in the last two days.
        let mut rng = root.fork("open_orders");
        for k in 0..config.open_orders {
            let time = rng.range_i64(end - 2 * DAY_MS, end);
            ds.add_idle_order(Margin::Spot, k % TRADED, time, "live", &mut rng);
        }
        // Cross margin: fills of ETHUSDT (the margin wallet holds ETH and USDT), a few orders
        // cancelled.
        let mut rng = root.fork("margin_fills");
        let ethusdt = ds
            .symbols
            .iter()
            .position(|s| s.symbol == "ETHUSDT")
            .expect("ETHUSDT is listed");
        for k in 0..config.fills / 8 {
            let time = rng.range_i64(trade_start, end - 10 * MINUTE_MS);
            let is_buy = rng.chance(0.5);
            let market = rng.chance(0.5);
            ds.add_filled_order(Margin::Cross, ethusdt, time, is_buy, market, 1, &mut rng);
            if k % 10 == 0 {
                let time = rng.range_i64(trade_start, end - HOUR_MS);
                ds.add_idle_order(Margin::Cross, ethusdt, time, "cancelled", &mut rng);
            }
        }
        for _ in 0..2 {
            let time = rng.range_i64(end - 2 * DAY_MS, end);
            ds.add_idle_order(Margin::Cross, ethusdt, time, "live", &mut rng);
        }
        // Isolated margin: fills of BTCUSDT (an isolated wallet), one order open.
        let mut rng = root.fork("isolated_fills");
        let btcusdt = ds
            .symbols
            .iter()
            .position(|s| s.symbol == "BTCUSDT")
            .expect("BTCUSDT is listed");
        for _ in 0..config.fills / 12 {
            let time = rng.range_i64(trade_start, end - 10 * MINUTE_MS);
            let is_buy = rng.chance(0.5);
            ds.add_filled_order(Margin::Isolated, btcusdt, time, is_buy, false, 1, &mut rng);
        }
        let time = rng.range_i64(end - 2 * DAY_MS, end);
        ds.add_idle_order(Margin::Isolated, btcusdt, time, "live", &mut rng);
        ds.fills.sort_by_key(|f| (f.time, f.trade_id));
        ds.orders.sort_by_key(|o| (o.created, o.order_id));

        // Futures: fills with their orders and fee bills, and a few cancelled orders.
        let mut rng = root.fork("futures");
        let mut times: Vec<i64> = (0..config.futures_fills)
            .map(|_| rng.range_i64(trade_start, end - 10 * MINUTE_MS))
            .collect();
        times.sort_unstable();
        let mut balances: BTreeMap<&str, i128> = BTreeMap::new();
        for time in times {
            let &(product_type, symbol, margin_coin, base_price) = rng.pick(FUTURES);
            let price = to_scaled(base_price * (0.8 + 0.4 * rng.unit()), 1).max(1);
            let size = to_scaled(0.001 * (1 + rng.below(200)) as f64, 3);
            let quote = mul(price, size);
            let maker = rng.chance(0.4);
            let fee = if product_type == "COIN-FUTURES" {
                // Coin-margined: the fee is in the coin, on the contract value.
                to_scaled(quote as f64 / SCALE as f64 * 0.0006 / base_price, 8)
            } else {
                quote * 6 / 10_000
            };
            let balance = balances.entry(margin_coin).or_insert(10_000 * SCALE);
            *balance -= fee;
            let order_id = ds.id_at(time - 1);
            let trade_id = ds.id_at(time);
            let bill_id = ds.id_at(time);
            ds.futures_fills.push(FuturesFill {
                product_type,
                symbol,
                margin_coin,
                trade_id,
                order_id,
                bill_id,
                is_buy: rng.chance(0.5),
                trade_side: if rng.chance(0.5) { "open" } else { "close" },
                price,
                size,
                quote,
                fee,
                balance: *balance,
                maker,
                time,
            });
        }
        for _ in 0..config.futures_fills / 10 {
            let &(product_type, symbol, margin_coin, base_price) = rng.pick(FUTURES);
            let created = rng.range_i64(trade_start, end - HOUR_MS);
            let order_id = ds.id_at(created);
            ds.futures_cancels.push(FuturesCancel {
                status: "canceled",
                product_type,
                symbol,
                margin_coin,
                order_id,
                is_buy: rng.chance(0.5),
                price: to_scaled(base_price * 0.7, 1),
                size: to_scaled(0.01, 3),
                created,
                updated: created + rng.range_i64(1, HOUR_MS),
            });
        }
        // One order still open per product type, in the last two days.
        for product_type in ["USDT-FUTURES", "USDC-FUTURES", "COIN-FUTURES"] {
            let &(_, symbol, margin_coin, base_price) = FUTURES
                .iter()
                .find(|f| f.0 == product_type)
                .expect("every product type is traded");
            let created = rng.range_i64(end - 2 * DAY_MS, end);
            let order_id = ds.id_at(created);
            ds.futures_cancels.push(FuturesCancel {
                status: "live",
                product_type,
                symbol,
                margin_coin,
                order_id,
                is_buy: true,
                price: to_scaled(base_price * 0.6, 1),
                size: to_scaled(0.02, 3),
                created,
                updated: created,
            });
        }
        ds.futures_cancels.sort_by_key(|c| (c.created, c.order_id));

        // Cross margin records: transfers in, loans, repayments, interest.
        let mut rng = root.fork("margin");
        let mut times: Vec<i64> = (0..40)
            .map(|_| rng.range_i64(trade_start, end - MINUTE_MS))
            .collect();
        times.sort_unstable();
        let mut margin_balances: BTreeMap<&str, i128> = BTreeMap::new();
        for (k, time) in times.into_iter().enumerate() {
            // Every fourth record is of the isolated BTCUSDT wallet.
            let isolated = k % 4 == 3;
            let coin = if isolated {
                "USDT"
            } else {
                *rng.pick(&["USDT", "ETH"])
            };
            let unit = to_scaled(10.0 / coin_price(coin), 8);
            let (margin_type, amount) = match rng.below(4) {
                0 => ("transfer_in", unit * (1 + rng.below(50) as i128)),
                1 => ("borrow", unit * (1 + rng.below(20) as i128)),
                2 => ("repay", -unit * (1 + rng.below(10) as i128)),
                _ => ("interest", -unit / 1000),
            };
            let key = if isolated { "BTCUSDT:USDT" } else { coin };
            let balance = margin_balances.entry(key).or_insert(0);
            *balance += amount;
            let margin_id = ds.id_at(time);
            ds.margin_records.push(MarginRecord {
                symbol: isolated.then_some("BTCUSDT"),
                margin_id,
                coin,
                margin_type,
                amount,
                balance: *balance,
                time,
            });
        }

        // Deposits and withdrawals.
        let coins = ["BTC", "ETH", "USDT", "USDC", "SOL", "XRP", "币安人生"];
        let mut rng = root.fork("deposits");
        for k in 0..config.deposits {
            let coin = *rng.pick(&coins);
            let recent = k + 2 >= config.deposits;
            let time = if recent {
                rng.range_i64(end - DAY_MS, end)
            } else {
                rng.range_i64(start, end - DAY_MS)
            };
            let status = if recent {
                "pending"
            } else if k % 13 == 5 {
                "fail"
            } else {
                "success"
            };
            let size = to_scaled((50.0 + rng.below(5000) as f64) / coin_price(coin), 6).max(1);
            let id = ds.id_at(time);
            let internal = k % 9 == 4;
            ds.deposits.push(TransferRow {
                order_id: id,
                trade_id: if internal || status == "pending" {
                    String::new()
                } else {
                    format!("0x{}", hex(&mut rng, 64))
                },
                coin: coin.to_owned(),
                size,
                fee: 0,
                status,
                to_address: format!("0x{}", hex(&mut rng, 40)),
                from_address: format!("0x{}", hex(&mut rng, 40)),
                chain: chain_of(coin).to_owned(),
                tag: if coin == "XRP" {
                    "12345".into()
                } else {
                    String::new()
                },
                dest: if internal {
                    "internal_transfer"
                } else {
                    "on_chain"
                },
                time,
                updated: time + rng.range_i64(MINUTE_MS, HOUR_MS),
            });
        }
        ds.deposits.sort_by_key(|d| (d.time, d.order_id));
        let mut rng = root.fork("withdrawals");
        for k in 0..config.withdrawals {
            let coin = *rng.pick(&coins);
            let recent = k + 1 >= config.withdrawals;
            let time = if recent {
                rng.range_i64(end - DAY_MS, end)
            } else {
                rng.range_i64(start, end - DAY_MS)
            };
            let status = if recent {
                "pending"
            } else if k % 11 == 3 {
                "fail"
            } else {
                "success"
            };
            let size = to_scaled((20.0 + rng.below(2000) as f64) / coin_price(coin), 6).max(1);
            let id = ds.id_at(time);
            ds.withdrawals.push(TransferRow {
                order_id: id,
                trade_id: if status == "success" {
                    format!("0x{}", hex(&mut rng, 64))
                } else {
                    String::new()
                },
                coin: coin.to_owned(),
                size,
                fee: to_scaled(1.0 / coin_price(coin), 6),
                status,
                to_address: format!("0x{}", hex(&mut rng, 40)),
                from_address: String::new(),
                chain: chain_of(coin).to_owned(),
                tag: String::new(),
                dest: "on_chain",
                time,
                updated: time + rng.range_i64(MINUTE_MS, HOUR_MS),
            });
        }
        ds.withdrawals.sort_by_key(|w| (w.time, w.order_id));

        ds.recompute_bills();
        ds.recompute_balances();
        ds
    }

    /// A fresh id for something happening at `t`: Bitget's ids grow with time.
    fn id_at(&mut self, t: i64) -> u64 {
        let n = self.next_id;
        self.next_id += 1;
        (t.max(0) as u64) * 10_000 + n % 10_000
    }

    #[allow(clippy::too_many_arguments)]
    fn add_filled_order(
        &mut self,
        margin: Margin,
        symbol: usize,
        time: i64,
        is_buy: bool,
        market: bool,
        fills: usize,
        rng: &mut SimRng,
    ) {
        let seed = self.config.seed;
        let s = self.symbols[symbol].clone();
        let price = to_scaled(price_at(seed, &s, time), s.price_dp).max(1);
        let notional = 20.0 + rng.below(2_000) as f64;
        let usd_per_unit = price_at(seed, &s, time) * coin_price(&s.quote);
        let step = SCALE / 10i128.pow(s.qty_dp.min(8));
        let per_fill = to_scaled(notional / usd_per_unit.max(1e-12), s.qty_dp).max(step);
        let order_id = self.id_at(time);
        let mut filled = 0;
        let mut quote_volume = 0;
        let mut t = time;
        for _ in 0..fills {
            t += rng.range_i64(1, 3 * MINUTE_MS);
            let amount = mul(price, per_fill);
            let maker = !market && rng.chance(0.6);
            let (fee, fee_coin) = if is_buy {
                (per_fill / 1000, s.base.clone())
            } else {
                (amount / 1000, s.quote.clone())
            };
            let trade_id = self.id_at(t);
            self.fills.push(Fill {
                margin,
                symbol,
                trade_id,
                order_id,
                is_buy,
                price,
                size: per_fill,
                amount,
                fee,
                fee_coin,
                maker,
                market,
                time: t,
            });
            filled += per_fill;
            quote_volume += amount;
        }
        self.orders.push(Order {
            margin,
            symbol,
            order_id,
            client_oid: format!("exsync-{order_id}"),
            is_buy,
            price: if market { 0 } else { price },
            size: filled,
            filled,
            quote_volume,
            status: "filled",
            market,
            created: time,
            updated: t,
        });
    }

    fn add_idle_order(
        &mut self,
        margin: Margin,
        symbol: usize,
        time: i64,
        status: &'static str,
        rng: &mut SimRng,
    ) {
        let seed = self.config.seed;
        let s = self.symbols[symbol].clone();
        let price = to_scaled(price_at(seed, &s, time) * 0.9, s.price_dp).max(1);
        let size = to_scaled(100.0 / s.base_price.max(1e-9), s.qty_dp)
            .max(10i128.pow(8 - s.qty_dp.min(8)));
        let order_id = self.id_at(time);
        self.orders.push(Order {
            margin,
            symbol,
            order_id,
            client_oid: format!("exsync-{order_id}"),
            is_buy: rng.chance(0.5),
            price,
            size,
            filled: 0,
            quote_volume: 0,
            status,
            market: false,
            created: time,
            updated: if status == "live" {
                time
            } else {
                time + rng.range_i64(1, HOUR_MS)
            },
        });
    }

    /// The spot bills from the fills: every fill moves its base and its quote coin, the fee
    /// taken from the coin received. Balances run from zero per coin.
    pub fn recompute_bills(&mut self) {
        let mut balances: BTreeMap<String, i128> = BTreeMap::new();
        let mut bills = Vec::with_capacity(self.fills.len() * 2);
        for f in self.fills.iter().filter(|f| f.margin == Margin::Spot) {
            let s = &self.symbols[f.symbol];
            let (base_change, quote_change) = if f.is_buy {
                (f.size - f.fee, -f.amount)
            } else {
                (-f.size, f.amount - f.fee)
            };
            let rows = [
                (&s.base, base_change, if f.is_buy { f.fee } else { 0 }),
                (&s.quote, quote_change, if f.is_buy { 0 } else { f.fee }),
            ];
            for (n, (coin, change, fee)) in rows.into_iter().enumerate() {
                let balance = balances.entry(coin.clone()).or_insert(0);
                *balance += change;
                bills.push(Bill {
                    // Grows with time like the fill's own id: the fill's id and a digit.
                    bill_id: f.trade_id * 10 + n as u64,
                    coin: coin.clone(),
                    group_type: "transaction",
                    business_type: if (n == 0) == f.is_buy { "BUY" } else { "SELL" },
                    size: change,
                    balance: *balance,
                    fees: -fee,
                    time: f.time,
                });
            }
        }
        self.bills = bills;
    }

    /// Balances of every wallet: spot holds a seeded amount of every coin plus what the bills
    /// say, open orders freeze part of it; the other wallets hold seeded amounts.
    pub fn recompute_balances(&mut self) {
        let mut rng = SimRng::new(self.config.seed).fork("balances");
        let mut spot = Vec::new();
        for (coin, price) in COINS {
            let from_bills = self
                .bills
                .iter()
                .rev()
                .find(|b| b.coin == *coin)
                .map_or(0, |b| b.balance);
            let seeded = to_scaled((1_000.0 + rng.below(20_000) as f64) / price, 8);
            let total = (seeded + from_bills).max(SCALE / 100);
            let frozen = if *coin == "USDT" || *coin == "BTC" {
                total / 10
            } else {
                0
            };
            let locked = if *coin == "BGB" { total / 4 } else { 0 };
            spot.push(Holding {
                coin: (*coin).to_owned(),
                available: total - frozen - locked,
                frozen,
                locked,
            });
        }
        self.spot = spot;
        let mut seeded =
            |coin: &str, usd: f64| to_scaled((usd + rng.below(5_000) as f64) / coin_price(coin), 8);
        self.funding = ["USDT", "BTC", "币安人生"]
            .iter()
            .map(|c| {
                let total = seeded(c, 500.0);
                Holding {
                    coin: (*c).to_owned(),
                    available: total - total / 20,
                    frozen: total / 20,
                    locked: 0,
                }
            })
            .collect();
        self.futures = [
            ("USDT-FUTURES", "USDT"),
            ("USDC-FUTURES", "USDC"),
            ("COIN-FUTURES", "BTC"),
            ("COIN-FUTURES", "ETH"),
        ]
        .iter()
        .map(|(pt, c)| {
            let total = seeded(c, 2_000.0);
            FuturesAccount {
                product_type: pt,
                coin: (*c).to_owned(),
                available: total - total / 8,
                locked: total / 8,
            }
        })
        .collect();
        self.margin = ["ETH", "USDT"]
            .iter()
            .map(|c| {
                let total = seeded(c, 800.0);
                Holding {
                    coin: (*c).to_owned(),
                    available: total - total / 5,
                    frozen: total / 5,
                    locked: 0,
                }
            })
            .collect();
        self.isolated = [("BTCUSDT", "BTC"), ("BTCUSDT", "USDT"), ("SOLUSDT", "USDT")]
            .iter()
            .map(|(symbol, c)| {
                let total = seeded(c, 300.0);
                (
                    *symbol,
                    Holding {
                        coin: (*c).to_owned(),
                        available: total - total / 10,
                        frozen: total / 10,
                        locked: 0,
                    },
                )
            })
            .collect();
        self.earn = ["USDT", "BGB"]
            .iter()
            .map(|c| Holding {
                coin: (*c).to_owned(),
                available: seeded(c, 1_000.0),
                frozen: 0,
                locked: 0,
            })
            .collect();
    }

    /// Adds `n` filled market orders of one fill each at `now`, with their bills.
    pub fn append_fills(&mut self, n: usize, now: i64, rng: &mut SimRng) -> usize {
        for k in 0..n {
            let symbol = k % TRADED;
            let is_buy = rng.chance(0.5);
            // The fill lands a moment after the order: keep both before now.
            self.add_filled_order(
                Margin::Spot,
                symbol,
                now - 4 * MINUTE_MS,
                is_buy,
                true,
                1,
                rng,
            );
        }
        self.fills.sort_by_key(|f| (f.time, f.trade_id));
        self.orders.sort_by_key(|o| (o.created, o.order_id));
        self.recompute_bills();
        n
    }
}

fn chain_of(coin: &str) -> &'static str {
    match coin {
        "BTC" => "BTC",
        "USDT" => "TRC20",
        "SOL" => "SOL",
        "XRP" => "XRP",
        _ => "ERC20",
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
        assert_eq!(a.fills, b.fills);
        assert_eq!(a.bills, b.bills);
        let c = Dataset::generate(&DatasetConfig { seed: 7, ..small() });
        assert_ne!(a.fills, c.fills);
    }

    #[test]
    fn counts_ids_and_times() {
        let ds = Dataset::generate(&small());
        assert_eq!(
            ds.fills.iter().filter(|f| f.margin == Margin::Spot).count(),
            900
        );
        assert!(ds.fills.iter().any(|f| f.margin == Margin::Isolated));
        let mut ids: Vec<u64> = ds.fills.iter().map(|f| f.trade_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ds.fills.len());
        let mut bill_ids: Vec<u64> = ds.bills.iter().map(|b| b.bill_id).collect();
        bill_ids.sort_unstable();
        bill_ids.dedup();
        assert_eq!(bill_ids.len(), ds.bills.len());
        let reach = small().end_ms - 90 * DAY_MS;
        assert!(ds.fills.iter().all(|f| f.time > reach));
        assert!(ds.orders.iter().any(|o| o.status == "live"));
        assert!(ds.deposits.iter().any(|d| d.status == "pending"));
        // Ids grow with time.
        for w in ds.fills.windows(2) {
            assert!(w[0].trade_id < w[1].trade_id || w[0].time == w[1].time);
        }
    }
}
