//! The FalconX simulator's account: generated from a seed, kept as FalconX's own JSON objects.
//!
//! Everything an answer serves is built here once (and on appends), in the shapes of
//! FalconX's documented answers: executed quotes (some placed as orders, a few of those
//! unfilled), transfers (deposits and withdrawals on several platforms, no id, as FalconX
//! writes them) and balances per platform. Amounts are exact decimals chosen first and
//! written as JSON numbers, FalconX's form, in a range where a JSON number's shortest text is
//! the decimal itself; quantities requested are strings, as FalconX writes them.

use serde_json::{json, Value};

use crate::prng::SimRng;
use crate::time::{DAY_MS, SECOND_MS};

/// What the account is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetConfig {
    pub seed: u64,
    pub history_start_ms: i64,
    pub history_end_ms: i64,
    /// Filled executed quotes.
    pub quotes: usize,
    /// Quotes placed as orders that did not fill (fill-or-kill limits missed).
    pub unfilled_orders: usize,
    pub deposits: usize,
    pub withdrawals: usize,
    /// Whether the account trades derivatives (else `/v1/derivatives` and
    /// `/v1/derivatives/margins` are refused).
    pub derivatives: bool,
    /// Derivative trades, when the account trades derivatives: mostly options, some NDFs and
    /// interest-rate swaps.
    pub derivative_trades: usize,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            history_start_ms: 1_704_067_200_000, // 2024-01-01
            history_end_ms: 1_780_272_000_000,   // 2026-06-01
            quotes: 400,
            unfilled_orders: 12,
            deposits: 40,
            withdrawals: 25,
            derivatives: true,
            derivative_trades: 30,
        }
    }
}

/// One pair the account trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub base: &'static str,
    pub quote: &'static str,
    pub price_decimals: u32,
    /// A typical price, in units of `10^-price_decimals`.
    pub price_units: i64,
}

pub const PAIRS: [Pair; 6] = [
    Pair {
        base: "BTC",
        quote: "USD",
        price_decimals: 2,
        price_units: 6_000_000,
    },
    Pair {
        base: "ETH",
        quote: "USD",
        price_decimals: 2,
        price_units: 300_000,
    },
    Pair {
        base: "SOL",
        quote: "USD",
        price_decimals: 3,
        price_units: 150_000,
    },
    Pair {
        base: "ETH",
        quote: "BTC",
        price_decimals: 5,
        price_units: 5_123,
    },
    Pair {
        base: "SOL",
        quote: "USDC",
        price_decimals: 2,
        price_units: 15_000,
    },
    // A token no market list knows: kept as it is.
    Pair {
        base: "FXQ",
        quote: "USD",
        price_decimals: 4,
        price_units: 12_345,
    },
];

pub const PLATFORMS: [&str; 3] = ["browser", "api", "margin"];
pub const TOKENS: [&str; 6] = ["BTC", "ETH", "SOL", "USD", "USDC", "FXQ"];

/// One list item: the time FalconX filters it by, and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub time_ms: i64,
    pub raw: Value,
}

/// The account.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DatasetConfig,
    pub balances: Vec<Value>,
    /// `[{token, total_margin}]`; empty without derivatives.
    pub derivatives_margins: Vec<Value>,
    /// Executed quotes, by `t_quote`.
    pub quotes: Vec<Item>,
    /// Derivative trades, by `trade_date`; empty without derivatives.
    pub derivatives: Vec<Item>,
    /// Deposits and withdrawals, by `t_create`.
    pub transfers: Vec<Item>,
}

impl Dataset {
    pub fn generate(config: &DatasetConfig) -> Dataset {
        let root = SimRng::new(config.seed);
        let mut rng = root.fork("quotes");
        let span = (config.history_end_ms - config.history_start_ms - DAY_MS).max(DAY_MS);
        let mut quotes = Vec::new();
        for _ in 0..config.quotes {
            let at = config.history_start_ms + rng.range_i64(0, span);
            quotes.push(quote(&mut rng, at, true));
        }
        for _ in 0..config.unfilled_orders {
            let at = config.history_start_ms + rng.range_i64(0, span);
            quotes.push(quote(&mut rng, at, false));
        }
        let mut rng = root.fork("transfers");
        let mut transfers = Vec::new();
        for (kind, n) in [
            ("deposit", config.deposits),
            ("withdrawal", config.withdrawals),
        ] {
            for _ in 0..n {
                let at = config.history_start_ms + rng.range_i64(0, span);
                transfers.push(transfer(&mut rng, kind, at));
            }
        }
        let mut rng = root.fork("derivatives");
        let mut derivatives = Vec::new();
        if config.derivatives {
            for _ in 0..config.derivative_trades {
                let at = config.history_start_ms + rng.range_i64(0, span);
                derivatives.push(derivative(&mut rng, at));
            }
        }
        let mut ds = Dataset {
            config: config.clone(),
            balances: balances(&mut root.fork("balances")),
            derivatives_margins: if config.derivatives {
                margins(&mut root.fork("margins"))
            } else {
                Vec::new()
            },
            quotes,
            derivatives,
            transfers,
        };
        ds.sort();
        ds
    }

    fn sort(&mut self) {
        self.quotes.sort_by_key(|i| i.time_ms);
        self.transfers.sort_by_key(|i| i.time_ms);
        self.derivatives.sort_by_key(|i| i.time_ms);
    }

    /// Appends `quotes` filled quotes and `deposits` deposits in the minute before `now`.
    pub fn append(
        &mut self,
        quotes: usize,
        deposits: usize,
        now: i64,
        rng: &mut SimRng,
    ) -> (usize, usize) {
        for i in 0..quotes {
            let at = now - 60 * SECOND_MS + (i as i64) * 1000;
            self.quotes.push(quote(rng, at, true));
        }
        for i in 0..deposits {
            let at = now - 50 * SECOND_MS + (i as i64) * 1000;
            self.transfers.push(transfer(rng, "deposit", at));
        }
        self.sort();
        (quotes, deposits)
    }

    /// The whole account, as `/__sim/truth` and `exsync-sim falconx-truth` print it.
    pub fn truth(&self) -> Value {
        let raws = |items: &[Item]| -> Value { items.iter().map(|i| i.raw.clone()).collect() };
        json!({
            "balances": self.balances,
            "derivatives_margins": self.derivatives_margins,
            "quotes": raws(&self.quotes),
            "derivatives": raws(&self.derivatives),
            "transfers": raws(&self.transfers),
        })
    }
}

/// A decimal's text as a JSON number (FalconX's form). The decimals chosen here have at most
/// 15 significant digits, so the number's shortest text is the decimal without trailing zeros.
pub fn number(mantissa: i128, scale: u32) -> Value {
    let text = dec(mantissa, scale);
    let f: f64 = text.parse().expect("a decimal parses as f64");
    json!(f)
}

/// `mantissa × 10^-scale` as decimal text, every digit kept.
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

/// `2024-03-05T10:11:12.345678+00:00`: FalconX's time form, to the microsecond.
pub fn iso_us(ms: i64, micros: i64) -> String {
    format!(
        "{}.{:03}{:03}+00:00",
        iso_s(ms).trim_end_matches("+00:00"),
        ms.rem_euclid(1000),
        micros
    )
}

/// `2024-03-05T10:11:12+00:00`.
pub fn iso_s(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let s = ms.rem_euclid(DAY_MS) / 1000;
    let (y, m, d) = crate::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// An ISO 8601 time as clients send it (`Z` or a `±HH:MM` offset, any fraction) → ms.
pub fn parse_iso(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if end == 0 {
            return None;
        }
        for (i, c) in frac[..end].bytes().take(3).enumerate() {
            ms += i64::from(c - b'0') * 10i64.pow(2 - i as u32);
        }
        rest = &frac[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if rest.len() != 6 || &rest[3..4] != ":" {
                return None;
            }
            sign * (oh * 3600 + om * 60) * 1000
        }
    };
    let days = crate::time::days_from_civil(y, mo as u32, d as u32);
    Some(days * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + ms - offset)
}

fn hex_id(rng: &mut SimRng) -> String {
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

/// One executed quote at `at`: filled, or an order that did not fill.
fn quote(rng: &mut SimRng, at: i64, filled: bool) -> Item {
    let pair = *rng.pick(&PAIRS);
    let scale = pair.price_decimals;
    let price = i128::from(pair.price_units * rng.range_i64(80, 121) / 100);
    let spread = (price / 2000).max(1);
    let (buy, sell) = (price + spread, price - spread);
    // Quantities requested in the base token, 4 decimals, as FalconX's strings.
    let qty = rng.range_i64(1, 500_000);
    let micros = rng.range_i64(0, 1000);
    let exec_ms = at + rng.range_i64(200, 4_000);
    let side_requested = *rng.pick(&["two_way", "buy", "sell"]);
    let side = match side_requested {
        "two_way" => *rng.pick(&["buy", "sell"]),
        s => s,
    };
    let executed = if side == "buy" { buy } else { sell };
    let is_order = !filled || rng.chance(0.3);
    let platform = *rng.pick(&PLATFORMS);
    let fee_bps = rng.range_i64(1, 10);
    let fee_cents = rng.range_i64(1, 500_000);
    let mut raw = json!({
        "status": "success",
        "fx_quote_id": hex_id(rng),
        "buy_price": number(buy, scale),
        "sell_price": number(sell, scale),
        "platform": platform,
        "token_pair": {"base_token": pair.base, "quote_token": pair.quote},
        "quantity_requested": {"token": pair.base, "value": dec(i128::from(qty), 4)},
        "side_requested": side_requested,
        "t_quote": iso_us(at, micros),
        "t_expiry": iso_us(at + 5_000, micros),
        "is_filled": filled,
        "side_executed": if filled { json!(side) } else { Value::Null },
        "price_executed": if filled { number(executed, scale) } else { Value::Null },
        "t_execute": if filled { json!(iso_us(exec_ms, micros)) } else { Value::Null },
        "trader_email": format!("trader{}@client.example", rng.range_i64(1, 4)),
        "error": Value::Null,
    });
    let obj = raw.as_object_mut().expect("an object");
    if filled {
        obj.insert("fee_bps".into(), json!(fee_bps));
        obj.insert("fee_usd".into(), number(i128::from(fee_cents), 2));
    }
    if is_order {
        let limit = rng.chance(0.6) || !filled;
        obj.insert(
            "order_type".into(),
            json!(if limit { "limit" } else { "market" }),
        );
        obj.insert("side_requested".into(), json!(side));
        obj.insert("client_order_id".into(), json!(hex_id(rng)));
        if limit {
            // A buy limit above the price fills; one below it (missed) does not.
            let limit_price = if filled == (side == "buy") {
                executed + spread
            } else {
                executed - spread
            };
            obj.insert("time_in_force".into(), json!("fok"));
            obj.insert("limit_price".into(), number(limit_price, scale));
            obj.insert("slippage_bps".into(), json!(2));
        }
        if !filled {
            obj.insert("status".into(), json!("failure"));
            obj.insert(
                "error".into(),
                json!({"code": "LIMIT_PRICE_NOT_MET", "reason": "Limit price not met"}),
            );
        }
    }
    Item { time_ms: at, raw }
}

/// One transfer at `at`, to the second, as FalconX writes them (no id, no status).
fn transfer(rng: &mut SimRng, kind: &str, at: i64) -> Item {
    let at = at - at.rem_euclid(1000);
    let token = *rng.pick(&TOKENS);
    let quantity = match token {
        "USD" | "USDC" => number(i128::from(rng.range_i64(10_000, 500_000_000)), 2),
        _ => number(i128::from(rng.range_i64(1_000, 90_000_000)), 6),
    };
    let raw = json!({
        "type": kind,
        "platform": *rng.pick(&PLATFORMS[..2]),
        "token": token,
        "quantity": quantity,
        "t_create": iso_s(at),
    });
    Item { time_ms: at, raw }
}

/// A money amount as FalconX nests it: `{"token", "value"}`.
fn money(token: &str, value: Value) -> Value {
    json!({"token": token, "value": value})
}

/// One derivative trade on `at`, in the shape of FalconX's documented `get_derivatives`
/// row: mostly options (`"product": "option"` with `option_type`), whose premium is the
/// whole premium, a per-unit price (cents) times the quantity (hundredths), so it divides
/// exactly; some NDFs and interest-rate swaps, whose documented fields are only the ones
/// every row has (their traded rate's field is not documented: the sim writes a `strike_price`
/// the connector must not take for one).
fn derivative(rng: &mut SimRng, at: i64) -> Item {
    let at = at - at.rem_euclid(1000);
    let pair = *rng.pick(&PAIRS[..3]);
    let spot_cents = i128::from(pair.price_units) * 100 / 10i128.pow(pair.price_decimals)
        * i128::from(rng.range_i64(90, 111))
        / 100;
    let qty = i128::from(rng.range_i64(1, 50_000)); // hundredths
    let product = match rng.range_i64(0, 10) {
        0 => "ndf",
        1 => "irs",
        _ => "option",
    };
    let strike_cents = spot_cents * i128::from(rng.range_i64(80, 121)) / 100 / 100 * 100;
    let maturity = (at / DAY_MS + rng.range_i64(7, 181)) * DAY_MS + 8 * 3_600 * SECOND_MS;
    let status = *rng.pick(&["open", "terminated", "settled", "defaulted"]);
    let notional = qty * spot_cents; // 10^-4
    let mut raw = json!({
        "counterparty_margin_percent": money("USD", number(i128::from(rng.range_i64(5, 30)), 0)),
        "daily_mark": money("USD", number(i128::from(rng.range_i64(-500_000, 500_000)), 2)),
        "delta": number(i128::from(rng.range_i64(-100_000, 100_000)), 1),
        "effective_date": Value::Null,
        "fixing_expiry_time": "4pm NYC",
        "maturity_date": iso_s(maturity),
        "product": product,
        "quantity": number(qty, 2),
        "side": *rng.pick(&["buy", "sell"]),
        "status": status,
        "spot_reference_price": money("USD", number(spot_cents, 2)),
        "strike_price": money("USD", number(strike_cents, 2)),
        "token_pair": {"base_token": pair.base, "quote_token": pair.quote},
        "trade_date": iso_s(at),
        "trade_id": hex_id(rng),
        "trade_notional": money("USD", number(notional, 4)),
        "trader": format!("trader{}@client.example", rng.range_i64(1, 4)),
        "trading_entity": "sim-entity",
    });
    let obj = raw.as_object_mut().expect("an object");
    if product == "option" {
        // A premium of 0.5% to 12% of spot per unit, in cents.
        let unit_cents = (spot_cents * i128::from(rng.range_i64(5, 121)) / 1000).max(1);
        obj.insert("option_type".into(), json!(*rng.pick(&["call", "put"])));
        obj.insert("premium".into(), money("USD", number(unit_cents * qty, 4)));
        obj.insert(
            "vega".into(),
            money("USD", number(i128::from(rng.range_i64(-50_000, 50_000)), 1)),
        );
    } else {
        obj.insert("option_type".into(), Value::Null);
        obj.insert("premium".into(), Value::Null);
    }
    Item { time_ms: at, raw }
}

/// Balances per platform; margin owes some ETH (a negative balance).
fn balances(rng: &mut SimRng) -> Vec<Value> {
    let mut out = Vec::new();
    for platform in PLATFORMS {
        let tokens: &[&str] = match platform {
            "browser" => &TOKENS[..4],
            "api" => &TOKENS[..],
            _ => &TOKENS[..3],
        };
        for token in tokens {
            let mut amount = i128::from(rng.range_i64(0, 9_000_000_000));
            if platform == "margin" && *token == "ETH" {
                amount = -amount - 1;
            }
            out.push(json!({"balance": number(amount, 8), "token": token, "platform": platform}));
        }
    }
    out
}

/// The margin held for derivatives, per token.
fn margins(rng: &mut SimRng) -> Vec<Value> {
    ["BTC", "ETH", "USD"]
        .iter()
        .map(|token| {
            json!({"token": token, "total_margin": number(i128::from(rng.range_i64(1_000, 90_000_000)), 4)})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_their_decimals() {
        for (m, s, text) in [
            (123_456_789, 8, "1.23456789"),
            (-5, 3, "-0.005"),
            (150, 2, "1.5"),
            (100, 2, "1.0"),
        ] {
            assert_eq!(number(m, s).to_string(), text);
        }
    }

    #[test]
    fn times_round_trip() {
        let t = 1_709_633_472_345;
        assert_eq!(parse_iso(&iso_us(t, 678)), Some(t));
        assert_eq!(iso_us(t, 678), "2024-03-05T10:11:12.345678+00:00");
        assert_eq!(parse_iso("2024-03-05T10:11:12.345Z"), Some(t));
        assert_eq!(parse_iso("2024-03-05T10:11:12+00:00"), Some(t - 345));
    }

    #[test]
    fn generation_is_deterministic_and_sorted() {
        let a = Dataset::generate(&DatasetConfig::default());
        let b = Dataset::generate(&DatasetConfig::default());
        assert_eq!(a.truth(), b.truth());
        assert_eq!(a.quotes.len(), 412);
        assert_eq!(a.derivatives.len(), 30);
        for product in ["option", "ndf", "irs"] {
            assert!(
                a.derivatives.iter().any(|d| d.raw["product"] == product),
                "{product}"
            );
        }
        assert!(a.quotes.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
        assert!(a.quotes.iter().any(|q| q.raw.get("order_type").is_some()));
        assert!(a
            .balances
            .iter()
            .any(|b| b["balance"].as_f64().unwrap() < 0.0));
    }
}
