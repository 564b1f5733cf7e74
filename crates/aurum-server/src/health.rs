//! `/healthz` and `/readyz`.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` (the process answers).
    pub status: &'static str,
    /// Seconds since the server started.
    pub uptime_s: u64,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        uptime_s: state.uptime().as_secs(),
    })
}

/// One readiness check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    /// Passed.
    pub ok: bool,
    /// Why not, or what was seen.
    pub detail: String,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Every check passed.
    pub ready: bool,
    /// The bot reconciled with the venue at its start (differences found still count as
    /// reconciled: they engage the kill switch, which `/api/status` shows).
    pub reconciled: Check,
    /// Every pair's market data is fresher than the risk manager's staleness limit.
    pub market_data: Check,
    /// The store took a durable write.
    pub store: Check,
}

/// Ready to be trusted: reconciled, fresh market data, a writable store. 503 otherwise, with
/// the failing checks.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let bot = state.bot().await.ok();
    let status = bot.as_ref().and_then(|b| b.status.clone());
    let running = bot.as_ref().is_some_and(|b| b.running);
    let reconciled = match (
        &status,
        bot.as_ref().and_then(|b| b.reconciliation.as_ref()),
    ) {
        (Some(_), Some(r)) if running => Check {
            ok: true,
            detail: if r.get("ok").and_then(|v| v.as_bool()) == Some(false) {
                "reconciled with differences: the kill switch is engaged".into()
            } else {
                "reconciled".into()
            },
        },
        _ if !running => Check {
            ok: false,
            detail: "the bot is not running".into(),
        },
        _ => Check {
            ok: false,
            detail: "no reconciliation report yet".into(),
        },
    };
    let market_data = match &status {
        None => Check {
            ok: false,
            detail: "no market data yet".into(),
        },
        Some(s) if s.pairs.is_empty() => Check {
            ok: false,
            detail: "no pairs".into(),
        },
        Some(s) => {
            let limit = u64::try_from(state.stale_after_ms()).unwrap_or(0);
            let stale: Vec<String> = s
                .pairs
                .iter()
                .filter(|(_, p)| p.data_age_ms.is_none_or(|a| a > limit))
                .map(|(k, p)| match p.data_age_ms {
                    Some(a) => format!("{k} {a} ms old"),
                    None => format!("{k} never"),
                })
                .collect();
            Check {
                ok: stale.is_empty(),
                detail: if stale.is_empty() {
                    format!("every pair fresher than {limit} ms")
                } else {
                    format!("stale: {}", stale.join(", "))
                },
            }
        }
    };
    let store = match state.store_writable().await {
        Ok(()) => Check {
            ok: true,
            detail: "a durable write succeeded".into(),
        },
        Err(e) => Check {
            ok: false,
            detail: e,
        },
    };
    let ready = reconciled.ok && market_data.ok && store.ok;
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Readiness {
            ready,
            reconciled,
            market_data,
            store,
        }),
    )
}
