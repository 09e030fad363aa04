//! JSON rendering of the Binance simulator's records, field for field as Binance prints them.
//!
//! The API endpoints and the ground truth both render through these functions, so a raw object
//! in the truth is byte for byte what the API serves.

use std::fmt::Write as _;

use super::data::{Balance, Dataset, Deposit, Order, SymbolInfo, Trade, Withdrawal, SCALE};
use crate::prng::{hash_parts, hash_str};
use crate::time::format_datetime;

/// Appends an amount scaled by 10^8 as Binance's 8-decimal string, quotes included.
pub fn dec8(out: &mut String, v: u128) {
    let _ = write!(out, "\"{}.{:08}\"", v / SCALE, v % SCALE);
}

/// Appends a JSON string literal.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn tick(decimals: u8) -> u128 {
    10u128.pow(8 - u32::from(decimals.min(8)))
}

pub fn trade(out: &mut String, ds: &Dataset, sym: &SymbolInfo, t: &Trade) {
    out.push_str("{\"symbol\":");
    string(out, &sym.name);
    let _ = write!(
        out,
        ",\"id\":{},\"orderId\":{},\"orderListId\":-1,\"price\":",
        t.id, t.order_id
    );
    dec8(out, u128::from(t.price));
    out.push_str(",\"qty\":");
    dec8(out, u128::from(t.qty));
    out.push_str(",\"quoteQty\":");
    dec8(out, t.quote_qty());
    out.push_str(",\"commission\":");
    dec8(out, u128::from(t.commission));
    out.push_str(",\"commissionAsset\":");
    string(out, &ds.assets[t.commission_asset as usize]);
    let _ = write!(
        out,
        ",\"time\":{},\"isBuyer\":{},\"isMaker\":{},\"isBestMatch\":true}}",
        t.time, t.is_buyer, t.is_maker
    );
}

/// The client order id: Binance's web UI style for some orders, an API client's for others.
fn client_order_id(seed: u64, sym: &str, order_id: u64) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = hash_parts(&[seed, hash_str(sym), order_id]);
    if h % 3 == 0 {
        format!("web_{:016x}{:016x}", h, hash_parts(&[h]))
    } else {
        (0..22)
            .map(|_| {
                h = hash_parts(&[h]);
                ALNUM[(h % ALNUM.len() as u64) as usize] as char
            })
            .collect()
    }
}

pub fn order(out: &mut String, ds: &Dataset, sym: &SymbolInfo, o: &Order) {
    out.push_str("{\"symbol\":");
    string(out, &sym.name);
    let _ = write!(
        out,
        ",\"orderId\":{},\"orderListId\":-1,\"clientOrderId\":",
        o.id
    );
    string(out, &client_order_id(ds.config.seed, &sym.name, o.id));
    out.push_str(",\"price\":");
    dec8(out, u128::from(o.price));
    out.push_str(",\"origQty\":");
    dec8(out, u128::from(o.orig_qty));
    out.push_str(",\"executedQty\":");
    dec8(out, u128::from(o.executed_qty));
    out.push_str(",\"cummulativeQuoteQty\":");
    dec8(out, o.cum_quote);
    let _ = write!(
        out,
        ",\"status\":\"{}\",\"timeInForce\":\"{}\",\"type\":\"{}\",\"side\":\"{}\"",
        o.status.as_str(),
        if o.ioc { "IOC" } else { "GTC" },
        o.kind.as_str(),
        if o.is_buy { "BUY" } else { "SELL" }
    );
    out.push_str(",\"stopPrice\":\"0.00000000\",\"icebergQty\":\"0.00000000\"");
    let _ = write!(
        out,
        ",\"time\":{},\"updateTime\":{},\"isWorking\":true,\"workingTime\":{}",
        o.time, o.update_time, o.time
    );
    out.push_str(
        ",\"origQuoteOrderQty\":\"0.00000000\",\"selfTradePreventionMode\":\"EXPIRE_MAKER\"}",
    );
}

pub fn balance(out: &mut String, asset: &str, b: &Balance) {
    out.push_str("{\"asset\":");
    string(out, asset);
    out.push_str(",\"free\":");
    dec8(out, b.free);
    out.push_str(",\"locked\":");
    dec8(out, b.locked);
    out.push('}');
}

pub fn balances(out: &mut String, ds: &Dataset, omit_zero: bool) {
    out.push('[');
    let mut first = true;
    for (asset, b) in ds.assets.iter().zip(&ds.balances) {
        if omit_zero && b.free == 0 && b.locked == 0 {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        balance(out, asset, b);
    }
    out.push(']');
}

/// The fields of `GET /api/v3/account` before `balances`.
fn account_head(out: &mut String, ds: &Dataset) {
    let _ = write!(
        out,
        "\"makerCommission\":10,\"takerCommission\":10,\"buyerCommission\":0,\"sellerCommission\":0,\
         \"commissionRates\":{{\"maker\":\"0.00100000\",\"taker\":\"0.00100000\",\"buyer\":\"0.00000000\",\"seller\":\"0.00000000\"}},\
         \"canTrade\":{},\"canWithdraw\":{},\"canDeposit\":true,\"brokered\":false,\
         \"requireSelfTradePrevention\":false,\"preventSor\":false,\"updateTime\":{},\"accountType\":\"SPOT\"",
        ds.config.can_trade, ds.config.can_withdraw, ds.update_time
    );
}

fn account_tail(out: &mut String, ds: &Dataset) {
    let _ = write!(out, "\"permissions\":[\"SPOT\"],\"uid\":{}", ds.uid);
}

/// `GET /api/v3/account`.
pub fn account(out: &mut String, ds: &Dataset, omit_zero: bool) {
    out.push('{');
    account_head(out, ds);
    out.push_str(",\"balances\":");
    balances(out, ds, omit_zero);
    out.push(',');
    account_tail(out, ds);
    out.push('}');
}

/// The account object without `balances`, for the truth.
pub fn account_without_balances(out: &mut String, ds: &Dataset) {
    out.push('{');
    account_head(out, ds);
    out.push(',');
    account_tail(out, ds);
    out.push('}');
}

pub fn api_restrictions(out: &mut String, ds: &Dataset) {
    let _ = write!(
        out,
        "{{\"ipRestrict\":false,\"createTime\":{},\"enableReading\":true,\"enableWithdrawals\":{},\
         \"enableInternalTransfer\":false,\"enableMargin\":false,\"enableFutures\":false,\
         \"permitsUniversalTransfer\":false,\"enableVanillaOptions\":false,\"enableFixApiTrade\":false,\
         \"enableFixReadOnly\":true,\"enableSpotAndMarginTrading\":{},\"enablePortfolioMarginTrading\":false}}",
        ds.key_create_time, ds.config.can_withdraw, ds.config.can_trade
    );
}

pub fn deposit(out: &mut String, ds: &Dataset, d: &Deposit) {
    let _ = write!(out, "{{\"id\":\"{}\",\"amount\":", d.id);
    dec8(out, u128::from(d.amount));
    out.push_str(",\"coin\":");
    string(out, &ds.assets[d.coin as usize]);
    let _ = write!(
        out,
        ",\"network\":\"{}\",\"status\":{},\"address\":",
        d.network, d.status
    );
    string(out, &d.address);
    out.push_str(",\"addressTag\":");
    string(out, &d.address_tag);
    out.push_str(",\"txId\":");
    string(out, &d.tx_id);
    let _ = write!(out, ",\"insertTime\":{}", d.insert_time);
    if let Some(c) = d.complete_time {
        let _ = write!(out, ",\"completeTime\":{c}");
    }
    let _ = write!(
        out,
        ",\"transferType\":0,\"confirmTimes\":\"{}\",\"unlockConfirm\":0,\"walletType\":{}}}",
        d.confirm_times, d.wallet_type
    );
}

pub fn withdrawal(out: &mut String, ds: &Dataset, w: &Withdrawal) {
    out.push_str("{\"id\":");
    string(out, &w.id);
    out.push_str(",\"amount\":");
    dec8(out, u128::from(w.amount));
    out.push_str(",\"transactionFee\":");
    dec8(out, u128::from(w.fee));
    out.push_str(",\"coin\":");
    string(out, &ds.assets[w.coin as usize]);
    let _ = write!(out, ",\"status\":{},\"address\":", w.status);
    string(out, &w.address);
    out.push_str(",\"txId\":");
    string(out, &w.tx_id);
    let _ = write!(
        out,
        ",\"applyTime\":\"{}\",\"network\":\"{}\",\"transferType\":{}",
        format_datetime(w.apply_time),
        w.network,
        w.transfer_type
    );
    if let Some(id) = &w.withdraw_order_id {
        out.push_str(",\"withdrawOrderId\":");
        string(out, id);
    }
    out.push_str(",\"info\":");
    string(out, w.info);
    let _ = write!(
        out,
        ",\"confirmNo\":{},\"walletType\":{},\"txKey\":\"\"",
        w.confirm_no, w.wallet_type
    );
    if let Some(c) = w.complete_time {
        let _ = write!(out, ",\"completeTime\":\"{}\"", format_datetime(c));
    }
    out.push('}');
}

/// One symbol of `GET /api/v3/exchangeInfo`.
pub fn symbol(out: &mut String, ds: &Dataset, s: &SymbolInfo) {
    out.push_str("{\"symbol\":");
    string(out, &s.name);
    let _ = write!(out, ",\"status\":\"{}\",\"baseAsset\":", s.status.as_str());
    string(out, &ds.assets[s.base as usize]);
    out.push_str(",\"baseAssetPrecision\":8,\"quoteAsset\":");
    string(out, &ds.assets[s.quote as usize]);
    out.push_str(
        ",\"quotePrecision\":8,\"quoteAssetPrecision\":8,\"baseCommissionPrecision\":8,\
         \"quoteCommissionPrecision\":8,\"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\",\
         \"STOP_LOSS\",\"STOP_LOSS_LIMIT\",\"TAKE_PROFIT\",\"TAKE_PROFIT_LIMIT\"],\
         \"icebergAllowed\":true,\"ocoAllowed\":true,\"otoAllowed\":true,\
         \"quoteOrderQtyMarketAllowed\":true,\"allowTrailingStop\":true,\"cancelReplaceAllowed\":true,\
         \"amendAllowed\":true,\"pegInstructionsAllowed\":false,\"isSpotTradingAllowed\":true,\
         \"isMarginTradingAllowed\":false,\"filters\":[",
    );
    let tick_size = tick(s.price_decimals);
    let step = tick(s.qty_decimals);
    out.push_str("{\"filterType\":\"PRICE_FILTER\",\"minPrice\":");
    dec8(out, tick_size);
    out.push_str(",\"maxPrice\":");
    dec8(out, 100_000_000 * SCALE);
    out.push_str(",\"tickSize\":");
    dec8(out, tick_size);
    out.push_str("},{\"filterType\":\"LOT_SIZE\",\"minQty\":");
    dec8(out, step);
    out.push_str(",\"maxQty\":");
    // Above Binance's usual 92233720368.54775807 on purpose: the data set holds a larger fill.
    dec8(out, 900_000_000_000 * SCALE);
    out.push_str(",\"stepSize\":");
    dec8(out, step);
    out.push_str(
        "},{\"filterType\":\"ICEBERG_PARTS\",\"limit\":10},\
         {\"filterType\":\"MARKET_LOT_SIZE\",\"minQty\":\"0.00000000\",\"maxQty\":",
    );
    dec8(out, 900_000_000_000 * SCALE);
    out.push_str(
        ",\"stepSize\":\"0.00000000\"},\
         {\"filterType\":\"TRAILING_DELTA\",\"minTrailingAboveDelta\":10,\"maxTrailingAboveDelta\":2000,\
         \"minTrailingBelowDelta\":10,\"maxTrailingBelowDelta\":2000},\
         {\"filterType\":\"PERCENT_PRICE_BY_SIDE\",\"bidMultiplierUp\":\"5\",\"bidMultiplierDown\":\"0.2\",\
         \"askMultiplierUp\":\"5\",\"askMultiplierDown\":\"0.2\",\"avgPriceMins\":5},\
         {\"filterType\":\"NOTIONAL\",\"minNotional\":\"5.00000000\",\"applyMinToMarket\":true,\
         \"maxNotional\":\"9000000.00000000\",\"applyMaxToMarket\":false,\"avgPriceMins\":5},\
         {\"filterType\":\"MAX_NUM_ORDERS\",\"maxNumOrders\":200},\
         {\"filterType\":\"MAX_NUM_ALGO_ORDERS\",\"maxNumAlgoOrders\":5}],\
         \"permissions\":[],\"permissionSets\":[[\"SPOT\"]],\
         \"defaultSelfTradePreventionMode\":\"EXPIRE_MAKER\",\
         \"allowedSelfTradePreventionModes\":[\"EXPIRE_TAKER\",\"EXPIRE_MAKER\",\"EXPIRE_BOTH\",\"DECREMENT\"]}",
    );
}

/// Renders a JSON array of items.
pub fn array<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    mut f: impl FnMut(&mut String, T),
) {
    out.push('[');
    let mut first = true;
    for item in items {
        if !first {
            out.push(',');
        }
        first = false;
        f(out, item);
    }
    out.push(']');
}

/// `GET /__sim/truth`: everything the account holds, as the API serves it.
pub fn truth(out: &mut String, ds: &Dataset) {
    out.push_str("{\"exchange\":\"binance\",\"symbols\":");
    array(out, &ds.symbols, |o, s| symbol(o, ds, s));
    out.push_str(",\"balances\":");
    balances(out, ds, false);
    out.push_str(",\"account\":");
    account_without_balances(out, ds);
    out.push_str(",\"trades\":{");
    for (k, &s) in ds.traded.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let sym = &ds.symbols[s];
        string(out, &sym.name);
        out.push(':');
        array(out, &ds.books[s].trades, |o, t| trade(o, ds, sym, t));
    }
    out.push_str("},\"orders\":{");
    for (k, &s) in ds.traded.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let sym = &ds.symbols[s];
        string(out, &sym.name);
        out.push(':');
        array(out, &ds.books[s].orders, |o, x| order(o, ds, sym, x));
    }
    out.push_str("},\"deposits\":");
    array(out, &ds.deposits, |o, d| deposit(o, ds, d));
    out.push_str(",\"withdrawals\":");
    array(out, &ds.withdrawals, |o, w| withdrawal(o, ds, w));
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_look_like_binance() {
        let mut s = String::new();
        dec8(&mut s, 1_000_000);
        dec8(&mut s, 1);
        dec8(&mut s, u128::from(super::super::data::HUGE));
        assert_eq!(s, "\"0.01000000\"\"0.00000001\"\"98765432109.87654321\"");
    }

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        string(&mut s, "a\"b\\c\n币安人生");
        assert_eq!(s, "\"a\\\"b\\\\c\\u000a币安人生\"");
    }
}
