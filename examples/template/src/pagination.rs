//! Pagination for the `template` connector.
//!
//! Pure. The ledger is served oldest first by id: the cursor is the last id stored, and the
//! next request asks for what follows it. A sync ends when a page says no more follow; the
//! next sync starts from the same cursor and reads only what arrived since.

use crate::endpoints::{LEDGER, LEDGER_LIMIT};

/// The path and query of the ledger page after `cursor`.
pub(crate) fn ledger_request(cursor: Option<&str>) -> String {
    match cursor {
        Some(after) => format!("{LEDGER}?after={after}&limit={LEDGER_LIMIT}"),
        None => format!("{LEDGER}?limit={LEDGER_LIMIT}"),
    }
}

/// The cursor after a page: its last id, or the cursor it was fetched with if it was empty.
pub(crate) fn next_cursor(last_id: Option<String>, cursor: Option<&str>) -> Option<String> {
    last_id.or_else(|| cursor.map(str::to_owned))
}
