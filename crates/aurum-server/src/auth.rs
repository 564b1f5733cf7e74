//! The bearer token of the mutating endpoints.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// Proof that the request carried the configured token: a handler that takes it can only run
/// for an authorized caller. No token configured: 403 (mutations disabled); a missing or wrong
/// one: 401.
#[derive(Debug, Clone, Copy)]
pub struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = state.token() else {
            return Err(ApiError::Forbidden(
                "mutating endpoints are disabled: no API token configured ([api] token_file or AURUM_API_TOKEN)".into(),
            ));
        };
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
        match given {
            Some(g) if token.matches(g.as_bytes()) => Ok(Authorized),
            _ => Err(ApiError::Unauthorized),
        }
    }
}
