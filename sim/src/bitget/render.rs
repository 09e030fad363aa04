//! JSON of the Bitget simulator: the v2 envelope and every object as Bitget prints it.

use serde_json::{json, Value};

use super::data::{
    price_at, to_scaled, Dataset, Fill, FuturesCancel, FuturesFill, Holding, Margin, Order, Symbol,
    TransferRow, SCALE,
};
use crate::prng::{hash_parts, hash_str};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// An amount scaled by 10^8, as Bitget prints it: no trailing zeros, `"0"` for zero.
pub fn dec(v: i128) -> String {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let int = a / SCALE as u128;
    let frac = a % SCALE as u128;
    let mut s = int.to_string();
    if frac != 0 {
        let f = format!("{frac:08}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    if neg && a != 0 {
        format!("-{s}")
    } else {
        s
    }
}

/// `{"code":"00000","msg":"success","requestTime":now,"data":…}`.
pub fn ok(data: Value, now: i64) -> String {
    json!({"code": "00000", "msg": "success", "requestTime": now, "data": data}).to_string()
}

/// An error envelope.
pub fn error(code: &str, msg: &str, now: i64) -> String {
    json!({"code": code, "msg": msg, "requestTime": now, "data": null}).to_string()
}

pub fn symbol(s: &Symbol) -> Value {
    json!({
        "symbol": s.symbol, "baseCoin": s.base, "quoteCoin": s.quote,
        "minTradeAmount": "0", "maxTradeAmount": "10000000000", "takerFeeRate": "0.001",
        "makerFeeRate": "0.001", "pricePrecision": s.price_dp.to_string(),
        "quantityPrecision": s.qty_dp.to_string(), "quotePrecision": "8", "status": "online",
        "minTradeUSDT": "5", "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05",
        "areaSymbol": "no", "orderQuantity": "200", "openTime": "1532454360000",
    })
}

pub fn account_info(ds: &Dataset) -> Value {
    let mut authorities = vec!["stor", "coor"];
    if ds.config.can_trade {
        authorities.extend(["sotr", "cotr"]);
    }
    if ds.config.can_withdraw {
        authorities.push("wtdr");
    }
    json!({
        "userId": ds.user_id.to_string(), "inviterId": "0", "ips": "",
        "authorities": authorities, "parentId": ds.user_id, "traderType": "",
        "channelCode": "", "channel": "", "regisTime": "1600000000000",
    })
}

pub fn spot_asset(h: &Holding) -> Value {
    json!({
        "coin": h.coin, "available": dec(h.available), "limitAvailable": "0",
        "frozen": dec(h.frozen), "locked": dec(h.locked), "uTime": "1700000000000",
    })
}

pub fn funding_asset(h: &Holding) -> Value {
    json!({
        "coin": h.coin, "available": dec(h.available), "frozen": dec(h.frozen),
        "usdtValue": "0",
    })
}

pub fn futures_account(a: &super::data::FuturesAccount) -> Value {
    let equity = dec(a.available + a.locked);
    json!({
        "marginCoin": a.coin, "locked": dec(a.locked), "available": dec(a.available),
        "crossedMaxAvailable": dec(a.available), "isolatedMaxAvailable": dec(a.available),
        "maxTransferOut": dec(a.available), "accountEquity": equity, "usdtEquity": "0",
        "btcEquity": "0", "crossedRiskRate": "0", "unrealizedPL": "0", "coupon": "0",
        "unionTotalMargin": "", "unionAvailable": "", "unionMm": "", "assetList": [],
        "isolatedMargin": "0", "crossedMargin": "0", "crossedUnrealizedPL": "0",
        "isolatedUnrealizedPL": "0", "assetMode": "single",
    })
}

pub fn margin_asset(h: &Holding) -> Value {
    json!({
        "coin": h.coin, "totalAmount": dec(h.available + h.frozen),
        "available": dec(h.available), "frozen": dec(h.frozen), "borrow": "0",
        "interest": "0", "net": dec(h.available + h.frozen), "coupon": "0",
        "cTime": "1700000000000", "uTime": "1700000000000",
    })
}

pub fn isolated_asset(symbol: &str, h: &Holding) -> Value {
    json!({
        "symbol": symbol, "coin": h.coin, "totalAmount": dec(h.available + h.frozen),
        "available": dec(h.available), "frozen": dec(h.frozen), "borrow": "0",
        "interest": "0", "net": dec(h.available + h.frozen), "coupon": "0",
        "cTime": "1700000000000", "uTime": "1700000000000",
    })
}

pub fn earn_asset(h: &Holding) -> Value {
    json!({ "coin": h.coin, "amount": dec(h.available) })
}

pub fn fill(ds: &Dataset, f: &Fill) -> Value {
    let s = &ds.symbols[f.symbol];
    json!({
        "userId": ds.user_id.to_string(), "symbol": s.symbol,
        "orderId": f.order_id.to_string(), "tradeId": f.trade_id.to_string(),
        "orderType": if f.market { "market" } else { "limit" },
        "side": if f.is_buy { "buy" } else { "sell" },
        "priceAvg": dec(f.price), "size": dec(f.size), "amount": dec(f.amount),
        "feeDetail": {
            "deduction": "no", "feeCoin": f.fee_coin, "totalDeductionFee": "",
            "totalFee": dec(-f.fee),
        },
        "tradeScope": if f.maker { "maker" } else { "taker" },
        "cTime": f.time.to_string(), "uTime": f.time.to_string(),
    })
}

pub fn order(ds: &Dataset, o: &Order) -> Value {
    let s = &ds.symbols[o.symbol];
    let avg = if o.filled == 0 {
        "0".to_owned()
    } else {
        dec(o.quote_volume * SCALE / o.filled)
    };
    json!({
        "userId": ds.user_id.to_string(), "symbol": s.symbol,
        "orderId": o.order_id.to_string(), "clientOid": o.client_oid,
        "price": dec(o.price), "size": dec(o.size),
        "orderType": if o.market { "market" } else { "limit" },
        "side": if o.is_buy { "buy" } else { "sell" }, "status": o.status,
        "priceAvg": avg, "baseVolume": dec(o.filled), "quoteVolume": dec(o.quote_volume),
        "enterPointSource": "API", "feeDetail": "", "orderSource": if o.market { "market" } else { "normal" },
        "cTime": o.created.to_string(), "uTime": o.updated.to_string(),
        "tpslType": "normal", "triggerPrice": null,
    })
}

/// A cross margin fill: the spot shape without `userId` and `symbol` (unconfirmed).
pub fn margin_fill(ds: &Dataset, f: &Fill) -> Value {
    let mut v = fill(ds, f);
    if let Some(o) = v.as_object_mut() {
        o.remove("userId");
        o.remove("symbol");
    }
    v
}

pub fn margin_order(ds: &Dataset, o: &Order) -> Value {
    let s = &ds.symbols[o.symbol];
    let avg = if o.filled == 0 {
        "0".to_owned()
    } else {
        dec(o.quote_volume * SCALE / o.filled)
    };
    json!({
        "orderId": o.order_id.to_string(), "symbol": s.symbol,
        "orderType": if o.market { "market" } else { "limit" }, "enterPointSource": "API",
        "clientOid": o.client_oid, "loanType": "normal", "price": dec(o.price),
        "side": if o.is_buy { "buy" } else { "sell" }, "status": o.status,
        "baseSize": dec(o.size), "quoteSize": dec(o.quote_volume), "priceAvg": avg.clone(),
        "size": dec(o.size), "amount": dec(o.quote_volume), "fillPrice": avg,
        "fillQuantity": dec(o.filled), "fillTotalAmount": dec(o.quote_volume),
        "cTime": o.created.to_string(), "uTime": o.updated.to_string(),
    })
}

pub fn bill(b: &super::data::Bill) -> Value {
    json!({
        "cTime": b.time.to_string(), "coin": b.coin, "groupType": b.group_type,
        "businessType": b.business_type, "size": dec(b.size), "balance": dec(b.balance),
        "fees": dec(b.fees), "billId": b.bill_id.to_string(),
    })
}

pub fn deposit(d: &TransferRow) -> Value {
    json!({
        "orderId": d.order_id.to_string(), "tradeId": d.trade_id, "coin": d.coin,
        "type": "deposit", "size": dec(d.size), "status": d.status,
        "toAddress": d.to_address, "dest": d.dest, "chain": d.chain,
        "fromAddress": d.from_address, "tag": d.tag,
        "cTime": d.time.to_string(), "uTime": d.updated.to_string(),
    })
}

pub fn withdrawal(w: &TransferRow) -> Value {
    json!({
        "orderId": w.order_id.to_string(), "tradeId": w.trade_id, "coin": w.coin,
        "dest": w.dest, "clientOid": "", "type": "withdraw", "tag": w.tag,
        "size": dec(w.size), "fee": dec(w.fee), "status": w.status,
        "toAddress": w.to_address, "fromAddress": w.from_address, "confirm": "12",
        "chain": w.chain, "cTime": w.time.to_string(), "uTime": w.updated.to_string(),
    })
}

pub fn futures_fill(f: &FuturesFill) -> Value {
    json!({
        "tradeId": f.trade_id.to_string(), "symbol": f.symbol,
        "orderId": f.order_id.to_string(), "price": dec(f.price), "baseVolume": dec(f.size),
        "feeDetail": [{
            "deduction": "no", "feeCoin": f.margin_coin, "totalDeductionFee": "0",
            "totalFee": dec(-f.fee),
        }],
        "side": if f.is_buy { "buy" } else { "sell" }, "quoteVolume": dec(f.quote),
        "profit": "0", "enterPointSource": "api", "tradeSide": f.trade_side,
        "posMode": "one_way_mode", "tradeScope": if f.maker { "maker" } else { "taker" },
        "cTime": f.time.to_string(),
    })
}

/// The (market) order a futures fill filled.
pub fn futures_order(f: &FuturesFill) -> Value {
    json!({
        "symbol": f.symbol, "size": dec(f.size), "orderId": f.order_id.to_string(),
        "clientOid": format!("exsync-{}", f.order_id), "baseVolume": dec(f.size),
        "fee": dec(-f.fee), "price": "0", "priceAvg": dec(f.price), "status": "filled",
        "side": if f.is_buy { "buy" } else { "sell" }, "force": "gtc", "totalProfits": "0",
        "posSide": "net", "marginCoin": f.margin_coin, "quoteVolume": dec(f.quote),
        "leverage": "10", "marginMode": "crossed", "enterPointSource": "api",
        "tradeSide": f.trade_side, "posMode": "one_way_mode", "orderType": "market",
        "orderSource": "market", "cTime": (f.time - 1).to_string(), "uTime": f.time.to_string(),
    })
}

pub fn futures_cancel(c: &FuturesCancel) -> Value {
    json!({
        "symbol": c.symbol, "size": dec(c.size), "orderId": c.order_id.to_string(),
        "clientOid": format!("exsync-{}", c.order_id), "baseVolume": "0", "fee": "0",
        "price": dec(c.price), "priceAvg": "0", "status": c.status,
        "side": if c.is_buy { "buy" } else { "sell" }, "force": "gtc", "totalProfits": "0",
        "posSide": "net", "marginCoin": c.margin_coin, "quoteVolume": "0", "leverage": "10",
        "marginMode": "crossed", "enterPointSource": "api", "tradeSide": "open",
        "posMode": "one_way_mode", "orderType": "limit", "orderSource": "normal",
        "cTime": c.created.to_string(), "uTime": c.updated.to_string(),
    })
}

/// The bill of a futures fill's fee.
pub fn futures_bill(f: &FuturesFill) -> Value {
    let side = if f.is_buy { "long" } else { "short" };
    json!({
        "billId": f.bill_id.to_string(), "symbol": f.symbol, "amount": dec(-f.fee),
        "fee": dec(-f.fee), "feeByCoupon": "", "businessType": format!("{}_{side}", f.trade_side),
        "coin": f.margin_coin, "balance": dec(f.balance), "cTime": f.time.to_string(),
    })
}

pub fn margin_record(r: &super::data::MarginRecord) -> Value {
    let mut v = json!({
        "coin": r.coin, "marginId": r.margin_id.to_string(), "amount": dec(r.amount),
        "balance": dec(r.balance), "fee": "0", "marginType": r.margin_type,
        "uTime": r.time.to_string(),
    });
    if let (Some(symbol), Some(o)) = (r.symbol, v.as_object_mut()) {
        o.insert("symbol".into(), json!(symbol));
    }
    v
}

/// Bitget's candle granularities: fixed steps aligned to UTC (minutes, hours, the `utc`
/// ones), the same aligned to UTC+8 (`6h`, `12h`, `1day`, `3day`, `1week`), and months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// A step in ms and the offset its candles open at (0, or 8 h earlier for UTC+8).
    Step(i64, i64),
    /// Weeks opening Monday 00:00 at `offset` before UTC midnight.
    Week(i64),
    Month,
}

impl Granularity {
    pub fn parse(s: &str) -> Option<Granularity> {
        const PLUS8: i64 = 8 * HOUR_MS;
        Some(match s {
            "1min" => Granularity::Step(MINUTE_MS, 0),
            "3min" => Granularity::Step(3 * MINUTE_MS, 0),
            "5min" => Granularity::Step(5 * MINUTE_MS, 0),
            "15min" => Granularity::Step(15 * MINUTE_MS, 0),
            "30min" => Granularity::Step(30 * MINUTE_MS, 0),
            "1h" => Granularity::Step(HOUR_MS, 0),
            "4h" => Granularity::Step(4 * HOUR_MS, 0),
            "6Hutc" => Granularity::Step(6 * HOUR_MS, 0),
            "12Hutc" => Granularity::Step(12 * HOUR_MS, 0),
            "1Dutc" => Granularity::Step(DAY_MS, 0),
            "3Dutc" => Granularity::Step(3 * DAY_MS, 0),
            "1Wutc" => Granularity::Week(0),
            "1Mutc" => Granularity::Month,
            "6h" => Granularity::Step(6 * HOUR_MS, PLUS8),
            "12h" => Granularity::Step(12 * HOUR_MS, PLUS8),
            "1day" => Granularity::Step(DAY_MS, PLUS8),
            "3day" => Granularity::Step(3 * DAY_MS, PLUS8),
            "1week" => Granularity::Week(PLUS8),
            _ => return None,
        })
    }

    /// The open time of the candle holding `t`.
    pub fn floor(self, t: i64) -> i64 {
        match self {
            Granularity::Step(step, offset) => t - (t + offset).rem_euclid(step),
            // 1970-01-05 was a Monday.
            Granularity::Week(offset) => t - (t + offset - 4 * DAY_MS).rem_euclid(7 * DAY_MS),
            Granularity::Month => crate::time::month_floor(t),
        }
    }

    pub fn next(self, open: i64) -> i64 {
        match self {
            Granularity::Step(step, _) => open + step,
            Granularity::Week(_) => open + 7 * DAY_MS,
            Granularity::Month => crate::time::add_months(open, 1),
        }
    }

    fn key(self) -> u64 {
        match self {
            Granularity::Step(step, offset) => (step + offset) as u64,
            Granularity::Week(offset) => (offset + 1) as u64,
            Granularity::Month => 2,
        }
    }
}

/// One candle as Bitget's row `[ts, open, high, low, close, baseVolume, usdtVolume,
/// quoteVolume]`; the candle still open at `now` shows the prices so far.
pub fn candle(seed: u64, s: &Symbol, g: Granularity, open: i64, now: i64) -> Value {
    let end = g.next(open).min(now.max(open));
    let h = hash_parts(&[seed, hash_str(&s.symbol), g.key(), open as u64]);
    let o = price_at(seed, s, open);
    let c = price_at(seed, s, end);
    let high = o.max(c) * (1.0 + (h % 1000) as f64 / 50_000.0);
    let low = o.min(c) * (1.0 - ((h >> 10) % 1000) as f64 / 50_000.0);
    let minutes = ((end - open) / MINUTE_MS).max(1) as f64;
    let volume = (500.0 + ((h >> 20) % 20_000) as f64) * minutes / s.base_price.max(1e-9);
    let quote = dec(to_scaled(volume * (o + c) / 2.0, 4));
    let pd = s.price_dp;
    json!([
        open.to_string(),
        dec(to_scaled(o, pd)),
        dec(to_scaled(high, pd)),
        dec(to_scaled(low, pd)),
        dec(to_scaled(c, pd)),
        dec(to_scaled(volume, 6)),
        quote,
        quote,
    ])
}

// ---------------------------------------------------------------------------------------
// The unified trading account (`/api/v3`): the same account, as a unified one shows it.

/// The `category` of a spot or margin fill or order.
fn uta_category(m: Margin) -> &'static str {
    if m == Margin::Spot {
        "SPOT"
    } else {
        "MARGIN"
    }
}

/// The id the connector stores a unified account record under (`MARGIN:123`; spot bare).
pub fn uta_stored_id(category: &str, id: &str) -> String {
    if category == "SPOT" {
        id.to_owned()
    } else {
        format!("{category}:{id}")
    }
}

/// `GET /api/v3/account/settings` (unconfirmed: the fields; the connector reads none).
pub fn uta_settings() -> Value {
    json!({ "assetMode": "union", "holdMode": "one_way_mode", "stpMode": "none" })
}

/// One coin of `GET /api/v3/account/assets`: the spot holdings as the unified account.
pub fn uta_asset(h: &Holding) -> Value {
    let total = h.available + h.frozen + h.locked;
    json!({
        "coin": h.coin, "equity": dec(total), "usdValue": "0", "balance": dec(total),
        "available": dec(h.available), "debt": "0", "locked": dec(h.frozen + h.locked),
    })
}

/// `GET /api/v3/account/assets`: only coins with a balance.
pub fn uta_assets(ds: &Dataset) -> Value {
    let assets: Vec<Value> = ds
        .spot
        .iter()
        .filter(|h| h.available + h.frozen + h.locked != 0)
        .map(uta_asset)
        .collect();
    json!({
        "accountEquity": "0", "usdtEquity": "0", "btcEquity": "0", "unrealisedPnl": "0",
        "usdtUnrealisedPnl": "0", "btcUnrealizedPnl": "0", "effEquity": "0", "mmr": "0",
        "imr": "0", "mgnRatio": "0", "positionMgnRatio": "0", "assets": assets,
    })
}

/// One coin of `GET /api/v3/account/funding-assets`.
pub fn uta_funding_asset(h: &Holding) -> Value {
    json!({
        "coin": h.coin, "available": dec(h.available), "frozen": dec(h.frozen),
        "balance": dec(h.available + h.frozen),
    })
}

/// A spot or margin fill of `GET /api/v3/trade/fills`.
pub fn uta_fill(ds: &Dataset, f: &Fill) -> Value {
    let s = &ds.symbols[f.symbol];
    json!({
        "execId": f.trade_id.to_string(), "orderId": f.order_id.to_string(),
        "category": uta_category(f.margin), "symbol": s.symbol,
        "orderType": if f.market { "market" } else { "limit" },
        "side": if f.is_buy { "buy" } else { "sell" },
        "execPrice": dec(f.price), "execQty": dec(f.size), "execValue": dec(f.amount),
        "tradeScope": if f.maker { "maker" } else { "taker" },
        "feeDetail": [{ "feeCoin": f.fee_coin, "fee": dec(f.fee) }],
        "createdTime": f.time.to_string(), "updatedTime": f.time.to_string(), "execPnl": "0",
    })
}

/// A futures fill of `GET /api/v3/trade/fills`.
pub fn uta_futures_fill(f: &FuturesFill) -> Value {
    json!({
        "execId": f.trade_id.to_string(), "orderId": f.order_id.to_string(),
        "category": f.product_type, "symbol": f.symbol, "orderType": "market",
        "side": if f.is_buy { "buy" } else { "sell" },
        "execPrice": dec(f.price), "execQty": dec(f.size), "execValue": dec(f.quote),
        "tradeScope": if f.maker { "maker" } else { "taker" },
        "feeDetail": [{ "feeCoin": f.margin_coin, "fee": dec(f.fee) }],
        "createdTime": f.time.to_string(), "updatedTime": f.time.to_string(), "execPnl": "0",
    })
}

#[allow(clippy::too_many_arguments)]
fn uta_order_json(
    order_id: u64,
    category: &str,
    symbol: &str,
    market: bool,
    is_buy: bool,
    price: i128,
    qty: i128,
    filled: i128,
    value: i128,
    status: &str,
    created: i64,
    updated: i64,
) -> Value {
    let avg = if filled == 0 {
        "0".to_owned()
    } else {
        dec(value * SCALE / filled)
    };
    json!({
        "orderId": order_id.to_string(), "clientOid": format!("exsync-{order_id}"),
        "category": category, "symbol": symbol,
        "orderType": if market { "market" } else { "limit" },
        "side": if is_buy { "buy" } else { "sell" },
        "price": if market { "0".to_owned() } else { dec(price) }, "qty": dec(qty),
        "amount": "0", "cumExecQty": dec(filled), "cumExecValue": dec(value), "avgPrice": avg,
        "timeInForce": "gtc", "orderStatus": status, "posSide": "", "holdMode": "one_way_mode",
        "reduceOnly": "NO", "feeDetail": [], "cancelReason": "", "execType": "normal",
        "createdTime": created.to_string(), "updatedTime": updated.to_string(),
    })
}

/// A spot or margin order of `GET /api/v3/trade/history-orders` or `unfilled-orders`.
pub fn uta_order(ds: &Dataset, o: &Order) -> Value {
    uta_order_json(
        o.order_id,
        uta_category(o.margin),
        &ds.symbols[o.symbol].symbol,
        o.market,
        o.is_buy,
        o.price,
        o.size,
        o.filled,
        o.quote_volume,
        o.status,
        o.created,
        o.updated,
    )
}

/// The filled order of a futures fill.
pub fn uta_futures_order(f: &FuturesFill) -> Value {
    uta_order_json(
        f.order_id,
        f.product_type,
        f.symbol,
        true,
        f.is_buy,
        0,
        f.size,
        f.size,
        f.quote,
        "filled",
        f.time - 1,
        f.time,
    )
}

/// A futures order cancelled (or still open) without a fill.
pub fn uta_futures_cancel(c: &FuturesCancel) -> Value {
    uta_order_json(
        c.order_id,
        c.product_type,
        c.symbol,
        false,
        c.is_buy,
        c.price,
        c.size,
        0,
        0,
        c.status,
        c.created,
        c.updated,
    )
}

/// A spot bill as a `SPOT` financial record (unconfirmed: the v3 `type` words; these are the
/// v2 business types in upper case).
pub fn uta_spot_record(b: &super::data::Bill) -> Value {
    json!({
        "category": "SPOT", "id": b.bill_id.to_string(), "symbol": "", "coin": b.coin,
        "type": b.business_type.to_ascii_uppercase(), "amount": dec(b.size),
        "fee": dec(b.fees), "balance": dec(b.balance), "ts": b.time.to_string(),
    })
}

/// The fee bill of a futures fill as a financial record of its product type.
pub fn uta_futures_record(f: &FuturesFill) -> Value {
    json!({
        "category": f.product_type, "id": f.bill_id.to_string(), "symbol": f.symbol,
        "coin": f.margin_coin, "type": "TRADING_FEE", "amount": dec(-f.fee),
        "fee": dec(-f.fee), "balance": dec(f.balance), "ts": f.time.to_string(),
    })
}

/// A margin record as a `MARGIN` financial record.
pub fn uta_margin_record(r: &super::data::MarginRecord) -> Value {
    json!({
        "category": "MARGIN", "id": r.margin_id.to_string(), "symbol": r.symbol.unwrap_or(""),
        "coin": r.coin, "type": r.margin_type.to_ascii_uppercase(), "amount": dec(r.amount),
        "fee": "0", "balance": dec(r.balance), "ts": r.time.to_string(),
    })
}

/// A deposit or withdrawal of `GET /api/v3/account/deposit-records` or `withdrawl-records`.
pub fn uta_transfer(t: &TransferRow, deposit: bool) -> Value {
    let mut v = json!({
        "orderId": t.order_id.to_string(), "recordId": t.trade_id, "coin": t.coin,
        "type": if deposit { "deposit" } else { "withdraw" }, "dest": t.dest,
        "size": dec(t.size), "status": t.status, "fromAddress": t.from_address,
        "toAddress": t.to_address, "chain": t.chain, "tag": t.tag,
        "createdTime": t.time.to_string(), "updatedTime": t.updated.to_string(),
    });
    if let (false, Some(o)) = (deposit, v.as_object_mut()) {
        o.insert("clientOid".into(), json!(""));
        o.insert("fee".into(), json!(dec(t.fee)));
        o.insert("confirm".into(), json!("12"));
    }
    v
}

/// Every fill of the unified account, `(id for the cursor, time, object)`.
pub fn uta_fills(ds: &Dataset) -> Vec<(u64, i64, Value)> {
    ds.fills
        .iter()
        .map(|f| (f.trade_id, f.time, uta_fill(ds, f)))
        .chain(
            ds.futures_fills
                .iter()
                .map(|f| (f.trade_id, f.time, uta_futures_fill(f))),
        )
        .collect()
}

/// Every order of the unified account, `(id, created, open, object)`.
pub fn uta_orders(ds: &Dataset) -> Vec<(u64, i64, bool, Value)> {
    let open = |s: &str| matches!(s, "live" | "partially_filled");
    ds.orders
        .iter()
        .map(|o| (o.order_id, o.created, open(o.status), uta_order(ds, o)))
        .chain(
            ds.futures_fills
                .iter()
                .map(|f| (f.order_id, f.time - 1, false, uta_futures_order(f))),
        )
        .chain(
            ds.futures_cancels
                .iter()
                .map(|c| (c.order_id, c.created, open(c.status), uta_futures_cancel(c))),
        )
        .collect()
}

/// Every financial record of the unified account, `(id, time, object)`.
pub fn uta_records(ds: &Dataset) -> Vec<(u64, i64, Value)> {
    ds.bills
        .iter()
        .map(|b| (b.bill_id, b.time, uta_spot_record(b)))
        .chain(
            ds.futures_fills
                .iter()
                .map(|f| (f.bill_id, f.time, uta_futures_record(f))),
        )
        .chain(
            ds.margin_records
                .iter()
                .map(|r| (r.margin_id, r.time, uta_margin_record(r))),
        )
        .collect()
}

/// `{"id": stored id, "raw": object}` of a unified account object with `key` as its id.
fn uta_truth(v: Value, key: &str) -> Value {
    let category = v["category"].as_str().unwrap_or_default();
    let id = v[key].as_str().unwrap_or_default();
    json!({ "id": uta_stored_id(category, id), "raw": v })
}

/// The unified account as the connector should store it.
pub fn uta_truth_of(ds: &Dataset) -> Value {
    json!({
        "balances": {
            "unified": uta_assets(ds)["assets"].clone(),
            "funding": ds.funding.iter().map(uta_funding_asset).collect::<Vec<_>>(),
        },
        "fills": uta_fills(ds).into_iter().map(|(_, _, v)| uta_truth(v, "execId")).collect::<Vec<_>>(),
        "orders": uta_orders(ds).into_iter().map(|(_, _, _, v)| uta_truth(v, "orderId")).collect::<Vec<_>>(),
        "records": uta_records(ds).into_iter().map(|(_, _, v)| uta_truth(v, "id")).collect::<Vec<_>>(),
        "deposits": ds.deposits.iter().map(|t| uta_transfer(t, true)).collect::<Vec<_>>(),
        "withdrawals": ds.withdrawals.iter().map(|t| uta_transfer(t, false)).collect::<Vec<_>>(),
    })
}

/// `GET /__sim/truth`: everything the account holds, as the API serves it.
pub fn truth(ds: &Dataset) -> Value {
    json!({
        "exchange": "bitget",
        "account": if ds.config.uta { "unified" } else { "classic" },
        "uta": uta_truth_of(ds),
        "user_id": ds.user_id.to_string(),
        "account_info": account_info(ds),
        "symbols": ds.symbols.iter().map(symbol).collect::<Vec<_>>(),
        "balances": {
            "spot": ds.spot.iter().map(spot_asset).collect::<Vec<_>>(),
            "funding": ds.funding.iter().map(funding_asset).collect::<Vec<_>>(),
            "futures": ds.futures.iter().map(futures_account).collect::<Vec<_>>(),
            "margin": ds.margin.iter().map(margin_asset).collect::<Vec<_>>(),
            "isolated_margin": ds.isolated.iter().map(|(s, h)| isolated_asset(s, h)).collect::<Vec<_>>(),
            "earn": ds.earn.iter().map(earn_asset).collect::<Vec<_>>(),
        },
        "fills": ds.fills.iter().filter(|f| f.margin == Margin::Spot).map(|f| fill(ds, f)).collect::<Vec<_>>(),
        "orders": ds.orders.iter().filter(|o| o.margin == Margin::Spot).map(|o| order(ds, o)).collect::<Vec<_>>(),
        "margin_fills": ds.fills.iter().filter(|f| f.margin == Margin::Cross).map(|f| margin_fill(ds, f)).collect::<Vec<_>>(),
        "margin_orders": ds.orders.iter().filter(|o| o.margin == Margin::Cross).map(|o| margin_order(ds, o)).collect::<Vec<_>>(),
        "isolated_fills": ds.fills.iter().filter(|f| f.margin == Margin::Isolated).map(|f| margin_fill(ds, f)).collect::<Vec<_>>(),
        "isolated_orders": ds.orders.iter().filter(|o| o.margin == Margin::Isolated).map(|o| margin_order(ds, o)).collect::<Vec<_>>(),
        "bills": ds.bills.iter().map(bill).collect::<Vec<_>>(),
        "futures_fills": ds.futures_fills.iter().map(|f| json!({"product_type": f.product_type, "raw": futures_fill(f)})).collect::<Vec<_>>(),
        "futures_orders": ds.futures_fills.iter().map(|f| json!({"product_type": f.product_type, "raw": futures_order(f)}))
            .chain(ds.futures_cancels.iter().map(|c| json!({"product_type": c.product_type, "raw": futures_cancel(c)})))
            .collect::<Vec<_>>(),
        "futures_bills": ds.futures_fills.iter().map(|f| json!({"product_type": f.product_type, "raw": futures_bill(f)})).collect::<Vec<_>>(),
        "margin_records": ds.margin_records.iter().filter(|r| r.symbol.is_none()).map(margin_record).collect::<Vec<_>>(),
        "isolated_records": ds.margin_records.iter().filter(|r| r.symbol.is_some()).map(margin_record).collect::<Vec<_>>(),
        "deposits": ds.deposits.iter().map(deposit).collect::<Vec<_>>(),
        "withdrawals": ds.withdrawals.iter().map(withdrawal).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_look_like_bitget() {
        assert_eq!(dec(0), "0");
        assert_eq!(dec(1), "0.00000001");
        assert_eq!(dec(SCALE * 26_950 + SCALE / 2), "26950.5");
        assert_eq!(dec(-SCALE / 4), "-0.25");
    }

    #[test]
    fn granularities_open_where_bitget_opens_them() {
        let monday = crate::time::parse_date_ms("2024-01-01").unwrap();
        assert_eq!(
            Granularity::parse("1Wutc")
                .unwrap()
                .floor(monday + 3 * DAY_MS),
            monday
        );
        assert_eq!(
            Granularity::parse("1Dutc")
                .unwrap()
                .floor(monday + 5 * HOUR_MS),
            monday
        );
        // `1day` opens at midnight UTC+8, 16:00 UTC.
        assert_eq!(
            Granularity::parse("1day")
                .unwrap()
                .floor(monday + 5 * HOUR_MS),
            monday - 8 * HOUR_MS
        );
        assert_eq!(
            Granularity::Month.next(monday),
            crate::time::parse_date_ms("2024-02-01").unwrap()
        );
        assert_eq!(Granularity::parse("2h"), None);
    }
}
