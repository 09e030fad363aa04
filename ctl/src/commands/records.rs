//! Invoked when calling `exsyncctl records`.
//!
//! The daemon streams `RecordBatch` answers and ends with `RecordsEnd`. `json` and `csv` are
//! written batch by batch, so any number of records passes through in constant memory; `table`
//! has to see every row to align the columns and so holds them (use `--limit` for big stores).

use std::io::{self, BufWriter, Write};

use clap::{Args, ValueEnum};
use exsync_protocol::{RecordsRequest, Request, Response};
use serde_json::Value;

use super::{unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

/// The record kinds (DESIGN.md, "Records").
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
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
    /// The name on the wire and on the command line.
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

    /// The columns of this kind, in DESIGN.md's order; `raw` is not among them.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            RecordKind::Trade => &[
                "id",
                "order_id",
                "timestamp",
                "symbol",
                "base",
                "quote",
                "side",
                "price",
                "amount",
                "cost",
                "fee_asset",
                "fee_asset_native",
                "fee_amount",
                "liquidity",
            ],
            RecordKind::Order => &[
                "id",
                "timestamp",
                "updated",
                "symbol",
                "base",
                "quote",
                "side",
                "type",
                "status",
                "price",
                "amount",
                "filled",
                "cost",
                "average",
            ],
            RecordKind::Deposit | RecordKind::Withdrawal => &[
                "id",
                "timestamp",
                "asset",
                "asset_native",
                "amount",
                "fee_asset",
                "fee_amount",
                "status",
                "txid",
                "address",
                "tag",
                "network",
            ],
            RecordKind::Ledger => &[
                "id",
                "timestamp",
                "asset",
                "asset_native",
                "amount",
                "balance_after",
                "type",
                "reference_id",
            ],
            RecordKind::Balance => &[
                "asset",
                "asset_native",
                "wallet",
                "free",
                "locked",
                "total",
                "as_of",
            ],
            RecordKind::Candle => &[
                "symbol",
                "base",
                "quote",
                "timeframe",
                "open_time",
                "open",
                "high",
                "low",
                "close",
                "volume",
                "final",
            ],
        }
    }
}

/// Fields holding UTC ms, shown as ISO-8601 in tables (CSV and JSON keep the number).
const TIME_FIELDS: [&str; 4] = ["timestamp", "updated", "as_of", "open_time"];

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned columns for people (without `raw`).
    #[default]
    Table,
    /// One JSON array of the records as the daemon sent them.
    Json,
    /// RFC 4180 CSV with a header line; `raw` as compact JSON in the last column.
    Csv,
}

#[derive(Args, Debug)]
pub struct RecordsArgs {
    /// The integration whose records to print.
    pub name: String,
    /// Which records.
    #[arg(long, value_enum)]
    pub kind: RecordKind,
    /// How to print them (`--json` means `--format json`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// At most this many (oldest first).
    #[arg(long)]
    pub limit: Option<u64>,
}

pub fn records(ctx: &Context, args: &RecordsArgs) -> Result<Exit, Failure> {
    let format = if ctx.json { Format::Json } else { args.format };
    let request = Request::Records(RecordsRequest {
        integration: args.name.clone(),
        kind: args.kind.as_str().to_owned(),
        limit: args.limit,
    });
    let stdout = io::stdout().lock();
    let mut writer = RecordsWriter::new(format, args.kind, BufWriter::new(stdout));
    let answer = ctx.request(&request, |event| match event {
        Response::RecordBatch(batch) => Ok(writer.write_batch(&batch.records)?),
        _ => Ok(()),
    });
    let written = writer.written();
    let end = match answer {
        Ok(Response::RecordsEnd(end)) => end,
        Ok(other) => return Err(unexpected("records_end", &other)),
        Err(failure) => {
            // Records already out: close the JSON array (or print the table) so stdout stays
            // well-formed. Nothing out: print nothing, the error goes to stderr alone.
            if written > 0 {
                let _ = writer.finish();
            }
            return Err(failure);
        }
    };
    writer.finish()?;
    if end.count != written {
        eprintln!(
            "warning: the daemon announced {} records and sent {written}",
            end.count
        );
    }
    Ok(Exit::Ok)
}

/// Writes records as they arrive, in one of the three formats.
pub enum RecordsWriter<W: Write> {
    Json(JsonArrayWriter<W>),
    Csv(CsvWriter<W>),
    Table(TableWriter<W>),
}

impl<W: Write> RecordsWriter<W> {
    pub fn new(format: Format, kind: RecordKind, out: W) -> RecordsWriter<W> {
        match format {
            Format::Json => RecordsWriter::Json(JsonArrayWriter::new(out)),
            Format::Csv => RecordsWriter::Csv(CsvWriter::new(kind, out)),
            Format::Table => RecordsWriter::Table(TableWriter::new(kind, out)),
        }
    }

    pub fn write_batch(&mut self, records: &[Value]) -> io::Result<()> {
        match self {
            RecordsWriter::Json(w) => w.write_batch(records),
            RecordsWriter::Csv(w) => w.write_batch(records),
            RecordsWriter::Table(w) => w.write_batch(records),
        }
    }

    /// How many records went through.
    pub fn written(&self) -> u64 {
        match self {
            RecordsWriter::Json(w) => w.count,
            RecordsWriter::Csv(w) => w.count,
            RecordsWriter::Table(w) => w.table_rows,
        }
    }

    pub fn finish(self) -> io::Result<()> {
        match self {
            RecordsWriter::Json(w) => w.finish(),
            RecordsWriter::Csv(w) => w.finish(),
            RecordsWriter::Table(w) => w.finish(),
        }
    }
}

/// `[` … `]` with one record per line, each as compact JSON; `[]` when there are none.
pub struct JsonArrayWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> JsonArrayWriter<W> {
    pub fn new(out: W) -> JsonArrayWriter<W> {
        JsonArrayWriter { out, count: 0 }
    }

    pub fn write_batch(&mut self, records: &[Value]) -> io::Result<()> {
        for record in records {
            self.out
                .write_all(if self.count == 0 { b"[\n" } else { b",\n" })?;
            serde_json::to_writer(&mut self.out, record)?;
            self.count += 1;
        }
        self.out.flush()
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out
            .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

/// A header line from the kind's fields plus `raw`, then one line per record.
pub struct CsvWriter<W: Write> {
    out: W,
    fields: &'static [&'static str],
    header_written: bool,
    count: u64,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(kind: RecordKind, out: W) -> CsvWriter<W> {
        CsvWriter {
            out,
            fields: kind.fields(),
            header_written: false,
            count: 0,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            let mut names = self.fields.to_vec();
            names.push("raw");
            self.out.write_all(output::csv_line(&names).as_bytes())?;
            self.header_written = true;
        }
        Ok(())
    }

    pub fn write_batch(&mut self, records: &[Value]) -> io::Result<()> {
        self.header()?;
        for record in records {
            let mut cells: Vec<String> = self
                .fields
                .iter()
                .map(|f| output::value_cell(record.get(*f)))
                .collect();
            cells.push(output::value_cell(record.get("raw")));
            self.out.write_all(output::csv_line(&cells).as_bytes())?;
            self.count += 1;
        }
        self.out.flush()
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.header()?;
        self.out.flush()
    }
}

/// The kind's fields as aligned columns, times as ISO-8601; printed at the end.
pub struct TableWriter<W: Write> {
    out: W,
    fields: &'static [&'static str],
    table: Table,
    table_rows: u64,
}

impl<W: Write> TableWriter<W> {
    pub fn new(kind: RecordKind, out: W) -> TableWriter<W> {
        let fields = kind.fields();
        TableWriter {
            out,
            fields,
            table: Table::new(fields),
            table_rows: 0,
        }
    }

    pub fn write_batch(&mut self, records: &[Value]) -> io::Result<()> {
        for record in records {
            let cells = self.fields.iter().map(|f| match record.get(*f) {
                Some(Value::Number(n)) if TIME_FIELDS.contains(f) => {
                    n.as_i64().map_or_else(|| n.to_string(), output::time)
                }
                value => output::value_cell(value),
            });
            self.table.row(cells);
            self.table_rows += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        if self.table.is_empty() {
            self.out.write_all(b"no records\n")?;
        } else {
            self.out.write_all(self.table.render().as_bytes())?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(format: Format, kind: RecordKind, batches: &[Vec<Value>]) -> String {
        let mut buf = Vec::new();
        let mut w = RecordsWriter::new(format, kind, &mut buf);
        for batch in batches {
            w.write_batch(batch).unwrap();
        }
        w.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn trade(id: u32) -> Value {
        json!({
            "id": format!("BTCUSDT:{id}"),
            "order_id": null,
            "timestamp": 1_795_323_664_000_i64 + i64::from(id),
            "symbol": "BTCUSDT",
            "base": "BTC",
            "quote": "USDT",
            "side": "buy",
            "price": "91000.10",
            "amount": "0.00100000",
            "cost": "91.0001",
            "fee_asset": "BNB",
            "fee_asset_native": "BNB",
            "fee_amount": "0.0001",
            "liquidity": "taker",
            "raw": {"id": id, "isBuyer": true, "price": "91000.10"}
        })
    }

    #[test]
    fn json_is_a_valid_array_for_zero_one_and_many_records() {
        let empty = run(Format::Json, RecordKind::Trade, &[]);
        assert_eq!(empty, "[]\n");
        let empty_batches = run(Format::Json, RecordKind::Trade, &[vec![], vec![]]);
        assert_eq!(
            serde_json::from_str::<Value>(&empty_batches).unwrap(),
            json!([])
        );

        let one = run(Format::Json, RecordKind::Trade, &[vec![trade(1)]]);
        assert_eq!(
            serde_json::from_str::<Value>(&one).unwrap(),
            json!([trade(1)])
        );

        let batches = vec![vec![trade(1), trade(2)], vec![], vec![trade(3)]];
        let many = run(Format::Json, RecordKind::Trade, &batches);
        assert_eq!(
            serde_json::from_str::<Value>(&many).unwrap(),
            json!([trade(1), trade(2), trade(3)])
        );
        assert_eq!(many.lines().count(), 5, "one record per line:\n{many}");
    }

    #[test]
    fn csv_has_the_kinds_columns_then_raw() {
        let text = run(
            Format::Csv,
            RecordKind::Trade,
            &[vec![trade(1)], vec![trade(2)]],
        );
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "id,order_id,timestamp,symbol,base,quote,side,price,amount,cost,fee_asset,\
             fee_asset_native,fee_amount,liquidity,raw"
        );
        assert_eq!(
            lines.next().unwrap(),
            "BTCUSDT:1,,1795323664001,BTCUSDT,BTC,USDT,buy,91000.10,0.00100000,91.0001,BNB,BNB,\
             0.0001,taker,\"{\"\"id\"\":1,\"\"isBuyer\"\":true,\"\"price\"\":\"\"91000.10\"\"}\""
        );
        assert_eq!(lines.count(), 1);
        assert_eq!(
            run(Format::Csv, RecordKind::Balance, &[]),
            "asset,asset_native,wallet,free,locked,total,as_of,raw\n"
        );
    }

    #[test]
    fn csv_escapes_commas_quotes_newlines_and_keeps_non_ascii() {
        let record = json!({
            "id": "L-1",
            "timestamp": 0,
            "asset": "ÜSDT",
            "asset_native": "比特币",
            "amount": "-1.5",
            "type": "transfer, internal",
            "reference_id": "say \"hi\"\nbye",
            "raw": "plain"
        });
        let text = run(Format::Csv, RecordKind::Ledger, &[vec![record]]);
        assert_eq!(
            text,
            "id,timestamp,asset,asset_native,amount,balance_after,type,reference_id,raw\n\
             L-1,0,ÜSDT,比特币,-1.5,,\"transfer, internal\",\"say \"\"hi\"\"\nbye\",plain\n"
        );
    }

    #[test]
    fn table_drops_raw_and_shows_times() {
        let balance = json!({
            "asset": "BTC", "asset_native": "XXBT", "wallet": "spot",
            "free": "1.5", "locked": "0", "total": "1.5", "as_of": 1_795_323_664_000_i64,
            "raw": {"XXBT": "1.5"}
        });
        assert_eq!(
            run(Format::Table, RecordKind::Balance, &[vec![balance]]),
            "ASSET  ASSET_NATIVE  WALLET  FREE  LOCKED  TOTAL  AS_OF\n\
             BTC    XXBT          spot    1.5   0       1.5    2026-11-22T05:01:04Z\n"
        );
        assert_eq!(run(Format::Table, RecordKind::Balance, &[]), "no records\n");
    }

    #[test]
    fn every_kind_has_fields_and_a_name() {
        for kind in RecordKind::value_variants() {
            assert!(!kind.fields().is_empty());
            assert!(!kind.fields().contains(&"raw"));
            let name = kind.to_possible_value().unwrap();
            assert_eq!(name.get_name(), kind.as_str());
        }
    }
}
