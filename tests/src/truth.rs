//! Compares what the daemon stored with the simulator's ground truth, record by record and
//! digit by digit.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::daemon::Daemon;

/// How a stored record's field must relate to the exchange's raw object.
type FieldMap = &'static [(&'static str, &'static str)];

fn compare(daemon: &Daemon, name: &str, kind: &str, truth: &[(String, Value)], fields: FieldMap) {
    let truth: Vec<(String, &Value)> = truth.iter().map(|(id, raw)| (id.clone(), raw)).collect();
    assert_kind_exactly(daemon, name, kind, &truth, |id, rec, raw| {
        for (field, raw_field) in fields {
            assert_eq!(
                crate::text(&rec[*field]),
                crate::text(&raw[*raw_field]),
                "{kind} {id}: {field} differs from raw {raw_field}"
            );
        }
    });
}

/// Asserts that integration `name` holds exactly the simulator's account.
pub fn assert_stored_exactly(daemon: &Daemon, name: &str, truth: &Value) {
    // Trades and orders, per symbol; ids carry the symbol.
    let mut trades = Vec::new();
    for (symbol, list) in truth["trades"].as_object().expect("truth.trades") {
        for t in list.as_array().unwrap() {
            trades.push((format!("{symbol}:{}", crate::text(&t["id"])), t.clone()));
        }
    }
    compare(
        daemon,
        name,
        "trade",
        &trades,
        &[
            ("symbol", "symbol"),
            ("price", "price"),
            ("amount", "qty"),
            ("cost", "quoteQty"),
            ("fee_amount", "commission"),
            ("timestamp", "time"),
        ],
    );
    let mut orders = Vec::new();
    for (symbol, list) in truth["orders"].as_object().expect("truth.orders") {
        for o in list.as_array().unwrap() {
            orders.push((
                format!("{symbol}:{}", crate::text(&o["orderId"])),
                o.clone(),
            ));
        }
    }
    compare(
        daemon,
        name,
        "order",
        &orders,
        &[
            ("symbol", "symbol"),
            ("filled", "executedQty"),
            ("timestamp", "time"),
        ],
    );
    let deposits: Vec<(String, Value)> = truth["deposits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (crate::text(&d["id"]), d.clone()))
        .collect();
    compare(
        daemon,
        name,
        "deposit",
        &deposits,
        &[("amount", "amount"), ("asset_native", "coin")],
    );
    let withdrawals: Vec<(String, Value)> = truth["withdrawals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (crate::text(&d["id"]), d.clone()))
        .collect();
    compare(
        daemon,
        name,
        "withdrawal",
        &withdrawals,
        &[
            ("amount", "amount"),
            ("fee_amount", "transactionFee"),
            ("asset_native", "coin"),
        ],
    );

    // Balances have no exchange id: match by asset.
    let stored: BTreeMap<String, Value> = daemon
        .records(name, "balance")
        .into_iter()
        .map(|b| (crate::text(&b["asset_native"]), b))
        .collect();
    let truth_balances = truth["balances"].as_array().unwrap();
    assert_eq!(
        stored.len(),
        truth_balances.len(),
        "balances: one per asset"
    );
    for b in truth_balances {
        let asset = crate::text(&b["asset"]);
        let rec = stored
            .get(&asset)
            .unwrap_or_else(|| panic!("no balance stored for {asset}"));
        assert_eq!(
            crate::text(&rec["free"]),
            crate::text(&b["free"]),
            "{asset} free"
        );
        assert_eq!(
            crate::text(&rec["locked"]),
            crate::text(&b["locked"]),
            "{asset} locked"
        );
        assert_eq!(&rec["raw"], b, "{asset} raw");
    }
}

/// Counts of each kind in the truth: trades, orders, deposits, withdrawals.
pub fn truth_counts(truth: &Value) -> (usize, usize, usize, usize) {
    let sum = |k: &str| {
        truth[k]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_array().unwrap().len())
            .sum()
    };
    (
        sum("trades"),
        sum("orders"),
        truth["deposits"].as_array().unwrap().len(),
        truth["withdrawals"].as_array().unwrap().len(),
    )
}

/// The records of `kind` stored for integration `name`, by id. A record listed twice, or one
/// of another kind, fails the test.
pub fn stored_by_id(daemon: &Daemon, name: &str, kind: &str) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for r in daemon.records(name, kind) {
        assert_eq!(r["kind"], kind, "a {kind} listing holds {r}");
        let id = crate::text(&r["id"]);
        assert!(
            map.insert(id.clone(), r).is_none(),
            "{kind} {id} is stored twice"
        );
    }
    map
}

/// Asserts that the stored records of `kind` are exactly `truth` (`(id, the exchange's
/// object)`): none missing, none extra, each `raw` equal to the object. `fields` then checks
/// each `(id, stored record, object)` the way the connector maps fields. Returns what is
/// stored, by id.
pub fn assert_kind_exactly(
    daemon: &Daemon,
    name: &str,
    kind: &str,
    truth: &[(String, &Value)],
    mut fields: impl FnMut(&str, &Value, &Value),
) -> BTreeMap<String, Value> {
    let stored = stored_by_id(daemon, name, kind);
    let missing: Vec<&String> = truth
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} {kind} records missing, e.g. {:?}",
        missing.len(),
        truth.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(
        stored.len(),
        truth.len(),
        "{kind}: stored more than the exchange has"
    );
    for (id, raw) in truth {
        let rec = &stored[id];
        assert_eq!(&rec["raw"], *raw, "{kind} {id}: raw differs");
        fields(id, rec, raw);
    }
    stored
}
