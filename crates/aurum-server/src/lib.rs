//! # aurum-server
//!
//! The operator surface of a bot: what a person or a monitoring system sees and may change.
//!
//! - [`api`]: the JSON REST API under `/api` (status, balance, positions, orders, trades,
//!   performance, equity curve, backtest runs, pool and writer status; the kill switch and
//!   the stop/start of entries), documented by an OpenAPI 3 document generated from the
//!   handlers ([`openapi`], served at `/api/openapi.json`).
//! - [`auth`]: every mutating endpoint needs `Authorization: Bearer <token>`, compared in
//!   constant time; with no token configured they are disabled (403).
//! - [`assets`]: the dashboard at `/`, embedded in the binary (no CDN).
//! - [`metrics`]: `/metrics` in Prometheus' text format (pool, writer, orders, fills, P&L,
//!   staleness, latency, reconciliation).
//! - [`health`]: `/healthz` (the process answers) and `/readyz` (reconciled, fresh market
//!   data, a writable store).
//!
//! The store is the truth: the kill switch and the entries switch are written there and the
//! running engine applies them within one poll interval, so `aurum serve` in its own process
//! and `--serve` inside `aurum live`/`aurum paper` behave the same. In the engine's process
//! the server also reads a [`LiveView`](aurum_runtime::LiveView) the runtime publishes after
//! every tick (fresher figures, the latency histogram).

#![warn(missing_docs)]

pub mod api;
pub mod assets;
pub mod auth;
pub mod config;
pub mod error;
pub mod health;
pub mod metrics;
pub mod state;
pub mod views;

pub use config::{ApiConfig, Token, TokenError, load_token};
pub use state::{AppState, ServerOptions};

use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route with its OpenAPI annotation: the router and the document come from the same
/// list, so a route cannot be served without being documented.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(api::ApiDoc::openapi())
        .routes(routes!(api::status))
        .routes(routes!(api::balance))
        .routes(routes!(api::positions))
        .routes(routes!(api::orders))
        .routes(routes!(api::trades))
        .routes(routes!(api::performance))
        .routes(routes!(api::equity))
        .routes(routes!(api::runs))
        .routes(routes!(api::store_status))
        .routes(routes!(api::kill_switch_engage))
        .routes(routes!(api::kill_switch_reset))
        .routes(routes!(api::entries_stop))
        .routes(routes!(api::entries_start))
        .routes(routes!(api::openapi_json))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(assets::index))
        .routes(routes!(assets::app_js))
        .routes(routes!(assets::style_css))
}

/// The router with every route, a JSON 404 for anything else, and the body size limit.
pub fn router(state: AppState) -> Router {
    let (router, _) = api_router().split_for_parts();
    router
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(state.max_body_bytes()))
        .with_state(state)
}

/// The OpenAPI 3 document of every route (served at `/api/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
