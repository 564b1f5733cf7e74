//! Reading PostgreSQL cells (see [`crate::rows`] for the records built from them).

use crate::error::{Result, StoreError};
use crate::rows::Cells;
use aurum_core::Decimal;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

/// Reads a column, naming the table on failure.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize, table: &'static str) -> Result<T> {
    row.try_get(idx).map_err(|e| StoreError::Corrupt {
        table,
        reason: format!("column {idx}: {e}"),
    })
}

impl Cells for Row {
    fn text(&self, idx: usize, table: &'static str) -> Result<String> {
        get(self, idx, table)
    }
    fn opt_text(&self, idx: usize, table: &'static str) -> Result<Option<String>> {
        get(self, idx, table)
    }
    fn int(&self, idx: usize, table: &'static str) -> Result<i64> {
        self.opt_int(idx, table)?
            .ok_or_else(|| StoreError::Corrupt {
                table,
                reason: format!("column {idx}: unexpected NULL"),
            })
    }
    fn opt_int(&self, idx: usize, table: &'static str) -> Result<Option<i64>> {
        // BIGINT columns, and INTEGER ones (trailing_delta_bps).
        match self.try_get::<_, Option<i64>>(idx) {
            Ok(v) => Ok(v),
            Err(_) => get::<Option<i32>>(self, idx, table).map(|v| v.map(i64::from)),
        }
    }
    fn dec(&self, idx: usize, table: &'static str) -> Result<Decimal> {
        get(self, idx, table)
    }
    fn opt_dec(&self, idx: usize, table: &'static str) -> Result<Option<Decimal>> {
        get(self, idx, table)
    }
    fn json(&self, idx: usize, table: &'static str) -> Result<serde_json::Value> {
        get(self, idx, table)
    }
    fn opt_json(&self, idx: usize, table: &'static str) -> Result<Option<serde_json::Value>> {
        get(self, idx, table)
    }
}
