//! Serving the router over HTTP/1.1 on a loopback listener.
//!
//! The accept loop is hyper's own (not `axum::serve`) so that a handler can make the server
//! close a connection without answering: a response marked [`DropConnection`] turns into a
//! service error, on which hyper closes the connection unanswered. That is the "order placed
//! but the answer lost" fault.

use crate::api::{DropConnection, router};
use crate::config::SimConfig;
use crate::market::MarketError;
use crate::state::Sim;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A pair could not be set up (its data file, its rules).
    #[error("cannot set up the simulator: {0}")]
    Market(#[from] MarketError),
    /// The listener is not on a loopback address.
    #[error("the simulator listens on loopback addresses only, not {0}")]
    NotLoopback(SocketAddr),
    /// The listener failed.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

/// Closes the stream connections when the server stops, however it stops (returning, or its
/// future dropped with an aborted task).
struct CloseStreamsOnDrop(Arc<Sim>);

impl Drop for CloseStreamsOnDrop {
    fn drop(&mut self) {
        self.0.disconnect_streams();
    }
}

/// The error hyper sees for a dropped connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (fault injection)")
    }
}

impl std::error::Error for Dropped {}

/// Serves `config` on `listener` (which must be bound to a loopback address) until the
/// process ends.
pub async fn serve(config: SimConfig, listener: TcpListener) -> Result<(), SimError> {
    let sim = Arc::new(Sim::new(config)?);
    serve_sim(sim, listener, std::future::pending()).await
}

/// Serves an already built simulator until `shutdown` completes. When it returns (or its
/// future is dropped), open kline stream connections are closed ([`Sim::disconnect_streams`]);
/// REST connections kept alive end when their clients close them.
pub async fn serve_sim(
    sim: Arc<Sim>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), SimError> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(SimError::NotLoopback(addr));
    }
    let app = router(sim.clone());
    let _close_streams = CloseStreamsOnDrop(sim.clone());
    let ticker = sim.config.advance_every.map(|every| {
        let sim = sim.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let now = sim.now_ms();
                sim.engine.lock().advance(None, 1, now);
            }
        })
    });
    let mut shutdown = std::pin::pin!(shutdown);
    let result = loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break Ok(()),
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors and the like: keep serving the connections we have.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move {
                    let resp = match app.oneshot(req).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    if resp.extensions().get::<DropConnection>().is_some() {
                        Err(Dropped)
                    } else {
                        Ok(resp)
                    }
                }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    };
    if let Some(t) = ticker {
        t.abort();
    }
    result
}

/// A simulator running in this process on an ephemeral loopback port (for tests).
/// Dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    /// The address served.
    pub addr: SocketAddr,
    /// The simulator's state, to inspect or steer directly.
    pub sim: Arc<Sim>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), SimError>>,
}

impl SimHandle {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.abort();
    }
}

/// Starts a simulator on `127.0.0.1:0` in the current runtime.
pub async fn spawn(config: SimConfig) -> Result<SimHandle, SimError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let sim = Arc::new(Sim::new(config)?);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve_sim(sim.clone(), listener, async move {
        let _ = rx.await;
    }));
    Ok(SimHandle {
        addr,
        sim,
        stop: Some(tx),
        task,
    })
}
