//! `[api]`: where the server listens and how it authenticates, and the token itself.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// `[api]` of `aurum.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Address to listen on. Loopback unless set otherwise: the API can stop a bot.
    pub bind: String,
    /// File holding the bearer token (owner-only permissions); else `AURUM_API_TOKEN`. With
    /// neither, the mutating endpoints are disabled.
    pub token_file: Option<PathBuf>,
    /// Largest request body accepted, bytes (larger: 413).
    pub max_body_bytes: usize,
    /// A bot in another process whose status heartbeat is older than this is shown as not
    /// running, ms.
    pub heartbeat_stale_ms: u64,
    /// How long one read of the bot's stored state serves status requests, ms (changes made
    /// through this API show at once; others within this time). 0: every request reads.
    pub state_cache_ms: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            bind: "127.0.0.1:8080".into(),
            token_file: None,
            max_body_bytes: 64 * 1024,
            heartbeat_stale_ms: 10_000,
            state_cache_ms: 200,
        }
    }
}

/// The environment variable holding the token when no `token_file` is configured.
pub const TOKEN_ENV: &str = "AURUM_API_TOKEN";

/// Shortest token accepted: a guessable token is no protection.
pub const MIN_TOKEN_LEN: usize = 16;

/// The API's bearer token. It is never printed: `Debug` shows `Token(..)`.
#[derive(Clone)]
pub struct Token(Arc<[u8]>);

/// Why a token cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Too short.
    #[error("the API token from {from} is too short: at least {MIN_TOKEN_LEN} characters")]
    TooShort {
        /// The file or variable.
        from: String,
    },
    /// The file could not be read.
    #[error("API token file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl Token {
    /// A token from its text (surrounding white space removed).
    pub fn new(text: &str, from: &str) -> Result<Token, TokenError> {
        let t = text.trim();
        if t.len() < MIN_TOKEN_LEN {
            return Err(TokenError::TooShort { from: from.into() });
        }
        Ok(Token(Arc::from(t.as_bytes())))
    }

    /// Whether `given` is the token, compared in constant time (for equal lengths).
    pub fn matches(&self, given: &[u8]) -> bool {
        self.0.len() == given.len() && bool::from(self.0.as_ref().ct_eq(given))
    }

    /// The token's text, for a client that must send it (tests, the CLI).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

/// The token of `[api]`: from `token_file` (which must be readable by its owner only), else
/// from `AURUM_API_TOKEN`; `None` when neither is set.
pub fn load_token(config: &ApiConfig) -> Result<Option<Token>, TokenError> {
    if let Some(path) = &config.token_file {
        return read_token_file(path).map(Some);
    }
    match std::env::var(TOKEN_ENV) {
        Ok(v) if !v.trim().is_empty() => Token::new(&v, TOKEN_ENV).map(Some),
        _ => Ok(None),
    }
}

fn read_token_file(path: &Path) -> Result<Token, TokenError> {
    let err = |reason: String| TokenError::File {
        path: path.to_path_buf(),
        reason,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "readable by others (mode {mode:o}): run chmod 600 on it"
            )));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    Token::new(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly_and_never_print() {
        let t = Token::new("  0123456789abcdef\n", "test").unwrap();
        assert!(t.matches(b"0123456789abcdef"));
        assert!(!t.matches(b"0123456789abcdeF"));
        assert!(!t.matches(b"0123456789abcde"));
        assert!(!t.matches(b""));
        assert_eq!(format!("{t:?}"), "Token(..)");
        assert!(matches!(
            Token::new("short", "AURUM_API_TOKEN"),
            Err(TokenError::TooShort { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_token_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "0123456789abcdef0123").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let config = ApiConfig {
            token_file: Some(path.clone()),
            ..ApiConfig::default()
        };
        let e = load_token(&config).unwrap_err().to_string();
        assert!(e.contains("readable by others (mode 644)"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let t = load_token(&config).unwrap().unwrap();
        assert!(t.matches(b"0123456789abcdef0123"));
    }
}
