//! A prepared statement of the writer that binds text where it lies instead of copying it.
//!
//! rusqlite binds every text parameter with `SQLITE_TRANSIENT`, so SQLite allocates a copy of
//! each and frees it at the next bind: for the writer's multi-row statements (about seventy
//! text values per fill) that was a fifth of the writer's instructions (callgrind). Here text is
//! bound with `SQLITE_STATIC`, which is sound because the values outlive the statement's run:
//! [`InPlace::execute`] binds, steps to completion, resets and clears the bindings before it
//! returns, and `values` is borrowed for all of that.
//!
//! Errors are reported as `rusqlite::Error::SqliteFailure` with SQLite's message, exactly as
//! rusqlite would, so the writer's handling of busy, full-disk and constraint errors is the same.

use rusqlite::Connection;
use rusqlite::ffi;
use rusqlite::types::Value;
use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

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

    /// Binds `values` to the parameters in order and runs the statement to completion.
    pub fn execute(&mut self, values: &[Value]) -> rusqlite::Result<()> {
        if values.len() != self.params {
            return Err(rusqlite::Error::InvalidParameterCount(
                values.len(),
                self.params,
            ));
        }
        let outcome = self.bind_and_step(values);
        // SAFETY: resetting and clearing a valid statement; afterwards nothing in SQLite points
        // into `values`.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
        }
        outcome
    }

    fn bind_and_step(&mut self, values: &[Value]) -> rusqlite::Result<()> {
        let st = self.stmt.as_ptr();
        for (i, v) in values.iter().enumerate() {
            let idx = c_int::try_from(i + 1).map_err(|_| rusqlite::Error::InvalidQuery)?;
            // SAFETY: `st` is valid and `idx` within its parameters. Text and blobs are bound
            // SQLITE_STATIC: they are read in place until `execute` clears the bindings, and
            // `values` is borrowed until then.
            let rc = unsafe {
                match v {
                    Value::Null => ffi::sqlite3_bind_null(st, idx),
                    Value::Integer(n) => ffi::sqlite3_bind_int64(st, idx, *n),
                    Value::Real(f) => ffi::sqlite3_bind_double(st, idx, *f),
                    Value::Text(s) => ffi::sqlite3_bind_text64(
                        st,
                        idx,
                        s.as_ptr().cast(),
                        s.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::Blob(b) => ffi::sqlite3_bind_blob64(
                        st,
                        idx,
                        b.as_ptr().cast(),
                        b.len() as u64,
                        ffi::SQLITE_STATIC(),
                    ),
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

    /// A row of the test table.
    type Row = (String, i64, f64, Vec<u8>, Option<String>);

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, r REAL, b BLOB, z TEXT) STRICT",
        )
        .unwrap();
        conn
    }

    #[test]
    fn values_are_stored_exactly_and_the_statement_is_reusable() {
        let conn = table();
        let mut st = InPlace::prepare(&conn, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
        for (k, n) in [("0.00000001", 1), ("-123456789.123456789012", -2)] {
            let values = vec![
                Value::Text(k.to_string()),
                Value::Integer(n),
                Value::Real(0.5),
                Value::Blob(vec![1, 2, 3]),
                Value::Null,
            ];
            st.execute(&values).unwrap();
            drop(values);
        }
        let rows: Vec<Row> = conn
            .prepare("SELECT k, n, r, b, z FROM t ORDER BY n")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    "-123456789.123456789012".into(),
                    -2,
                    0.5,
                    vec![1, 2, 3],
                    None
                ),
                ("0.00000001".into(), 1, 0.5, vec![1, 2, 3], None),
            ]
        );
    }

    #[test]
    fn errors_carry_sqlite_codes_and_messages_and_leave_the_statement_usable() {
        let conn = table();
        let mut st = InPlace::prepare(&conn, "INSERT INTO t (k, n) VALUES (?1, ?2)").unwrap();
        st.execute(&[Value::Text("a".into()), Value::Integer(1)])
            .unwrap();
        let err = st
            .execute(&[Value::Text("a".into()), Value::Integer(2)])
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
            .execute(&[Value::Text("b".into()), Value::Text("x".into())])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot store TEXT value in INTEGER column"),
            "{err}"
        );
        assert!(matches!(
            st.execute(&[Value::Null]),
            Err(rusqlite::Error::InvalidParameterCount(1, 2))
        ));
        st.execute(&[Value::Text("c".into()), Value::Integer(3)])
            .unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert!(InPlace::prepare(&conn, "INSERT INTO nowhere VALUES (1)").is_err());
    }
}
