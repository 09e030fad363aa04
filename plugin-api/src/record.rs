//! The records a plugin produces and the store keeps.
//!
//! Every record carries its exchange-native id (unique across the whole account: where the
//! exchange's ids are unique only per symbol, the id carries the symbol), native asset and
//! symbol codes exactly as received, normalised codes where known, a UTC timestamp in
//! milliseconds, and `raw`: the exchange's own JSON object, kept whole.
//!
//! Amounts are decimal strings (`"0.00000001"`). The host parses them exactly and refuses a
//! page that holds anything else; never go through `f64`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of records, named as `exsyncctl records --kind` names them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordKind {
    Balance,
    Trade,
    Order,
    Deposit,
    Withdrawal,
    Ledger,
    Candle,
}

impl RecordKind {
    pub const ALL: [RecordKind; 7] = [
        RecordKind::Balance,
        RecordKind::Trade,
        RecordKind::Order,
        RecordKind::Deposit,
        RecordKind::Withdrawal,
        RecordKind::Ledger,
        RecordKind::Candle,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Balance => "balance",
            RecordKind::Trade => "trade",
            RecordKind::Order => "order",
            RecordKind::Deposit => "deposit",
            RecordKind::Withdrawal => "withdrawal",
            RecordKind::Ledger => "ledger",
            RecordKind::Candle => "candle",
        }
    }

    pub fn from_name(name: &str) -> Option<RecordKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    Maker,
    Taker,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Closed,
    Canceled,
    Expired,
    Rejected,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Pending,
    Ok,
    Failed,
    Canceled,
}

/// A balance of one asset in one wallet, as of a moment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Balance<R = Value> {
    pub asset: String,
    pub asset_native: String,
    /// `spot`, `funding`, `margin`, `futures`, `earn`...
    pub wallet: String,
    pub free: String,
    pub locked: String,
    pub total: String,
    /// When the exchange reported it, UTC ms.
    pub as_of: i64,
    pub raw: R,
}

/// One fill.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Trade<R = Value> {
    pub id: String,
    #[serde(default)]
    pub order_id: Option<String>,
    pub timestamp: i64,
    /// The exchange's symbol, as received (`BTCUSDT`).
    pub symbol: String,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub quote: Option<String>,
    pub side: Side,
    pub price: String,
    pub amount: String,
    pub cost: String,
    #[serde(default)]
    pub fee_asset: Option<String>,
    #[serde(default)]
    pub fee_asset_native: Option<String>,
    #[serde(default)]
    pub fee_amount: Option<String>,
    #[serde(default)]
    pub liquidity: Option<Liquidity>,
    pub raw: R,
}

/// An order, in its latest known state.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Order<R = Value> {
    pub id: String,
    pub timestamp: i64,
    #[serde(default)]
    pub updated: Option<i64>,
    pub symbol: String,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub quote: Option<String>,
    pub side: Side,
    /// `limit`, `market`, `stop_loss_limit`...: lower-case exchange word.
    #[serde(rename = "type")]
    pub order_type: String,
    pub status: OrderStatus,
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
    pub filled: String,
    #[serde(default)]
    pub cost: Option<String>,
    #[serde(default)]
    pub average: Option<String>,
    pub raw: R,
}

/// A deposit or a withdrawal.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Transfer<R = Value> {
    pub id: String,
    pub timestamp: i64,
    pub asset: String,
    pub asset_native: String,
    pub amount: String,
    #[serde(default)]
    pub fee_asset: Option<String>,
    #[serde(default)]
    pub fee_amount: Option<String>,
    pub status: TransferStatus,
    #[serde(default)]
    pub txid: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub network: Option<String>,
    pub raw: R,
}

/// One movement in an account ledger.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LedgerEntry<R = Value> {
    pub id: String,
    pub timestamp: i64,
    pub asset: String,
    pub asset_native: String,
    /// Signed: negative leaves the account.
    pub amount: String,
    #[serde(default)]
    pub balance_after: Option<String>,
    #[serde(rename = "type")]
    pub entry_type: String,
    #[serde(default)]
    pub reference_id: Option<String>,
    pub raw: R,
}

/// One OHLCV candle.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Candle<R = Value> {
    pub symbol: String,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub quote: Option<String>,
    pub timeframe: String,
    pub open_time: i64,
    pub open: String,
    pub high: String,
    pub low: String,
    pub close: String,
    pub volume: String,
    /// False while the candle's period has not ended; a later fetch replaces it.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub raw: R,
}

/// Any record, tagged with its kind.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record<R = Value> {
    Balance(Balance<R>),
    Trade(Trade<R>),
    Order(Order<R>),
    Deposit(Transfer<R>),
    Withdrawal(Transfer<R>),
    Ledger(LedgerEntry<R>),
    Candle(Candle<R>),
}

impl<R: serde::de::DeserializeOwned> Record<R> {
    /// Parses a record that must be of `kind`, straight into its type: cheaper than the
    /// tagged-enum route, which buffers the whole record (and its `raw`) before it can look
    /// at the tag. `Record::<serde::de::IgnoredAny>::from_json` checks a record without
    /// building its `raw` tree, as the host does for every record it stores.
    pub fn from_json(kind: RecordKind, json: &str) -> Result<Record, serde_json::Error> {
        #[derive(Deserialize)]
        struct Tag<'a> {
            #[serde(borrow)]
            kind: std::borrow::Cow<'a, str>,
        }
        // Records serialized by this crate start with their tag; anything else is read whole.
        let leading = json
            .strip_prefix("{\"kind\":\"")
            .and_then(|rest| rest.strip_prefix(kind.as_str()))
            .is_some_and(|rest| rest.starts_with("\","));
        let tag: Tag<'_> = if leading {
            Tag {
                kind: kind.as_str().into(),
            }
        } else {
            serde_json::from_str(json)?
        };
        if tag.kind != kind.as_str() {
            return Err(serde::de::Error::custom(format_args!(
                "kind {:?} where {:?} belongs",
                tag.kind,
                kind.as_str()
            )));
        }
        use serde_json::from_str;
        Ok(match kind {
            RecordKind::Balance => Record::Balance(from_str(json)?),
            RecordKind::Trade => Record::Trade(from_str(json)?),
            RecordKind::Order => Record::Order(from_str(json)?),
            RecordKind::Deposit => Record::Deposit(from_str(json)?),
            RecordKind::Withdrawal => Record::Withdrawal(from_str(json)?),
            RecordKind::Ledger => Record::Ledger(from_str(json)?),
            RecordKind::Candle => Record::Candle(from_str(json)?),
        })
    }
}

impl<R> Record<R> {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Balance(_) => RecordKind::Balance,
            Record::Trade(_) => RecordKind::Trade,
            Record::Order(_) => RecordKind::Order,
            Record::Deposit(_) => RecordKind::Deposit,
            Record::Withdrawal(_) => RecordKind::Withdrawal,
            Record::Ledger(_) => RecordKind::Ledger,
            Record::Candle(_) => RecordKind::Candle,
        }
    }

    /// The store key within (integration, kind). Balances and candles have no exchange id:
    /// theirs is built from what identifies them (`spot:BTC`, `BTCUSDT:1h:1700000000000`).
    pub fn id(&self) -> String {
        match self {
            Record::Balance(b) => format!("{}:{}", b.wallet, b.asset_native),
            Record::Trade(t) => t.id.clone(),
            Record::Order(o) => o.id.clone(),
            Record::Deposit(t) | Record::Withdrawal(t) => t.id.clone(),
            Record::Ledger(l) => l.id.clone(),
            Record::Candle(c) => format!("{}:{}:{}", c.symbol, c.timeframe, c.open_time),
        }
    }

    /// The record's time in UTC ms: when it happened, or for a balance when it was seen.
    pub fn timestamp(&self) -> i64 {
        match self {
            Record::Balance(b) => b.as_of,
            Record::Trade(t) => t.timestamp,
            Record::Order(o) => o.timestamp,
            Record::Deposit(t) | Record::Withdrawal(t) => t.timestamp,
            Record::Ledger(l) => l.timestamp,
            Record::Candle(c) => c.open_time,
        }
    }

    /// Every amount field with its name, for exact validation by the host.
    pub fn amounts(&self) -> Vec<(&'static str, &str)> {
        fn opt<'a>(
            v: &mut Vec<(&'static str, &'a str)>,
            name: &'static str,
            x: &'a Option<String>,
        ) {
            if let Some(x) = x {
                v.push((name, x));
            }
        }
        let mut v = Vec::new();
        match self {
            Record::Balance(b) => v.extend([
                ("free", &*b.free),
                ("locked", &b.locked),
                ("total", &b.total),
            ]),
            Record::Trade(t) => {
                v.extend([
                    ("price", &*t.price),
                    ("amount", &t.amount),
                    ("cost", &t.cost),
                ]);
                opt(&mut v, "fee_amount", &t.fee_amount);
            }
            Record::Order(o) => {
                v.push(("filled", &o.filled));
                opt(&mut v, "price", &o.price);
                opt(&mut v, "amount", &o.amount);
                opt(&mut v, "cost", &o.cost);
                opt(&mut v, "average", &o.average);
            }
            Record::Deposit(t) | Record::Withdrawal(t) => {
                v.push(("amount", &t.amount));
                opt(&mut v, "fee_amount", &t.fee_amount);
            }
            Record::Ledger(l) => {
                v.push(("amount", &l.amount));
                opt(&mut v, "balance_after", &l.balance_after);
            }
            Record::Candle(c) => v.extend([
                ("open", &*c.open),
                ("high", &c.high),
                ("low", &c.low),
                ("close", &c.close),
                ("volume", &c.volume),
            ]),
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trade_json_has_kind_tag_and_string_amounts() {
        let r = Record::Trade(Trade {
            id: "BTCUSDT:1".into(),
            order_id: Some("7".into()),
            timestamp: 1,
            symbol: "BTCUSDT".into(),
            base: Some("BTC".into()),
            quote: Some("USDT".into()),
            side: Side::Buy,
            price: "0.00000001".into(),
            amount: "123456789.12345678".into(),
            cost: "1.2345678912345678".into(),
            fee_asset: None,
            fee_asset_native: None,
            fee_amount: None,
            liquidity: Some(Liquidity::Maker),
            raw: serde_json::json!({"id": 1}),
        });
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["kind"], "trade");
        assert_eq!(json["price"], "0.00000001");
        assert_eq!(json["liquidity"], "maker");
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.id(), "BTCUSDT:1");
        assert_eq!(back.amounts().len(), 3);
    }

    #[test]
    fn from_json_reads_a_record_of_the_expected_kind_only() {
        let json = r#"{"kind":"deposit","id":"d1","timestamp":5,"asset":"BTC","asset_native":"BTC","amount":"0.1","status":"ok","raw":{"x":1}}"#;
        let r = Record::<Value>::from_json(RecordKind::Deposit, json).unwrap();
        assert_eq!(r, serde_json::from_str::<Record>(json).unwrap());
        let err = Record::<Value>::from_json(RecordKind::Withdrawal, json).unwrap_err();
        assert!(
            err.to_string()
                .contains(r#"kind "deposit" where "withdrawal" belongs"#),
            "{err}"
        );
        // The tag anywhere in the object, and the light view that skips `raw`.
        let moved = r#"{"id":"d1","timestamp":5,"asset":"BTC","asset_native":"BTC","amount":"0.1","status":"ok","raw":{"x":1},"kind":"deposit"}"#;
        assert_eq!(
            Record::<Value>::from_json(RecordKind::Deposit, moved).unwrap(),
            r
        );
        let light = Record::<serde::de::IgnoredAny>::from_json(RecordKind::Deposit, json).unwrap();
        assert_eq!((light.id(), light.amounts()), (r.id(), r.amounts()));
        let err = Record::<Value>::from_json(
            RecordKind::Withdrawal,
            &moved.replace("deposit", "withdrawals"),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(r#"kind "withdrawals" where "withdrawal""#),
            "{err}"
        );
        let no_raw = json.replace(r#","raw":{"x":1}"#, "");
        let err =
            Record::<serde::de::IgnoredAny>::from_json(RecordKind::Deposit, &no_raw).unwrap_err();
        assert!(err.to_string().contains("missing field `raw`"), "{err}");
        let err = Record::<Value>::from_json(RecordKind::Deposit, r#"{"id":"d1"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `kind`"), "{err}");
        let err =
            Record::<Value>::from_json(RecordKind::Deposit, r#"{"kind":"deposit","id":"d1"}"#)
                .unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
    }

    #[test]
    fn candle_id_is_symbol_timeframe_open_time() {
        let json = serde_json::json!({
            "kind": "candle", "symbol": "BTCUSDT", "timeframe": "1h", "open_time": 3600000,
            "open": "1", "high": "2", "low": "0.5", "close": "1.5", "volume": "10",
            "final": true, "raw": []
        });
        let r: Record = serde_json::from_value(json).unwrap();
        assert_eq!(r.id(), "BTCUSDT:1h:3600000");
        assert_eq!(r.kind(), RecordKind::Candle);
    }
}
