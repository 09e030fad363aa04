//! JSON of the Bybit simulator: the v5 envelope and every object as Bybit prints it.

use serde_json::{json, Value};

use super::data::{
    price_at, to_scaled, Category, Dataset, Deposit, Execution, Instrument, LedgerRow, Order,
    Withdrawal, SCALE,
};
use crate::prng::{hash_parts, hash_str};
use crate::time::{DAY_MS, MINUTE_MS};

/// An amount scaled by 10^8, as Bybit prints it: no trailing zeros, `"0"` for zero.
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

/// `{"retCode":0,"retMsg":"OK","result":…,"retExtInfo":{},"time":now}`.
pub fn ok(result: Value, now: i64) -> String {
    json!({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now})
        .to_string()
}

/// An error envelope.
pub fn error(code: i64, msg: &str, now: i64) -> String {
    json!({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": now}).to_string()
}

pub fn instrument(i: &Instrument) -> Value {
    let tick = dec(SCALE / 10i128.pow(i.price_dp));
    let step = dec(SCALE / 10i128.pow(i.qty_dp));
    match i.category {
        Category::Spot => json!({
            "symbol": i.symbol, "baseCoin": i.base, "quoteCoin": i.quote, "innovation": "0",
            "status": "Trading", "marginTrading": "utaOnly", "stTag": "0",
            "lotSizeFilter": {"basePrecision": step, "quotePrecision": "0.00000001",
                "minOrderQty": step, "maxOrderQty": "10000", "minOrderAmt": "1", "maxOrderAmt": "2000000"},
            "priceFilter": {"tickSize": tick},
        }),
        _ => json!({
            "symbol": i.symbol,
            "contractType": if i.category == Category::Inverse { "InversePerpetual" } else { "LinearPerpetual" },
            "status": "Trading", "baseCoin": i.base, "quoteCoin": i.quote,
            "launchTime": "1585526400000", "deliveryTime": "0", "deliveryFeeRate": "",
            "priceScale": i.price_dp.to_string(),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": tick, "maxPrice": "1999999.8", "tickSize": tick},
            "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": step, "qtyStep": step},
            "unifiedMarginTrade": true, "fundingInterval": 480, "settleCoin": i.settle,
        }),
    }
}

pub fn execution(ds: &Dataset, e: &Execution) -> Value {
    let i = &ds.instruments[e.instrument];
    let mark = to_scaled(price_at(ds.config.seed, i, e.time), i.price_dp);
    let fee_rate = if e.exec_type == "Funding" {
        "0.0001"
    } else if i.category == Category::Spot {
        "0.001"
    } else {
        "0.00055"
    };
    json!({
        "symbol": i.symbol, "orderType": e.order_type, "underlyingPrice": "",
        "orderLinkId": e.order_link_id, "side": if e.is_buy { "Buy" } else { "Sell" },
        "indexPrice": "", "orderId": e.order_id, "stopOrderType": "UNKNOWN", "leavesQty": "0",
        "execTime": e.time.to_string(), "feeCurrency": e.fee_currency, "isMaker": e.is_maker,
        "execFee": dec(e.fee), "feeRate": fee_rate, "execId": e.exec_id, "tradeIv": "",
        "blockTradeId": "", "markPrice": dec(mark), "execPrice": dec(e.price), "markIv": "",
        "orderQty": dec(e.order_qty), "orderPrice": dec(e.order_price),
        "execValue": dec(e.value), "execType": e.exec_type, "execQty": dec(e.qty),
        "closedSize": "", "seq": e.seq,
    })
}

pub fn order(ds: &Dataset, o: &Order) -> Value {
    let i = &ds.instruments[o.instrument];
    let avg = if o.cum_qty == 0 {
        String::new()
    } else if i.category == Category::Inverse {
        dec(o.cum_qty * SCALE / o.cum_value.max(1))
    } else {
        dec(o.cum_value * SCALE / o.cum_qty)
    };
    let leaves = if matches!(o.status, "New" | "PartiallyFilled") {
        o.qty - o.cum_qty
    } else {
        0
    };
    json!({
        "orderId": o.order_id, "orderLinkId": o.order_link_id, "blockTradeId": "",
        "symbol": i.symbol, "price": dec(o.price), "qty": dec(o.qty),
        "side": if o.is_buy { "Buy" } else { "Sell" }, "isLeverage": "0", "positionIdx": 0,
        "orderStatus": o.status, "cancelType": if o.status == "Cancelled" { "CancelByUser" } else { "UNKNOWN" },
        "rejectReason": if o.status == "Rejected" { "EC_PostOnlyWillTakeLiquidity" } else { "EC_NoError" },
        "avgPrice": avg, "leavesQty": dec(leaves), "leavesValue": dec(super::data::mul(leaves, o.price)),
        "cumExecQty": dec(o.cum_qty), "cumExecValue": dec(o.cum_value), "cumExecFee": dec(o.cum_fee),
        "timeInForce": if o.order_type == "Market" { "IOC" } else { "GTC" },
        "orderType": o.order_type, "stopOrderType": "", "orderIv": "", "triggerPrice": "0",
        "takeProfit": "", "stopLoss": "", "tpTriggerBy": "", "slTriggerBy": "",
        "triggerDirection": 0, "triggerBy": "", "lastPriceOnCreated": "", "reduceOnly": false,
        "closeOnTrigger": false, "smpType": "None", "smpGroup": 0, "smpOrderId": "",
        "tpslMode": "", "tpLimitPrice": "", "slLimitPrice": "", "placeType": "",
        "createdTime": o.created.to_string(), "updatedTime": o.updated.to_string(),
    })
}

pub fn ledger_row(r: &LedgerRow) -> Value {
    json!({
        "id": r.id, "symbol": r.symbol, "category": r.category.as_str(), "side": r.side,
        "transactionTime": r.time.to_string(), "type": r.kind, "qty": dec(r.qty), "size": "0",
        "currency": r.currency, "tradePrice": dec(r.trade_price), "funding": dec(r.funding),
        "fee": dec(r.fee), "cashFlow": dec(r.change + r.fee), "change": dec(r.change),
        "cashBalance": dec(r.cash_balance), "feeRate": "", "bonusChange": "",
        "tradeId": r.trade_id, "orderId": r.order_id, "orderLinkId": "",
    })
}

pub fn deposit(d: &Deposit) -> Value {
    json!({
        "coin": d.coin, "chain": d.chain, "amount": dec(d.amount), "txID": d.tx_id,
        "status": d.status, "toAddress": d.to_address, "tag": d.tag,
        "depositFee": if d.fee == 0 { String::new() } else { dec(d.fee) },
        "successAt": d.success_at.to_string(), "confirmations": d.confirmations.to_string(),
        "txIndex": d.tx_index.to_string(), "blockHash": format!("0x{:016x}", hash_str(&d.tx_id)),
        "batchReleaseLimit": "-1", "depositType": "0", "fromAddress": "", "id": d.id,
    })
}

pub fn withdrawal(w: &Withdrawal) -> Value {
    json!({
        "withdrawId": w.withdraw_id, "txID": w.tx_id, "withdrawType": w.withdraw_type,
        "coin": w.coin, "chain": w.chain, "amount": dec(w.amount), "withdrawFee": dec(w.fee),
        "status": w.status, "toAddress": w.to_address, "tag": w.tag,
        "createTime": w.create_time.to_string(), "updateTime": w.update_time.to_string(),
    })
}

fn usd(v: f64) -> String {
    format!("{v:.4}")
}

/// The coins of the unified wallet, as `wallet-balance` lists them.
pub fn unified_coins(ds: &Dataset) -> Vec<Value> {
    ds.unified
        .iter()
        .map(|c| {
            let usd_value = c.wallet_balance as f64 / SCALE as f64 * c.usd_price;
            json!({
                "availableToBorrow": "", "bonus": "0", "accruedInterest": "0",
                "availableToWithdraw": "", "totalOrderIM": "0", "equity": dec(c.wallet_balance),
                "totalPositionMM": "0", "usdValue": usd(usd_value), "unrealisedPnl": "0",
                "collateralSwitch": true, "spotHedgingQty": "0", "borrowAmount": "0",
                "totalPositionIM": "0", "walletBalance": dec(c.wallet_balance),
                "cumRealisedPnl": "0", "locked": dec(c.locked), "marginCollateral": true,
                "coin": c.coin,
            })
        })
        .collect()
}

/// The coins of a classic account's `SPOT` or `CONTRACT` wallet, as `wallet-balance` lists
/// them: the coin fields Bybit documents, `free` ("available balance for Spot wallet, a unique
/// field for Classic SPOT") and `locked` ("locked balance due to the Spot open order") on the
/// spot wallet; coins holding nothing are left out, as Bybit does by default.
/// unconfirmed: which coin fields Bybit leaves empty for a classic wallet (its reference gives
/// a unified example only); the margin and PnL fields are served empty on the spot wallet and
/// `0` on the contract wallet.
pub fn classic_coins(ds: &Dataset, account_type: &str) -> Vec<Value> {
    let spot = account_type == "SPOT";
    let coins = if spot { &ds.spot } else { &ds.contract };
    coins
        .iter()
        .filter(|c| c.wallet_balance != 0 || c.locked != 0)
        .map(|c| {
            let usd_value = c.wallet_balance as f64 / SCALE as f64 * c.usd_price;
            let free = c.wallet_balance - c.locked;
            let margin = if spot { "" } else { "0" };
            let mut coin = json!({
                "coin": c.coin, "equity": dec(c.wallet_balance), "usdValue": usd(usd_value),
                "walletBalance": dec(c.wallet_balance), "locked": dec(c.locked),
                "borrowAmount": "", "availableToBorrow": "", "availableToWithdraw": dec(free),
                "accruedInterest": "", "totalOrderIM": margin, "totalPositionIM": margin,
                "totalPositionMM": margin, "unrealisedPnl": margin, "cumRealisedPnl": margin,
                "bonus": "",
            });
            if spot {
                coin["free"] = json!(dec(free));
            }
            coin
        })
        .collect()
}

/// `wallet-balance` of a classic account's `SPOT` or `CONTRACT` wallet: the account-wide
/// fields are empty strings, as Bybit documents for non-unified accounts.
pub fn classic_wallet_balance(ds: &Dataset, account_type: &str) -> Value {
    json!({"list": [{
        "totalEquity": "", "accountIMRate": "", "totalMarginBalance": "",
        "totalInitialMargin": "", "accountType": account_type, "totalAvailableBalance": "",
        "accountMMRate": "", "totalPerpUPL": "", "totalWalletBalance": "",
        "accountLTV": "", "totalMaintenanceMargin": "", "coin": classic_coins(ds, account_type),
    }]})
}

pub fn wallet_balance(ds: &Dataset) -> Value {
    let total: f64 = ds
        .unified
        .iter()
        .map(|c| c.wallet_balance as f64 / SCALE as f64 * c.usd_price)
        .sum();
    json!({"list": [{
        "totalEquity": usd(total), "accountIMRate": "0", "totalMarginBalance": usd(total),
        "totalInitialMargin": "0", "accountType": "UNIFIED", "totalAvailableBalance": usd(total),
        "accountMMRate": "0", "totalPerpUPL": "0", "totalWalletBalance": usd(total),
        "accountLTV": "0", "totalMaintenanceMargin": "0", "coin": unified_coins(ds),
    }]})
}

pub fn funding_coins(ds: &Dataset) -> Vec<Value> {
    ds.funding
        .iter()
        .map(|c| {
            json!({
                "coin": c.coin, "transferBalance": dec(c.transfer_balance),
                "walletBalance": dec(c.wallet_balance), "bonus": "",
            })
        })
        .collect()
}

pub fn funding_balance(ds: &Dataset) -> Value {
    json!({
        "memberId": ds.user_id.to_string(), "accountType": "FUND",
        "balance": funding_coins(ds),
    })
}

/// One Earn position as `/v5/earn/position` lists it; OnChain-only fields stay empty for
/// flexible savings.
pub fn earn_position(p: &super::data::EarnPosition) -> Value {
    let onchain = p.category == "OnChain";
    json!({
        "coin": p.coin, "productId": p.product_id, "amount": dec(p.amount),
        "totalPnl": dec(p.total_pnl),
        "claimableYield": if onchain { String::new() } else { dec(p.claimable_yield) },
        "id": p.id, "status": if onchain { "Active" } else { "" }, "orderId": p.order_id,
        "estimateRedeemTime": "", "estimateStakeTime": "",
        "estimateInterestCalculationTime": "", "settlementTime": "",
    })
}

pub fn api_key(ds: &Dataset, key: &str) -> Value {
    let trade = ds.config.can_trade;
    let withdraw = ds.config.can_withdraw;
    let mut wallet = vec!["AccountTransfer", "SubMemberTransfer"];
    if withdraw {
        wallet.push("Withdraw");
    }
    json!({
        "id": (ds.user_id % 100_000_000).to_string(), "note": "exsync simulator", "apiKey": key,
        "readOnly": if trade || withdraw { 0 } else { 1 }, "secret": "",
        "permissions": {
            "ContractTrade": if trade { vec!["Order", "Position"] } else { Vec::new() },
            "Spot": if trade { vec!["SpotTrade"] } else { Vec::new() },
            "Wallet": wallet, "Options": [], "Derivatives": [], "CopyTrading": [],
            "BlockTrade": [], "Exchange": [], "NFT": [], "Affiliate": [],
        },
        "ips": ["*"], "type": 1, "deadlineDay": -1, "expiredAt": "",
        "createdAt": "2024-01-02T03:04:05Z", "unified": 0,
        "uta": i32::from(!ds.config.classic),
        "userID": ds.user_id, "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0",
        "affiliateID": 0, "rsaPublicKey": "", "isMaster": true, "parentUid": "0",
        "kycLevel": "LEVEL_1", "kycRegion": "",
    })
}

/// Bybit's kline intervals: minutes, `D`, `W` (opens Monday), `M` (opens on the 1st).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Minutes(i64),
    Day,
    Week,
    Month,
}

impl Interval {
    pub fn parse(s: &str) -> Option<Interval> {
        Some(match s {
            "1" | "3" | "5" | "15" | "30" | "60" | "120" | "240" | "360" | "720" => {
                Interval::Minutes(s.parse().ok()?)
            }
            "D" => Interval::Day,
            "W" => Interval::Week,
            "M" => Interval::Month,
            _ => return None,
        })
    }

    /// The open time of the candle holding `t`.
    pub fn floor(self, t: i64) -> i64 {
        match self {
            Interval::Minutes(m) => t - t.rem_euclid(m * MINUTE_MS),
            Interval::Day => t - t.rem_euclid(DAY_MS),
            // 1970-01-05 was a Monday.
            Interval::Week => t - (t - 4 * DAY_MS).rem_euclid(7 * DAY_MS),
            Interval::Month => crate::time::month_floor(t),
        }
    }

    pub fn next(self, open: i64) -> i64 {
        match self {
            Interval::Minutes(m) => open + m * MINUTE_MS,
            Interval::Day => open + DAY_MS,
            Interval::Week => open + 7 * DAY_MS,
            Interval::Month => crate::time::add_months(open, 1),
        }
    }

    fn key(self) -> u64 {
        match self {
            Interval::Minutes(m) => m as u64,
            Interval::Day => 1_000_001,
            Interval::Week => 1_000_002,
            Interval::Month => 1_000_003,
        }
    }
}

/// One candle as Bybit's row `[startTime, open, high, low, close, volume, turnover]`; the
/// candle still open at `now` shows the prices so far.
pub fn kline(seed: u64, i: &Instrument, iv: Interval, open: i64, now: i64) -> Value {
    let end = iv.next(open).min(now.max(open));
    let h = hash_parts(&[seed, hash_str(&i.symbol), iv.key(), open as u64]);
    let o = price_at(seed, i, open);
    let c = price_at(seed, i, end);
    let high = o.max(c) * (1.0 + (h % 1000) as f64 / 50_000.0);
    let low = o.min(c) * (1.0 - ((h >> 10) % 1000) as f64 / 50_000.0);
    let minutes = ((end - open) / MINUTE_MS).max(1) as f64;
    let volume = (500.0 + ((h >> 20) % 20_000) as f64) * minutes / i.base_price.max(1e-9);
    let pd = i.price_dp;
    json!([
        open.to_string(),
        dec(to_scaled(o, pd)),
        dec(to_scaled(high, pd)),
        dec(to_scaled(low, pd)),
        dec(to_scaled(c, pd)),
        dec(to_scaled(volume, 6)),
        dec(to_scaled(volume * (o + c) / 2.0, 4)),
    ])
}

/// `GET /__sim/truth`: everything the account holds, as the API serves it.
pub fn truth(ds: &Dataset, api_key_value: &str) -> Value {
    let mut instruments = serde_json::Map::new();
    for c in Category::ALL {
        instruments.insert(
            c.as_str().to_owned(),
            Value::Array(
                ds.instruments
                    .iter()
                    .filter(|i| i.category == c)
                    .map(instrument)
                    .collect(),
            ),
        );
    }
    let mut executions = serde_json::Map::new();
    let mut orders = serde_json::Map::new();
    for c in Category::ALL {
        executions.insert(
            c.as_str().to_owned(),
            Value::Array(
                ds.executions
                    .iter()
                    .filter(|e| e.category == c)
                    .map(|e| execution(ds, e))
                    .collect(),
            ),
        );
        orders.insert(
            c.as_str().to_owned(),
            Value::Array(
                ds.orders
                    .iter()
                    .filter(|o| o.category == c)
                    .map(|o| order(ds, o))
                    .collect(),
            ),
        );
    }
    json!({
        "exchange": "bybit",
        "user_id": ds.user_id.to_string(),
        "api_key": api_key(ds, api_key_value),
        "instruments": instruments,
        "balances": {
            "unified": unified_coins(ds),
            "spot": classic_coins(ds, "SPOT"),
            "contract": classic_coins(ds, "CONTRACT"),
            "funding": funding_coins(ds),
            "earn": ds.earn.iter().map(earn_position).collect::<Vec<_>>(),
        },
        "executions": executions,
        "orders": orders,
        "transaction_log": ds.ledger.iter().map(ledger_row).collect::<Vec<_>>(),
        "deposits": ds.deposits.iter().map(deposit).collect::<Vec<_>>(),
        "withdrawals": ds.withdrawals.iter().map(withdrawal).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_look_like_bybit() {
        assert_eq!(dec(0), "0");
        assert_eq!(dec(1), "0.00000001");
        assert_eq!(dec(SCALE * 43_125 + SCALE / 2), "43125.5");
        assert_eq!(dec(-SCALE / 4), "-0.25");
    }

    #[test]
    fn intervals_open_where_bybit_opens_them() {
        let monday = crate::time::parse_date_ms("2024-01-01").unwrap();
        assert_eq!(Interval::Week.floor(monday + 3 * DAY_MS), monday);
        assert_eq!(
            Interval::Month.next(monday),
            crate::time::parse_date_ms("2024-02-01").unwrap()
        );
        assert_eq!(Interval::parse("60"), Some(Interval::Minutes(60)));
        assert_eq!(Interval::parse("61"), None);
    }
}
