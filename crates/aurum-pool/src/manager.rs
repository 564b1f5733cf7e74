//! What the pool needs to know about a kind of connection.

use std::future::Future;

/// Opens and checks connections of one kind (a SQLite file, a PostgreSQL server, …).
///
/// The pool never looks inside a connection; closing one means dropping it, so a connection
/// type that must do work on close does it in its `Drop`.
///
/// ```
/// use aurum_pool::Manager;
///
/// struct Numbers;
///
/// impl Manager for Numbers {
///     type Connection = u32;
///     type Error = std::io::Error;
///
///     async fn connect(&self) -> Result<u32, std::io::Error> {
///         Ok(42)
///     }
///
///     async fn ping(&self, _conn: &mut u32) -> Result<(), std::io::Error> {
///         Ok(())
///     }
/// }
/// ```
pub trait Manager: Send + Sync + 'static {
    /// The pooled connection.
    type Connection: Send + 'static;
    /// What `connect` and `ping` fail with.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Opens a new connection. Called lazily, only when no idle connection can be used.
    fn connect(&self) -> impl Future<Output = Result<Self::Connection, Self::Error>> + Send;

    /// Checks that a connection still works (e.g. `SELECT 1`). Called at checkout when
    /// `pool_pre_ping` is on and the connection was idle longer than `pre_ping_after_idle`;
    /// on error the connection is closed and another one is used.
    fn ping(
        &self,
        conn: &mut Self::Connection,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Says, cheaply and without IO, whether a returned connection must be closed instead of
    /// going back to the pool (e.g. the driver reported a closed socket, or a transaction was
    /// left open). Consulted each time a connection is returned. The default: never.
    fn is_broken(&self, conn: &mut Self::Connection) -> bool {
        let _ = conn;
        false
    }
}
