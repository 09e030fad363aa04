//! How the Deribit simulator writes its data: the JSON objects of Deribit's answers, amounts
//! as JSON numbers (`1.5e-5`, `40000.0`), as Deribit writes them. The ground truth
//! (`admin.rs`) is built from the same functions, so it is exactly what the API serves.

use serde_json::{json, Value};

use super::data::{dec, price_at, to_scaled, Dataset, LogEntry, SimDeposit, SimOrder};
use super::data::{SimTrade, SimWithdrawal, SCALE};
use crate::prng::{hash_parts, hash_str};
use crate::time::DAY_MS;

/// The key's scope, as `public/auth` names it.
pub fn scope(ds: &Dataset) -> String {
    let trade = if ds.config.can_trade {
        "read_write"
    } else {
        "read"
    };
    let wallet = if !ds.config.can_read_wallet {
        "none"
    } else if ds.config.can_withdraw {
        "read_write"
    } else {
        "read"
    };
    format!("account:read trade:{trade} wallet:{wallet} block_trade:read custody:read_write")
}

/// A scaled amount as the JSON number Deribit would write (`1.5e-5`, `40000.0`).
pub fn num(v: i128) -> Value {
    let f: f64 = dec(v).parse().expect("a decimal parses as f64");
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

pub fn summary(ds: &Dataset, currency: &str) -> Value {
    let balance = ds.balance_of(currency);
    let margin = if balance > 0 { balance / 10 } else { 0 };
    json!({
        "currency": currency,
        "balance": num(balance),
        "equity": num(balance),
        "margin_balance": num(balance),
        "available_funds": num(balance - margin),
        "available_withdrawal_funds": num(balance - margin),
        "initial_margin": num(margin),
        "maintenance_margin": num(margin / 2),
        "session_upl": 0.0,
        "session_rpl": 0.0,
        "total_pl": 0.0,
        "options_value": 0.0,
        "options_pl": 0.0,
        "futures_pl": 0.0,
        "fee_balance": 0,
        "spot_reserve": 0,
        "portfolio_margining_enabled": false,
        "cross_collateral_enabled": false,
        "margin_model": "segregated_sm",
        "delta_total": 0.0,
        "limits": {"non_matching_engine": {"rate": 20, "burst": 100}},
    })
}

pub fn account_summaries(ds: &Dataset) -> Value {
    let summaries: Vec<Value> = super::data::CURRENCIES
        .iter()
        .map(|c| summary(ds, c))
        .collect();
    json!({
        "id": ds.user_id,
        "username": ds.username,
        "email": format!("{}@example.invalid", ds.username),
        "system_name": ds.username,
        "type": "main",
        "login_enabled": true,
        "security_keys_enabled": false,
        "mmp_enabled": false,
        "interuser_transfers_enabled": false,
        "creation_timestamp": ds.config.end_ms - ds.config.days * DAY_MS - DAY_MS,
        "referrer_id": null,
        "summaries": summaries,
    })
}

pub fn positions(ds: &Dataset, currency: Option<&str>) -> Vec<Value> {
    ds.positions()
        .into_iter()
        .filter(|(k, _)| currency.is_none_or(|c| ds.instruments[*k].currency == c))
        .map(|(k, size)| {
            let i = &ds.instruments[k];
            let mark = to_scaled(price_at(ds.config.seed, i, ds.config.end_ms), i.price_dp);
            json!({
                "instrument_name": i.name,
                "kind": i.kind.as_str(),
                "size": num(size),
                "direction": if size > 0 { "buy" } else { "sell" },
                "average_price": num(mark),
                "mark_price": num(mark),
                "index_price": num(mark),
                "floating_profit_loss": 0.0,
                "realized_profit_loss": 0.0,
                "total_profit_loss": 0.0,
                "initial_margin": 0.0,
                "maintenance_margin": 0.0,
                "delta": num(size / 100),
            })
        })
        .collect()
}

pub fn trade(ds: &Dataset, t: &SimTrade) -> Value {
    let i = &ds.instruments[t.instrument];
    let mark = to_scaled(price_at(ds.config.seed, i, t.timestamp), i.price_dp);
    json!({
        "trade_id": t.trade_id,
        "trade_seq": t.trade_seq,
        "timestamp": t.timestamp,
        "tick_direction": t.trade_seq % 4,
        "state": "filled",
        "self_trade": false,
        "reduce_only": false,
        "post_only": false,
        "order_id": t.order_id,
        "order_type": t.order_type,
        "mark_price": num(mark),
        "index_price": num(mark),
        "instrument_name": i.name,
        "direction": if t.buy { "buy" } else { "sell" },
        "price": num(t.price),
        "amount": num(t.amount),
        "fee": num(t.fee),
        "fee_currency": t.currency,
        "liquidity": if t.maker { "M" } else { "T" },
        "matching_id": null,
        "api": true,
        "mmp": false,
        "risk_reducing": false,
        "contracts": num(t.amount),
    })
}

pub fn order(ds: &Dataset, o: &SimOrder) -> Value {
    let i = &ds.instruments[o.instrument];
    json!({
        "order_id": o.order_id,
        "instrument_name": i.name,
        "kind": i.kind.as_str(),
        "direction": if o.buy { "buy" } else { "sell" },
        "order_type": o.order_type,
        "order_state": o.state,
        "price": o.price.map_or(json!("market_price"), num),
        "amount": num(o.amount),
        "filled_amount": num(o.filled),
        "average_price": num(o.average),
        "creation_timestamp": o.created,
        "last_update_timestamp": o.updated,
        "time_in_force": "good_til_cancelled",
        "post_only": false,
        "reduce_only": false,
        "replaced": false,
        "label": "",
        "api": true,
        "web": false,
        "is_liquidation": false,
        "risk_reducing": false,
        "contracts": num(o.amount),
    })
}

pub fn deposit(d: &SimDeposit) -> Value {
    json!({
        "address": d.address,
        "amount": num(d.amount),
        "currency": d.currency,
        "received_timestamp": d.received,
        "state": d.state,
        "transaction_id": d.txid,
        "updated_timestamp": d.updated,
        "note": "",
    })
}

pub fn withdrawal(w: &SimWithdrawal) -> Value {
    json!({
        "id": w.id,
        "address": w.address,
        "amount": num(w.amount),
        "currency": w.currency,
        "fee": num(w.fee),
        "state": w.state,
        "transaction_id": w.txid,
        "created_timestamp": w.created,
        "confirmed_timestamp": if w.state == "completed" { json!(w.updated) } else { Value::Null },
        "updated_timestamp": w.updated,
        "priority": 1,
        "note": "",
    })
}

pub fn log_entry(ds: &Dataset, l: &LogEntry) -> Value {
    let mut v = json!({
        "id": l.id,
        "timestamp": l.timestamp,
        "type": l.kind,
        "currency": l.currency,
        "change": num(l.change),
        "cashflow": num(l.change),
        "balance": num(l.balance),
        "equity": num(l.balance),
        "user_id": ds.user_id,
        "username": ds.username,
        "user_seq": l.id - 999_999,
        "interest_pl": 0,
        "info": {},
    });
    if let Some(i) = l.instrument {
        v["instrument_name"] = json!(i);
    }
    if let (Some(t), Some(o)) = (&l.trade_id, &l.order_id) {
        v["trade_id"] = json!(t);
        v["order_id"] = json!(o);
        v["side"] = json!(l.side);
        v["price"] = l.price.map_or(Value::Null, num);
        v["amount"] = l.amount.map_or(Value::Null, num);
        v["fee_balance"] = json!(0);
    }
    v
}

/// One candle row `[tick, open, high, low, close, volume, cost]` of `instrument`; a candle
/// still open at `now` reflects only the part of its period that has passed.
pub fn candle(seed: u64, instrument: &str, step: i64, tick: i64, now: i64) -> [Value; 7] {
    let base = 100_000 + (hash_parts(&[seed, hash_str(instrument)]) % 50_000) as i128;
    let h = |k: u64| hash_parts(&[seed, hash_str(instrument), step as u64, tick as u64, k]);
    let open = base * SCALE / 10 + (h(1) % 100_000) as i128 * SCALE / 100;
    let elapsed = if tick + step <= now {
        100
    } else {
        ((now - tick).max(0) * 100 / step) as u64
    };
    let close = open + ((h(2) % 20_001) as i128 - 10_000) * SCALE / 100 * elapsed as i128 / 100;
    let high = open.max(close) + (h(3) % 5_000) as i128 * SCALE / 100 * elapsed as i128 / 100;
    let low = open.min(close) - (h(4) % 5_000) as i128 * SCALE / 100 * elapsed as i128 / 100;
    let volume = (h(5) % 1_000_000) as i128 * SCALE / 10_000 * elapsed as i128 / 100;
    let cost = volume * close / SCALE / 1_000_000 * 1_000_000;
    [
        json!(tick),
        num(open),
        num(high),
        num(low),
        num(close),
        num(volume),
        num(cost),
    ]
}
