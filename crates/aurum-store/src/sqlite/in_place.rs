//! A prepared statement of the writer that binds text where it lies instead of copying it.
//!
//! rusqlite binds every text parameter with `SQLITE_TRANSIENT`, so SQLite allocates a copy of
//! each and frees it at the next bind: for the writer's multi-row statements (about seventy
//! text values per fill) that was a fifth of the writer's instructions (callgrind). Here text is
//! bound with `SQLITE_STATIC`, which is sound because the values outlive the statement's run:
//! [`InPlace::execute`] binds, steps to completion, resets and clears the bindings before it
//! returns, and the parameters and their text buffer are borrowed for all of that. Text is
//! either borrowed from the caller's data or formatted into one buffer per batch, so building
//! a row allocates nothing per value either.
//!
//! Errors are reported as `rusqlite::Error::SqliteFailure` with SQLite's message, exactly as
//! rusqlite would, so the writer's handling of busy, full-disk and constraint errors is the same.

use rusqlite::Connection;
use rusqlite::ffi;
use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

/// One parameter of [`InPlace::execute`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param<'a> {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text borrowed from the caller.
    Text(&'a str),
    /// Text at `start..end` of the buffer passed along with the parameters.
    Buffered(usize, usize),
}

/// A statement prepared on `conn` for the life of the writer thread.
pub(crate) struct InPlace<'c> {
    conn: &'c Connection,
    stmt: NonNull<ffi::sqlite3_stmt>,
    params: usize,
}

impl<'c> InPlace<'c> {
    /// Prepares `sql` (one statement) on `conn`.
    pub fn prepare(conn: &'c Connection, sql: &str) -> rusqlite::Result<Self> {
        let len = c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::InvalidQuery)?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `conn` is open for 'c; SQLite reads `len` bytes of `sql` and writes the
        // statement pointer; no tail pointer is asked for.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                conn.handle(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(failure(conn, rc));
        }
        let stmt = NonNull::new(stmt).ok_or(rusqlite::Error::InvalidQuery)?;
        // SAFETY: `stmt` was just prepared.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) };
        Ok(InPlace {
            conn,
            stmt,
            params: usize::try_from(params).unwrap_or(0),
        })
    }

    /// Binds `values` to the parameters in order (`Buffered` text is read from `buffer`) and
    /// runs the statement to completion.
    pub fn execute(&mut self, values: &[Param<'_>], buffer: &str) -> rusqlite::Result<()> {
        if values.len() != self.params {
            return Err(rusqlite::Error::InvalidParameterCount(
                values.len(),
                self.params,
            ));
        }
        let outcome = self.bind_and_step(values, buffer);
        // SAFETY: resetting and clearing a valid statement; afterwards nothing in SQLite points
        // into `values` or `buffer`.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
        }
        outcome
    }

    fn bind_and_step(&mut self, values: &[Param<'_>], buffer: &str) -> rusqlite::Result<()> {
        let st = self.stmt.as_ptr();
        for (i, v) in values.iter().enumerate() {
            let idx = c_int::try_from(i + 1).map_err(|_| rusqlite::Error::InvalidQuery)?;
            let text = match *v {
                Param::Null | Param::Int(_) => None,
                Param::Text(s) => Some(s),
                Param::Buffered(start, end) => Some(buffer.get(start..end).ok_or_else(|| {
                    rusqlite::Error::ToSqlConversionFailure(
                        format!(
                            "parameter {}: text {start}..{end} lies outside the batch's text \
                             buffer of {} bytes",
                            i + 1,
                            buffer.len()
                        )
                        .into(),
                    )
                })?),
            };
            // SAFETY: `st` is valid and `idx` within its parameters. Text is bound
            // SQLITE_STATIC: it is read in place until `execute` clears the bindings, and both
            // `values` and `buffer` are borrowed until then.
            let rc = unsafe {
                match (v, text) {
                    (_, Some(s)) => ffi::sqlite3_bind_text64(
                        st,
                        idx,
                        s.as_ptr().cast(),
                        s.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    (Param::Int(n), None) => ffi::sqlite3_bind_int64(st, idx, *n),
                    (_, None) => ffi::sqlite3_bind_null(st, idx),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(failure(self.conn, rc));
            }
        }
        // SAFETY: every parameter of `st` is bound.
        match unsafe { ffi::sqlite3_step(st) } {
            ffi::SQLITE_DONE => Ok(()),
            ffi::SQLITE_ROW => Err(rusqlite::Error::ExecuteReturnedResults),
            rc => Err(failure(self.conn, rc)),
        }
    }
}

impl Drop for InPlace<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is finalized once, while its connection is still open (the
        // borrow of `conn` outlives `self`).
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// SQLite's error for result code `rc`, with the connection's message, as rusqlite reports it.
fn failure(conn: &Connection, rc: c_int) -> rusqlite::Error {
    // SAFETY: the connection is open; SQLite owns the message, which is copied at once.
    let message = unsafe {
        let m = ffi::sqlite3_errmsg(conn.handle());
        (!m.is_null()).then(|| CStr::from_ptr(m).to_string_lossy().into_owned())
    };
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, z TEXT, f TEXT) STRICT")
            .unwrap();
        conn
    }

    #[test]
    fn values_are_stored_exactly_and_the_statement_is_reusable() {
        let conn = table();
        let mut st = InPlace::prepare(&conn, "INSERT INTO t VALUES (?1, ?2, ?3, ?4)").unwrap();
        for (k, n) in [("0.00000001", 1), ("-123456789.123456789012", -2)] {
            let owned = k.to_string();
            let buffer = format!("xx{k}/USDT");
            let values = [
                Param::Text(&owned),
                Param::Int(n),
                Param::Null,
                Param::Buffered(2, buffer.len()),
            ];
            st.execute(&values, &buffer).unwrap();
        }
        let rows: Vec<(String, i64, Option<String>, String)> = conn
            .prepare("SELECT k, n, z, f FROM t ORDER BY n")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    "-123456789.123456789012".into(),
                    -2,
                    None,
                    "-123456789.123456789012/USDT".into()
                ),
                ("0.00000001".into(), 1, None, "0.00000001/USDT".into()),
            ]
        );
    }

    #[test]
    fn errors_carry_sqlite_codes_and_messages_and_leave_the_statement_usable() {
        let conn = table();
        let mut st = InPlace::prepare(&conn, "INSERT INTO t (k, n) VALUES (?1, ?2)").unwrap();
        st.execute(&[Param::Text("a"), Param::Int(1)], "").unwrap();
        let err = st
            .execute(&[Param::Text("a"), Param::Int(2)], "")
            .unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation)
        );
        assert!(
            err.to_string().contains("UNIQUE constraint failed: t.k"),
            "{err}"
        );
        // STRICT refuses text in an INTEGER column, with SQLite's own message.
        let err = st
            .execute(&[Param::Text("b"), Param::Text("x")], "")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot store TEXT value in INTEGER column"),
            "{err}"
        );
        assert!(matches!(
            st.execute(&[Param::Null], ""),
            Err(rusqlite::Error::InvalidParameterCount(1, 2))
        ));
        // Text outside the buffer is an error, not a panic.
        assert!(
            st.execute(&[Param::Buffered(0, 9), Param::Int(4)], "short")
                .is_err()
        );
        st.execute(&[Param::Text("c"), Param::Int(3)], "").unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert!(InPlace::prepare(&conn, "INSERT INTO nowhere VALUES (1)").is_err());
    }
}
