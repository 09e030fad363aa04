//! Parsing for the `okx` connector.
//!
//! Pure: response bytes in, records (or the few facts the connector needs) out. OKX's JSON
//! shapes stay private to this file. Every answer is an envelope `{"code":"0","msg":"",
//! "data":[...]}`; a code other than `"0"` is an error even with HTTP 200. Every number is a
//! string and is copied as received; the only arithmetic is exact decimal-string arithmetic
//! (a fill's cost, an order's cost), never through `f64`. Every record keeps `raw`, the JSON
//! object or array it came from.
//!
//! Also here: mapping OKX's error codes and HTTP statuses to the error taxonomy.

use exsync_plugin_api::decimal::{add, is_zero, mul, negate, parse_decimal};
use exsync_plugin_api::{
    Balance, Candle, ErrorKind, LedgerEntry, Liquidity, Order, OrderStatus, PluginError, Record,
    Side, Trade, Transfer, TransferStatus,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::pagination::WalkItem;

/// What `GET /api/v5/account/config` says about the account and the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccountConfig {
    pub(crate) uid: String,
    pub(crate) main_uid: String,
    /// `1` spot mode, `2` spot and futures, `3` multi-currency margin, `4` portfolio margin.
    pub(crate) acct_lv: String,
    /// The key's rights: `read_only`, `trade`, `withdraw`, comma-separated.
    pub(crate) perm: String,
    /// The key's label, as its owner named it.
    pub(crate) label: String,
}

impl AccountConfig {
    pub(crate) fn can(&self, right: &str) -> bool {
        self.perm.split(',').any(|p| p.trim() == right)
    }

    /// Whether the key belongs to a sub-account (its uid is not the main account's).
    pub(crate) fn is_sub_account(&self) -> bool {
        !self.main_uid.is_empty() && self.uid != self.main_uid
    }
}

/// What a derivative contract is worth, from `public/instruments`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Contract {
    /// Contract value, in `ctValCcy` (the base for linear contracts, the quote for inverse).
    pub(crate) ct_val: String,
    pub(crate) ct_mult: String,
    /// Inverse contracts are worth a fixed amount of the quote currency (USD).
    pub(crate) inverse: bool,
}

/// Derivative contracts by `instId`.
pub(crate) type Contracts = std::collections::BTreeMap<String, Contract>;

// ---------------------------------------------------------------------------------------
// OKX's JSON shapes.

#[derive(Deserialize)]
struct OkxEnvelope {
    code: FlexCode,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    data: Value,
}

/// OKX sends codes as strings (`"0"`, `"50113"`); be lenient with numbers.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum FlexCode {
    Text(String),
    Number(i64),
}

impl FlexCode {
    fn text(&self) -> String {
        match self {
            FlexCode::Text(s) => s.clone(),
            FlexCode::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct OkxTime {
    ts: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxAccountConfig {
    uid: String,
    #[serde(default)]
    main_uid: String,
    #[serde(default)]
    acct_lv: String,
    #[serde(default)]
    perm: String,
    #[serde(default)]
    label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxInstrument {
    inst_id: String,
    #[serde(default)]
    ct_val: String,
    #[serde(default)]
    ct_mult: String,
    #[serde(default)]
    ct_type: String,
}

#[derive(Deserialize)]
struct OkxTradingBalance {
    details: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxTradingDetail {
    ccy: String,
    #[serde(default)]
    cash_bal: String,
    #[serde(default)]
    eq: String,
    #[serde(default)]
    avail_bal: String,
    #[serde(default)]
    avail_eq: String,
    #[serde(default)]
    frozen_bal: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxFundingBalance {
    ccy: String,
    bal: String,
    avail_bal: String,
    frozen_bal: String,
}

#[derive(Deserialize)]
struct OkxSavingsBalance {
    ccy: String,
    amt: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxStakingOrder {
    invest_data: Vec<OkxStakingInvest>,
}

#[derive(Deserialize)]
struct OkxStakingInvest {
    ccy: String,
    amt: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxFill {
    inst_id: String,
    bill_id: String,
    ord_id: String,
    fill_px: String,
    fill_sz: String,
    side: String,
    #[serde(default)]
    exec_type: String,
    #[serde(default)]
    fee_ccy: String,
    #[serde(default)]
    fee: String,
    ts: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxOrder {
    inst_type: String,
    inst_id: String,
    ord_id: String,
    #[serde(default)]
    px: String,
    #[serde(default)]
    sz: String,
    ord_type: String,
    side: String,
    #[serde(default)]
    acc_fill_sz: String,
    #[serde(default)]
    avg_px: String,
    state: String,
    c_time: String,
    #[serde(default)]
    u_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxBill {
    bill_id: String,
    #[serde(rename = "type")]
    bill_type: String,
    ts: String,
    bal_chg: String,
    #[serde(default)]
    bal: String,
    ccy: String,
    #[serde(default)]
    ord_id: String,
    #[serde(default)]
    trade_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxFundingBill {
    bill_id: String,
    #[serde(rename = "type")]
    bill_type: String,
    ts: String,
    bal_chg: String,
    #[serde(default)]
    bal: String,
    ccy: String,
    #[serde(default)]
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxDeposit {
    dep_id: String,
    ccy: String,
    amt: String,
    #[serde(default)]
    chain: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    tx_id: String,
    state: String,
    ts: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxWithdrawal {
    wd_id: String,
    ccy: String,
    amt: String,
    #[serde(default)]
    fee: String,
    #[serde(default)]
    fee_ccy: String,
    #[serde(default)]
    chain: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    memo: String,
    #[serde(default)]
    pmt_id: String,
    #[serde(default)]
    tx_id: String,
    state: String,
    ts: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxAlgoOrder {
    inst_id: String,
    algo_id: String,
    #[serde(default)]
    sz: String,
    ord_type: String,
    side: String,
    state: String,
    #[serde(default)]
    ord_px: String,
    c_time: String,
    #[serde(default)]
    u_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OkxFiatOrder {
    ord_id: String,
    ccy: String,
    amt: String,
    #[serde(default)]
    fee: String,
    #[serde(default)]
    payment_method: String,
    state: String,
    c_time: String,
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// `GET /api/v5/public/time` → the server's clock, UTC ms.
pub(crate) fn parse_server_time(body: &[u8]) -> Result<i64, PluginError> {
    let items = data(body, "public/time")?;
    let first = items
        .first()
        .ok_or_else(|| bad("while parsing the public/time response: `data` is empty".into()))?;
    let t: OkxTime = element(first, "public/time", 0)?;
    millis(&t.ts, "public/time", 0, "ts")
}

/// `GET /api/v5/account/config` → identity and the key's rights.
pub(crate) fn parse_account_config(body: &[u8]) -> Result<AccountConfig, PluginError> {
    let items = data(body, "account/config")?;
    let first = items
        .first()
        .ok_or_else(|| bad("while parsing the account/config response: `data` is empty".into()))?;
    let c: OkxAccountConfig = element(first, "account/config", 0)?;
    Ok(AccountConfig {
        uid: c.uid,
        main_uid: c.main_uid,
        acct_lv: c.acct_lv,
        perm: c.perm,
        label: c.label,
    })
}

/// `GET /api/v5/public/instruments` → the contract value of every instrument that has one.
pub(crate) fn parse_instruments(body: &[u8]) -> Result<Contracts, PluginError> {
    let endpoint = "public/instruments";
    let mut contracts = Contracts::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let ins: OkxInstrument = element(&raw, endpoint, i)?;
        if parse_decimal(&ins.ct_val).is_none() {
            continue;
        }
        let ct_mult = if ins.ct_mult.is_empty() {
            "1".to_owned()
        } else {
            require_amount(&ins.ct_mult, endpoint, i, "ctMult")?;
            ins.ct_mult
        };
        contracts.insert(
            ins.inst_id,
            Contract {
                ct_val: ins.ct_val,
                ct_mult,
                inverse: ins.ct_type == "inverse",
            },
        );
    }
    Ok(contracts)
}

/// `GET /api/v5/account/balance` → one `trading` balance per currency listed.
///
/// OKX's trading account is unified: spot holdings, margin and derivatives collateral are
/// one balance per currency. `total` is `cashBal`, `free` is `availBal` (`availEq` where
/// OKX leaves `availBal` empty), `locked` is `frozenBal`.
pub(crate) fn parse_trading_balance(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "account/balance";
    let items = data(body, endpoint)?;
    let mut records = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let account: OkxTradingBalance = element(item, endpoint, n)?;
        for (i, raw) in account.details.into_iter().enumerate() {
            let d: OkxTradingDetail = element(&raw, endpoint, i)?;
            let total = first_amount(&[&d.cash_bal, &d.eq]);
            let free = first_amount(&[&d.avail_bal, &d.avail_eq]);
            let locked = first_amount(&[&d.frozen_bal]);
            let (Some(total), Some(free), Some(locked)) = (total, free, locked) else {
                return Err(bad(format!(
                    "while parsing the {endpoint} response: details[{i}] ({}) lacks a decimal \
                     cashBal/eq, availBal/availEq or frozenBal",
                    d.ccy
                )));
            };
            records.push(balance(&d.ccy, "trading", free, locked, total, as_of, raw));
        }
    }
    Ok(records)
}

/// `GET /api/v5/asset/balances` → one `funding` balance per currency listed.
pub(crate) fn parse_funding_balances(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "asset/balances";
    let mut records = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let b: OkxFundingBalance = element(&raw, endpoint, i)?;
        for (name, v) in [
            ("bal", &b.bal),
            ("availBal", &b.avail_bal),
            ("frozenBal", &b.frozen_bal),
        ] {
            require_amount(v, endpoint, i, name)?;
        }
        records.push(balance(
            &b.ccy,
            "funding",
            b.avail_bal,
            b.frozen_bal,
            b.bal,
            as_of,
            raw,
        ));
    }
    Ok(records)
}

/// `GET /api/v5/finance/savings/balances` → one `earn` balance per currency in Simple Earn.
///
/// Savings are lent out: nothing is free to trade until redeemed, so the whole `amt` is
/// `locked` (and `total`), `free` is zero.
pub(crate) fn parse_savings_balances(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "finance/savings/balances";
    let mut records = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let b: OkxSavingsBalance = element(&raw, endpoint, i)?;
        require_amount(&b.amt, endpoint, i, "amt")?;
        records.push(balance(
            &b.ccy,
            "earn",
            "0".into(),
            b.amt.clone(),
            b.amt,
            as_of,
            raw,
        ));
    }
    Ok(records)
}

/// `GET /api/v5/finance/staking-defi/orders-active` → one `staking` balance per invested
/// currency: the sum of `investData[].amt` over every active On-chain Earn order.
///
/// OKX lists orders, not balances, and a store keeps one balance per wallet and currency, so
/// orders in one currency are summed and the balance's `raw` is the array of those orders
/// as served. Staked coins are not free to trade, so the whole sum is `locked` (and
/// `total`), `free` is zero. Accrued `earningData` is not counted: OKX pays it out to the
/// funding account (unconfirmed: whether every protocol pays earnings out rather than
/// compounding them into `investData`).
pub(crate) fn parse_staking_balances(body: &[u8], as_of: i64) -> Result<Vec<Record>, PluginError> {
    let endpoint = "finance/staking-defi/orders-active";
    let mut by_ccy: std::collections::BTreeMap<String, (String, Vec<Value>)> = Default::default();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let order: OkxStakingOrder = element(&raw, endpoint, i)?;
        for invest in order.invest_data {
            require_amount(&invest.amt, endpoint, i, "investData.amt")?;
            let entry = by_ccy
                .entry(invest.ccy)
                .or_insert_with(|| ("0".to_owned(), Vec::new()));
            entry.0 = add(&entry.0, &invest.amt).ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response: [{i}] investData.amt {:?} \
                     overflows the sum",
                    invest.amt
                ))
            })?;
            if entry.1.last() != Some(&raw) {
                entry.1.push(raw.clone());
            }
        }
    }
    Ok(by_ccy
        .into_iter()
        .map(|(ccy, (total, orders))| {
            balance(
                &ccy,
                "staking",
                "0".into(),
                total.clone(),
                total,
                as_of,
                Value::Array(orders),
            )
        })
        .collect())
}

/// `GET /api/v5/trade/fills-history` → fills keyed by `billId` (the record id, unique in
/// the account; OKX's `tradeId` is unique per instrument only and stays in `raw`).
///
/// OKX's `fee` is signed (negative: charged, positive: rebate); `fee_amount` is what the
/// account paid, so its sign is flipped. `amount` is `fillSz` as OKX counts it (contracts for
/// swaps, futures and options). `cost` is exact: `fillPx × fillSz` for spot and margin; for a
/// contract in `contracts`, `fillPx × fillSz × ctVal × ctMult` (linear) or
/// `fillSz × ctVal × ctMult` (inverse: the contract is worth a fixed quote amount). A contract
/// OKX no longer lists (an expired future) falls back to `fillPx × fillSz`, and `raw` keeps
/// what OKX sent.
pub(crate) fn parse_fills(
    body: &[u8],
    contracts: &Contracts,
) -> Result<Vec<WalkItem>, PluginError> {
    let endpoint = "trade/fills-history";
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let f: OkxFill = element(&raw, endpoint, i)?;
        let key = id_key(&f.bill_id, endpoint, i, "billId")?;
        let side = parse_side(&f.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (bill {}) has side {:?}",
                f.bill_id, f.side
            ))
        })?;
        let cost = match contracts.get(&f.inst_id) {
            Some(c) if c.inverse => mul(&f.fill_sz, &c.ct_val).and_then(|v| mul(&v, &c.ct_mult)),
            Some(c) => mul(&f.fill_px, &f.fill_sz)
                .and_then(|v| mul(&v, &c.ct_val))
                .and_then(|v| mul(&v, &c.ct_mult)),
            None => mul(&f.fill_px, &f.fill_sz),
        }
        .ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (bill {}) has fillPx {:?} and \
                 fillSz {:?}, which are not both decimal amounts",
                f.bill_id, f.fill_px, f.fill_sz
            ))
        })?;
        let (base, quote) = split_inst_id(&f.inst_id);
        let fee_amount = if f.fee.is_empty() {
            None
        } else {
            Some(negate(&f.fee).ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response: [{i}] has fee {:?}",
                    f.fee
                ))
            })?)
        };
        let record = Record::Trade(Trade {
            id: f.bill_id.clone(),
            order_id: non_empty(f.ord_id),
            timestamp: millis(&f.ts, endpoint, i, "ts")?,
            symbol: f.inst_id.clone(),
            base,
            quote,
            side,
            price: f.fill_px,
            amount: f.fill_sz,
            cost,
            fee_asset: non_empty(f.fee_ccy.clone()),
            fee_asset_native: non_empty(f.fee_ccy),
            fee_amount,
            liquidity: match f.exec_type.as_str() {
                "M" => Some(Liquidity::Maker),
                "T" => Some(Liquidity::Taker),
                _ => None,
            },
            raw,
        });
        items.push(WalkItem {
            key,
            record,
            pending: false,
        });
    }
    Ok(items)
}

/// `GET /api/v5/trade/orders-history-archive` and `orders-pending` → orders keyed by
/// `ordId` (unique across OKX); live and partially filled orders are pending.
///
/// `cost` is `avgPx × accFillSz` for spot and margin, and as for fills ([`parse_fills`]) the
/// contract value of a derivative in `contracts`; none for a contract OKX no longer lists.
pub(crate) fn parse_orders(
    body: &[u8],
    endpoint: &str,
    contracts: &Contracts,
) -> Result<Vec<WalkItem>, PluginError> {
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let o: OkxOrder = element(&raw, endpoint, i)?;
        let key = id_key(&o.ord_id, endpoint, i, "ordId")?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (order {}) has side {:?}",
                o.ord_id, o.side
            ))
        })?;
        let filled = if o.acc_fill_sz.is_empty() {
            "0".to_owned()
        } else {
            require_amount(&o.acc_fill_sz, endpoint, i, "accFillSz")?;
            o.acc_fill_sz.clone()
        };
        let average = decimal_opt(&o.avg_px).filter(|a| !is_zero(a));
        let cost = average.as_deref().and_then(|avg| {
            match (o.inst_type.as_str(), contracts.get(&o.inst_id)) {
                ("SPOT" | "MARGIN", _) => mul(avg, &filled),
                (_, Some(c)) if c.inverse => {
                    mul(&filled, &c.ct_val).and_then(|v| mul(&v, &c.ct_mult))
                }
                (_, Some(c)) => mul(avg, &filled)
                    .and_then(|v| mul(&v, &c.ct_val))
                    .and_then(|v| mul(&v, &c.ct_mult)),
                (_, None) => None,
            }
        });
        let status = order_status(&o.state);
        let (base, quote) = split_inst_id(&o.inst_id);
        let record = Record::Order(Order {
            id: o.ord_id.clone(),
            timestamp: millis(&o.c_time, endpoint, i, "cTime")?,
            updated: millis_opt(&o.u_time, endpoint, i, "uTime")?,
            symbol: o.inst_id,
            base,
            quote,
            side,
            order_type: o.ord_type.to_ascii_lowercase(),
            status,
            // Market orders carry px "": no price, not a zero one.
            price: decimal_opt(&o.px),
            amount: decimal_opt(&o.sz),
            filled,
            cost,
            average,
            raw,
        });
        items.push(WalkItem {
            key,
            record,
            pending: status == OrderStatus::Open,
        });
    }
    Ok(items)
}

/// `GET /api/v5/trade/orders-algo-history` and `orders-algo-pending` → orders keyed by
/// `algoId`, with ids `algo:<algoId>`: OKX numbers algo orders apart from ordinary ones.
/// Algo orders not yet triggered (`live`, `pause`, `partially_effective`) are pending.
///
/// An algo order places ordinary orders when it triggers (`ordIdList`); those orders and
/// their fills are synced as such, so an algo order itself reports nothing filled: `filled`
/// is `0`, `cost` and `average` are none, `raw` keeps `actualSz`, `actualPx` and the order
/// ids. `price` is `ordPx` (`-1`, a market order, is no price); `amount` is `sz` (empty for
/// an order closing a fraction of a position: `closeFraction`); `type` is the `ordType`.
pub(crate) fn parse_algo_orders(body: &[u8], endpoint: &str) -> Result<Vec<WalkItem>, PluginError> {
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let o: OkxAlgoOrder = element(&raw, endpoint, i)?;
        let key = id_key(&o.algo_id, endpoint, i, "algoId")?;
        let side = parse_side(&o.side).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (algo order {}) has side {:?}",
                o.algo_id, o.side
            ))
        })?;
        let status = algo_order_status(&o.state);
        let (base, quote) = split_inst_id(&o.inst_id);
        let record = Record::Order(Order {
            id: format!("algo:{}", o.algo_id),
            timestamp: millis(&o.c_time, endpoint, i, "cTime")?,
            updated: millis_opt(&o.u_time, endpoint, i, "uTime")?,
            symbol: o.inst_id,
            base,
            quote,
            side,
            order_type: o.ord_type.to_ascii_lowercase(),
            status,
            price: decimal_opt(&o.ord_px),
            amount: decimal_opt(&o.sz),
            filled: "0".to_owned(),
            cost: None,
            average: None,
            raw,
        });
        items.push(WalkItem {
            key,
            record,
            pending: status == OrderStatus::Open,
        });
    }
    Ok(items)
}

/// `GET /api/v5/fiat/deposit-order-history` or `withdrawal-order-history` → deposits (or
/// withdrawals) keyed by `cTime` (OKX pages them by time), with ids `fiat:<ordId>`: fiat
/// orders are numbered apart from crypto deposits and withdrawals.
///
/// `amount` is `amt` ("final amount of the transaction"), `fee_amount` is `fee` in the
/// order's currency, `network` is the payment method (`SEPA`, `PIX`, `TR_BANKS`...); a bank
/// transfer has no txid, address or tag (`paymentAcctId` stays in `raw`).
pub(crate) fn parse_fiat_transfers(
    body: &[u8],
    endpoint: &str,
    deposits: bool,
) -> Result<Vec<WalkItem>, PluginError> {
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let f: OkxFiatOrder = element(&raw, endpoint, i)?;
        require_amount(&f.amt, endpoint, i, "amt")?;
        let ts = millis(&f.c_time, endpoint, i, "cTime")?;
        let status = fiat_status(&f.state);
        let fee_amount = decimal_opt(&f.fee);
        let transfer = Transfer {
            id: format!("fiat:{}", f.ord_id),
            timestamp: ts,
            asset: f.ccy.clone(),
            asset_native: f.ccy.clone(),
            amount: f.amt,
            fee_asset: fee_amount.as_ref().map(|_| f.ccy.clone()),
            fee_amount,
            status,
            txid: None,
            address: None,
            tag: None,
            network: non_empty(f.payment_method),
            raw,
        };
        items.push(WalkItem {
            key: ts.max(0) as u64,
            record: if deposits {
                Record::Deposit(transfer)
            } else {
                Record::Withdrawal(transfer)
            },
            pending: status == TransferStatus::Pending,
        });
    }
    Ok(items)
}

/// `GET /api/v5/account/bills-archive` → ledger entries keyed by `billId`.
///
/// `amount` is `balChg` (signed, negative leaves the account), `balance_after` is `bal`,
/// `type` is OKX's bill type as a word ([`bill_type`]); its `subType` stays in `raw`.
pub(crate) fn parse_bills(body: &[u8]) -> Result<Vec<WalkItem>, PluginError> {
    let endpoint = "account/bills-archive";
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let b: OkxBill = element(&raw, endpoint, i)?;
        let key = id_key(&b.bill_id, endpoint, i, "billId")?;
        signed_amount(&b.bal_chg).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (bill {}) has balChg {:?}",
                b.bill_id, b.bal_chg
            ))
        })?;
        let record = Record::Ledger(LedgerEntry {
            id: b.bill_id.clone(),
            timestamp: millis(&b.ts, endpoint, i, "ts")?,
            asset: b.ccy.clone(),
            asset_native: b.ccy,
            amount: b.bal_chg,
            balance_after: decimal_opt(&b.bal),
            entry_type: bill_type(&b.bill_type),
            reference_id: non_empty(b.ord_id).or(non_empty(b.trade_id)),
            raw,
        });
        items.push(WalkItem {
            key,
            record,
            pending: false,
        });
    }
    Ok(items)
}

/// `GET /api/v5/asset/bills-history` → the funding account's ledger entries, keyed by
/// `billId`. Their ids are `funding:<billId>`: the funding account numbers its bills apart
/// from the trading account.
pub(crate) fn parse_funding_bills(body: &[u8]) -> Result<Vec<WalkItem>, PluginError> {
    let endpoint = "asset/bills-history";
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let b: OkxFundingBill = element(&raw, endpoint, i)?;
        let key = id_key(&b.bill_id, endpoint, i, "billId")?;
        signed_amount(&b.bal_chg).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response: [{i}] (bill {}) has balChg {:?}",
                b.bill_id, b.bal_chg
            ))
        })?;
        let record = Record::Ledger(LedgerEntry {
            id: format!("funding:{}", b.bill_id),
            timestamp: millis(&b.ts, endpoint, i, "ts")?,
            asset: b.ccy.clone(),
            asset_native: b.ccy,
            amount: b.bal_chg,
            balance_after: decimal_opt(&b.bal),
            entry_type: funding_bill_type(&b.bill_type),
            reference_id: non_empty(b.client_id),
            raw,
        });
        items.push(WalkItem {
            key,
            record,
            pending: false,
        });
    }
    Ok(items)
}

/// `GET /api/v5/asset/deposit-history` → deposits keyed by their `ts` (OKX pages by time).
pub(crate) fn parse_deposits(body: &[u8]) -> Result<Vec<WalkItem>, PluginError> {
    let endpoint = "asset/deposit-history";
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let d: OkxDeposit = element(&raw, endpoint, i)?;
        require_amount(&d.amt, endpoint, i, "amt")?;
        let ts = millis(&d.ts, endpoint, i, "ts")?;
        let status = deposit_status(&d.state);
        let record = Record::Deposit(Transfer {
            id: d.dep_id,
            timestamp: ts,
            asset: d.ccy.clone(),
            asset_native: d.ccy,
            amount: d.amt,
            fee_asset: None,
            fee_amount: None,
            status,
            txid: non_empty(d.tx_id),
            address: non_empty(d.to),
            tag: None,
            network: non_empty(d.chain),
            raw,
        });
        items.push(WalkItem {
            key: ts.max(0) as u64,
            record,
            pending: status == TransferStatus::Pending,
        });
    }
    Ok(items)
}

/// `GET /api/v5/asset/withdrawal-history` → withdrawals keyed by their `ts`.
pub(crate) fn parse_withdrawals(body: &[u8]) -> Result<Vec<WalkItem>, PluginError> {
    let endpoint = "asset/withdrawal-history";
    let mut items = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let w: OkxWithdrawal = element(&raw, endpoint, i)?;
        require_amount(&w.amt, endpoint, i, "amt")?;
        let ts = millis(&w.ts, endpoint, i, "ts")?;
        let status = withdrawal_status(&w.state);
        let fee_amount = decimal_opt(&w.fee);
        let fee_ccy = non_empty(w.fee_ccy).or_else(|| Some(w.ccy.clone()));
        let record = Record::Withdrawal(Transfer {
            id: w.wd_id,
            timestamp: ts,
            asset: w.ccy.clone(),
            asset_native: w.ccy,
            amount: w.amt,
            fee_asset: fee_amount.as_ref().and(fee_ccy),
            fee_amount,
            status,
            txid: non_empty(w.tx_id),
            address: non_empty(w.to),
            tag: non_empty(w.tag)
                .or(non_empty(w.memo))
                .or(non_empty(w.pmt_id)),
            network: non_empty(w.chain),
            raw,
        });
        items.push(WalkItem {
            key: ts.max(0) as u64,
            record,
            pending: status == TransferStatus::Pending,
        });
    }
    Ok(items)
}

/// `GET /api/v5/market/history-candles` → candles of `inst_id` in `timeframe`:
/// rows `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`, final when `confirm` is `"1"`.
pub(crate) fn parse_candles(
    body: &[u8],
    inst_id: &str,
    timeframe: &str,
) -> Result<Vec<Candle>, PluginError> {
    let endpoint = "market/history-candles";
    let (base, quote) = split_inst_id(inst_id);
    let mut candles = Vec::new();
    for (i, raw) in data(body, endpoint)?.into_iter().enumerate() {
        let fields = raw.as_array().filter(|a| a.len() >= 9).ok_or_else(|| {
            bad(format!(
                "while parsing the {endpoint} response for {inst_id} {timeframe}: [{i}] is not \
                 an array of 9 fields"
            ))
        })?;
        let text = |n: usize, name: &str| -> Result<String, PluginError> {
            fields[n].as_str().map(str::to_owned).ok_or_else(|| {
                bad(format!(
                    "while parsing the {endpoint} response for {inst_id} {timeframe}: \
                     [{i}][{n}] ({name}) is not a string"
                ))
            })
        };
        let open_time = millis(&text(0, "ts")?, endpoint, i, "ts")?;
        let candle = Candle {
            symbol: inst_id.to_owned(),
            base: base.clone(),
            quote: quote.clone(),
            timeframe: timeframe.to_owned(),
            open_time,
            open: text(1, "o")?,
            high: text(2, "h")?,
            low: text(3, "l")?,
            close: text(4, "c")?,
            volume: text(5, "vol")?,
            is_final: text(8, "confirm")? == "1",
            raw: raw.clone(),
        };
        candles.push(candle);
    }
    Ok(candles)
}

// ---------------------------------------------------------------------------------------
// Words.

/// OKX order state → ours. An unknown word reads as `open`: the order is then read again
/// until OKX reports a state we know, and `raw` keeps the word.
pub(crate) fn order_status(state: &str) -> OrderStatus {
    match state {
        "filled" => OrderStatus::Closed,
        "canceled" | "mmp_canceled" => OrderStatus::Canceled,
        // live, partially_filled and anything new.
        _ => OrderStatus::Open,
    }
}

/// Algo order state → ours: `effective` (triggered: it placed its orders) is closed,
/// `canceled` canceled, `order_failed` (triggered, but the order it placed failed) rejected,
/// `partially_failed` (some of its orders placed, some failed) closed; `live`, `pause`,
/// `partially_effective` and any new word are open (read again until OKX reports a state we
/// know), and `raw` keeps OKX's word.
pub(crate) fn algo_order_status(state: &str) -> OrderStatus {
    match state {
        "effective" | "partially_failed" => OrderStatus::Closed,
        "canceled" => OrderStatus::Canceled,
        "order_failed" => OrderStatus::Rejected,
        _ => OrderStatus::Open,
    }
}

/// Fiat order state: `completed` ok, `failed` failed, `canceled` canceled; `pending`,
/// `inqueue`, `processing` and any new word pending (read again).
pub(crate) fn fiat_status(state: &str) -> TransferStatus {
    match state {
        "completed" => TransferStatus::Ok,
        "failed" => TransferStatus::Failed,
        "canceled" => TransferStatus::Canceled,
        _ => TransferStatus::Pending,
    }
}

/// Deposit state: 2 successful; 0 waiting for confirmations, 1 credited (not yet
/// withdrawable), 8 / 12 / 13 / 14 held (suspension, frozen, interception, KYC) are pending;
/// 11 (address blacklisted) failed. Unknown codes read as pending (read again).
pub(crate) fn deposit_status(state: &str) -> TransferStatus {
    match state {
        "2" => TransferStatus::Ok,
        "11" => TransferStatus::Failed,
        _ => TransferStatus::Pending,
    }
}

/// Withdrawal state: 2 success; -1 failed; -2 canceled, -3 canceling; everything else
/// (0 waiting, 1 broadcasting, 7 approved, 10 waiting transfer, 4/5/6/8/9/12 under review)
/// pending.
pub(crate) fn withdrawal_status(state: &str) -> TransferStatus {
    match state {
        "2" => TransferStatus::Ok,
        "-1" => TransferStatus::Failed,
        "-2" | "-3" => TransferStatus::Canceled,
        _ => TransferStatus::Pending,
    }
}

/// OKX's bill `type` codes as words; an unknown code reads `type_<code>`.
pub(crate) fn bill_type(code: &str) -> String {
    let word = match code {
        "1" => "transfer",
        "2" => "trade",
        "3" => "delivery",
        "4" => "auto_token_conversion",
        "5" => "liquidation",
        "6" => "margin_transfer",
        "7" => "interest_deduction",
        "8" => "funding_fee",
        "9" => "adl",
        "10" => "clawback",
        "11" => "system_token_conversion",
        "12" => "strategy_transfer",
        "13" => "ddh",
        "14" => "block_trade",
        "15" => "quick_margin",
        "16" => "borrowing",
        "22" => "repay",
        "24" => "spread_trading",
        "26" => "structured_products",
        "27" => "convert",
        "28" => "easy_convert",
        "29" => "one_click_repay",
        "30" => "simple_trade",
        "32" => "move_position",
        "33" => "loans",
        "34" => "settlement",
        other => return format!("type_{other}"),
    };
    word.to_owned()
}

/// The funding account's bill `type` codes as words; an unknown code reads `type_<code>`.
pub(crate) fn funding_bill_type(code: &str) -> String {
    let word = match code {
        "1" => "deposit",
        "2" => "withdrawal",
        "13" => "canceled_withdrawal",
        "20" => "transfer_to_sub_account",
        "21" => "transfer_from_sub_account",
        "22" => "transfer_out_to_master",
        "23" => "transfer_in_from_master",
        "28" => "airdrop",
        "47" => "system_reversal",
        "48" => "event_reward",
        "49" => "event_giveaway",
        "68" => "fee_rebate",
        "72" => "token_received",
        "73" => "token_given_away",
        "74" => "token_refunded",
        "75" => "savings_subscription",
        "76" => "savings_redemption",
        "80" => "staking_purchase",
        "82" => "staking_redemption",
        "83" => "staking_yield",
        "130" => "transfer_from_trading",
        "131" => "transfer_to_trading",
        other => return format!("type_{other}"),
    };
    word.to_owned()
}

fn parse_side(side: &str) -> Option<Side> {
    match side {
        "buy" => Some(Side::Buy),
        "sell" => Some(Side::Sell),
        _ => None,
    }
}

/// `BTC-USDT` → (BTC, USDT); `BTC-USDT-SWAP`, `BTC-USD-250328`, `BTC-USD-250328-90000-C`
/// → their underlying's base and quote. OKX's codes are the market's codes: no renaming.
pub(crate) fn split_inst_id(inst_id: &str) -> (Option<String>, Option<String>) {
    let mut parts = inst_id.split('-');
    match (parts.next(), parts.next()) {
        (Some(b), Some(q)) if !b.is_empty() && !q.is_empty() => {
            (Some(b.to_owned()), Some(q.to_owned()))
        }
        _ => (None, None),
    }
}

// ---------------------------------------------------------------------------------------
// Errors.

/// OKX's error code and message in a body like `{"code":"50113","msg":"Invalid Sign"}`.
pub(crate) fn error_code(body: &[u8]) -> Option<(String, String)> {
    serde_json::from_slice::<OkxEnvelope>(body)
        .ok()
        .map(|e| (e.code.text(), e.msg))
        .filter(|(code, _)| code != "0")
}

/// The kind of an OKX error code, where the code decides it.
pub(crate) fn code_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        // Rate limit reached (per endpoint), order rate limits.
        "50011" | "50061" => ErrorKind::RATE_LIMITED,
        // Timestamp expired; timestamp not ISO 8601 with ms.
        "50102" | "50112" => ErrorKind::CLOCK,
        // Key of the other environment (demo vs live), missing or wrong key, passphrase,
        // signature or authorization.
        "50101" | "50103" | "50104" | "50105" | "50106" | "50107" | "50111" | "50113" | "50114" => {
            ErrorKind::AUTH
        }
        // API frozen; IP not whitelisted; the key may not use this endpoint.
        "50100" | "50110" | "50120" | "50030" => ErrorKind::PERMISSION,
        // Service unavailable, timeout, system busy, system error.
        "50001" | "50004" | "50013" | "50026" => ErrorKind::EXCHANGE_UNAVAILABLE,
        // Instrument does not exist: the integration names something OKX lacks.
        "51001" => ErrorKind::CONFIG,
        // Parameter errors: this plugin built a request OKX refuses.
        "50014" | "51000" => ErrorKind::PLUGIN,
        _ => return None,
    })
}

/// The error for an answer to `what` ("fetching fills-history for SPOT") that is not a
/// success: a non-2xx status, or a 2xx with an OKX code other than `"0"`.
///
/// The message carries OKX's code and `msg` (never our request, which holds the signature),
/// or the first 200 characters of a body that is not OKX's envelope.
pub(crate) fn classify_error(status: u16, body: &[u8], what: &str) -> PluginError {
    let parsed = error_code(body);
    let detail = match &parsed {
        Some((code, msg)) => format!(
            "HTTP {status}, OKX code {code} ({})",
            excerpt(msg.as_bytes())
        ),
        None if body.is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}, body starts {:?}", excerpt(body)),
    };
    let by_code = parsed.as_ref().and_then(|(code, _)| code_kind(code));
    let kind = by_code.unwrap_or(match status {
        429 => ErrorKind::RATE_LIMITED,
        401 => ErrorKind::AUTH,
        403 => ErrorKind::PERMISSION,
        500..=599 => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    });
    PluginError::new(kind, format!("while {what}: {detail}"))
}

/// The body of an answer, if it is a success: HTTP 2xx and OKX code `"0"`.
pub(crate) fn success(status: u16, body: Vec<u8>, what: &str) -> Result<Vec<u8>, PluginError> {
    if (200..300).contains(&status) && error_code(&body).is_none() {
        Ok(body)
    } else {
        Err(classify_error(status, &body, what))
    }
}

fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(200).collect()
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn bad(message: String) -> PluginError {
    PluginError::bad_response(message)
}

/// The `data` array of a success envelope; a failure names the endpoint and serde's
/// position, not the body.
fn data(body: &[u8], endpoint: &str) -> Result<Vec<Value>, PluginError> {
    let envelope: OkxEnvelope = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: {e} (body of {} bytes starts {:?})",
            body.len(),
            String::from_utf8_lossy(body)
                .chars()
                .take(80)
                .collect::<String>()
        ))
    })?;
    let code = envelope.code.text();
    if code != "0" {
        return Err(bad(format!(
            "while parsing the {endpoint} response: OKX code {code} ({})",
            excerpt(envelope.msg.as_bytes())
        )));
    }
    match envelope.data {
        Value::Array(items) => Ok(items),
        other => Err(bad(format!(
            "while parsing the {endpoint} response: `data` is not an array but {}",
            excerpt(other.to_string().as_bytes())
        ))),
    }
}

/// Decodes one element; a failure names it.
fn element<T: DeserializeOwned>(
    raw: &Value,
    endpoint: &str,
    index: usize,
) -> Result<T, PluginError> {
    T::deserialize(raw).map_err(|e| {
        bad(format!(
            "while parsing the {endpoint} response: [{index}]: {e}"
        ))
    })
}

/// A millisecond timestamp OKX sends as a string.
fn millis(text: &str, endpoint: &str, index: usize, field: &str) -> Result<i64, PluginError> {
    text.parse::<i64>().map_err(|_| {
        bad(format!(
            "while parsing the {endpoint} response: [{index}] has {field} {text:?}, not \
             milliseconds"
        ))
    })
}

/// [`millis`] for a field OKX may send empty: empty is none.
fn millis_opt(
    text: &str,
    endpoint: &str,
    index: usize,
    field: &str,
) -> Result<Option<i64>, PluginError> {
    if text.is_empty() {
        Ok(None)
    } else {
        millis(text, endpoint, index, field).map(Some)
    }
}

/// A numeric id OKX sends as a string (`billId`, `ordId`).
fn id_key(text: &str, endpoint: &str, index: usize, field: &str) -> Result<u64, PluginError> {
    text.parse::<u64>().map_err(|_| {
        bad(format!(
            "while parsing the {endpoint} response: [{index}] has {field} {text:?}, not a \
             numeric id"
        ))
    })
}

fn require_amount(
    text: &str,
    endpoint: &str,
    index: usize,
    field: &str,
) -> Result<(), PluginError> {
    if parse_decimal(text).is_some() {
        Ok(())
    } else {
        Err(bad(format!(
            "while parsing the {endpoint} response: [{index}] has {field} {text:?}, not a \
             decimal amount"
        )))
    }
}

/// The first of `candidates` that is a decimal amount.
fn first_amount(candidates: &[&String]) -> Option<String> {
    candidates
        .iter()
        .find(|c| parse_decimal(c).is_some())
        .map(|c| (*c).clone())
}

/// A non-negative decimal, or `None` for `""` and anything else.
fn decimal_opt(text: &str) -> Option<String> {
    parse_decimal(text).map(|_| text.to_owned())
}

/// A signed decimal string (`-0.5`, `12`), checked.
fn signed_amount(text: &str) -> Option<&str> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    parse_decimal(digits).map(|_| text)
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn balance(
    ccy: &str,
    wallet: &str,
    free: String,
    locked: String,
    total: String,
    as_of: i64,
    raw: Value,
) -> Record {
    Record::Balance(Balance {
        asset: ccy.to_owned(),
        asset_native: ccy.to_owned(),
        wallet: wallet.to_owned(),
        free,
        locked,
        total,
        as_of,
        raw,
    })
}

/// Feeds one response body to every parser of this file, as the fuzz targets (`fuzz/`) and
/// their regression test do. Results are dropped: only a panic or a runaway allocation is a
/// finding. Not part of the connector's interface.
#[doc(hidden)]
pub fn fuzz_parse(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let s: &str = &text;
    let now = 1_767_225_600_000;
    let _ = (s, now);

    let _ = parse_server_time(body);
    let _ = parse_account_config(body);
    let contracts = parse_instruments(body).unwrap_or_default();
    let _ = parse_trading_balance(body, now);
    let _ = parse_funding_balances(body, now);
    let _ = parse_savings_balances(body, now);
    let _ = parse_staking_balances(body, now);
    let _ = parse_fills(body, &contracts);
    let _ = parse_orders(body, "fuzz", &contracts);
    let _ = parse_algo_orders(body, "fuzz");
    let _ = parse_fiat_transfers(body, "fuzz", true);
    let _ = parse_fiat_transfers(body, "fuzz", false);
    let _ = parse_bills(body);
    let _ = parse_funding_bills(body);
    let _ = parse_deposits(body);
    let _ = parse_withdrawals(body);
    let _ = parse_candles(body, "BTC-USDT", "1h");
    let _ = order_status(s);
    let _ = algo_order_status(s);
    let _ = fiat_status(s);
    let _ = deposit_status(s);
    let _ = withdrawal_status(s);
    let _ = bill_type(s);
    let _ = funding_bill_type(s);
    let _ = split_inst_id(s);
    let _ = error_code(body);
    let _ = code_kind(s);
    for status in [200, 400, 401, 403, 429, 500] {
        let _ = classify_error(status, body, "fuzz");
        let _ = success(status, body.to_vec(), "fuzz");
    }
}

/// Replays this connector's fuzz seeds (`fuzz/corpus/okx/`) and the crashes its fuzz target
/// found (`fuzz/regressions/okx/`) through [`fuzz_parse`], without libFuzzer.
#[cfg(test)]
#[test]
fn fuzz_seeds_and_regressions_replay() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, "okx", fuzz_parse);
}
