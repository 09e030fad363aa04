//! Parsing for the `template` connector: the exchange's JSON to records.
//!
//! Pure. Amounts stay the strings the exchange sent; `raw` keeps each object whole.

use exsync_plugin_api::{Balance, LedgerEntry, PluginError, Record};
use serde_json::Value;

fn field<'a>(raw: &'a Value, name: &str, what: &str) -> Result<&'a str, PluginError> {
    raw[name]
        .as_str()
        .ok_or_else(|| PluginError::bad_response(format!("{what} without a string `{name}`")))
}

fn json(body: &[u8], what: &str) -> Result<Value, PluginError> {
    serde_json::from_slice(body)
        .map_err(|e| PluginError::bad_response(format!("while parsing the {what} response: {e}")))
}

/// `GET /v1/account`: the account's name.
pub(crate) fn account(body: &[u8]) -> Result<String, PluginError> {
    let v = json(body, "account")?;
    Ok(field(&v, "account", "account answer")?.to_owned())
}

/// `GET /v1/balances`: one record per asset, as of `now_ms`.
pub(crate) fn balances(body: &[u8], now_ms: i64) -> Result<Vec<Record>, PluginError> {
    let v = json(body, "balances")?;
    let list = v
        .as_array()
        .ok_or_else(|| PluginError::bad_response("balances answer is not a list"))?;
    let mut out = Vec::with_capacity(list.len());
    for raw in list {
        let asset = field(raw, "asset", "balance")?;
        out.push(Record::Balance(Balance {
            asset: asset.to_owned(),
            asset_native: asset.to_owned(),
            wallet: "spot".into(),
            free: field(raw, "free", "balance")?.to_owned(),
            locked: field(raw, "locked", "balance")?.to_owned(),
            total: field(raw, "total", "balance")?.to_owned(),
            as_of: now_ms,
            raw: raw.clone(),
        }));
    }
    Ok(out)
}

/// `GET /v1/ledger`: the entries of one page, and whether more follow.
pub(crate) fn ledger(body: &[u8]) -> Result<(Vec<Record>, bool), PluginError> {
    let v = json(body, "ledger")?;
    let list = v["entries"]
        .as_array()
        .ok_or_else(|| PluginError::bad_response("ledger answer without `entries`"))?;
    let mut out = Vec::with_capacity(list.len());
    for raw in list {
        let asset = field(raw, "asset", "ledger entry")?;
        out.push(Record::Ledger(LedgerEntry {
            id: field(raw, "id", "ledger entry")?.to_owned(),
            timestamp: raw["time"].as_i64().ok_or_else(|| {
                PluginError::bad_response("ledger entry without a numeric `time`")
            })?,
            asset: asset.to_owned(),
            asset_native: asset.to_owned(),
            amount: field(raw, "amount", "ledger entry")?.to_owned(),
            balance_after: raw["balance"].as_str().map(str::to_owned),
            entry_type: field(raw, "type", "ledger entry")?.to_owned(),
            reference_id: None,
            raw: raw.clone(),
        }));
    }
    Ok((out, v["more"].as_bool().unwrap_or(false)))
}
