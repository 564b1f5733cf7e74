//! One process per bot: [`BotLock`], taken with [`Store::lock_bot`](crate::Store::lock_bot)
//! before a bot starts trading and held until it is dropped, so two processes can never run the
//! same bot against the same store (two engines placing orders for one account would double
//! every decision).
//!
//! - **SQLite**: an exclusive advisory lock (`flock`, through [`std::fs::File::try_lock`]) on a
//!   file next to the database, `<database file name>.<bot id>.lock` (see [`lock_file_path`]).
//!   The operating system releases it when the file is closed — on drop, or when the process
//!   dies, however it dies. The file stays (deleting a lock file races with a process opening
//!   it); it holds the pid of the last holder, for the message a refused second process prints.
//!   `flock` locks are per open file: a second open of the file in the same process is refused
//!   too. They are not reliable on network file systems (neither is SQLite's WAL).
//! - **PostgreSQL**: a session advisory lock (`pg_try_advisory_lock`) on a connection of its
//!   own, opened with the store's settings but outside the pool (a pooled connection would
//!   carry the lock back into the pool). The server releases it when that session ends: on
//!   drop the connection is closed, and a crashed process's connection is closed by the server
//!   once it notices the socket is gone. The key is [`pg_advisory_key`].

use crate::error::{Result, StoreError};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Proof that this process runs a bot: nobody else can take the bot's lock until this value is
/// dropped (or [`released`](BotLock::release)).
pub struct BotLock {
    bot_id: String,
    held: Held,
}

enum Held {
    File {
        path: PathBuf,
        // Kept open: closing the file releases the lock.
        _file: File,
    },
    Postgres {
        client: tokio_postgres::Client,
        key: i64,
        target: String,
    },
}

impl std::fmt::Debug for BotLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotLock")
            .field("bot_id", &self.bot_id)
            .field("where", &self.location())
            .finish()
    }
}

impl BotLock {
    /// The bot this lock is for.
    pub fn bot_id(&self) -> &str {
        &self.bot_id
    }

    /// Where the lock lives, for logs: `lock file <path>` or `PostgreSQL advisory lock <key> on
    /// <server (schema)>`.
    pub fn location(&self) -> String {
        match &self.held {
            Held::File { path, .. } => format!("lock file {}", path.display()),
            Held::Postgres { key, target, .. } => {
                format!("PostgreSQL advisory lock {key} on {target}")
            }
        }
    }

    /// False once the lock may be gone without this process letting go of it: the PostgreSQL
    /// session holding it was closed (the server or the network dropped it), so another process
    /// may take the bot. A bot should stop trading when this turns false. Always true for a
    /// lock file, which only closing it releases.
    pub fn is_held(&self) -> bool {
        match &self.held {
            Held::File { .. } => true,
            Held::Postgres { client, .. } => !client.is_closed(),
        }
    }

    /// Lets go of the lock and returns once it is free for others. Dropping the lock releases it
    /// too; for PostgreSQL that takes effect when the server has seen the connection close
    /// (usually within milliseconds), while this waits for the server to confirm the unlock.
    pub async fn release(self) -> Result<()> {
        match self.held {
            Held::File { .. } => Ok(()),
            Held::Postgres { client, key, .. } => {
                let unlocked: bool = client
                    .query_one("SELECT pg_advisory_unlock($1)", &[&key])
                    .await
                    .map_err(StoreError::pg("releasing a bot lock"))?
                    .get(0);
                if unlocked {
                    Ok(())
                } else {
                    Err(StoreError::Task(format!(
                        "bot {} lock: the PostgreSQL session no longer held advisory lock {key}",
                        self.bot_id
                    )))
                }
            }
        }
    }
}

/// Refuses an empty bot id (before anything is opened).
pub(crate) fn check_bot_id(bot_id: &str) -> Result<()> {
    if bot_id.trim().is_empty() {
        return Err(StoreError::Rejected("bot id must not be empty".into()));
    }
    Ok(())
}

/// The lock file of a bot of a SQLite database: `<database file name>.<bot id>.lock` in the
/// database's directory. Bytes of the bot id other than ASCII letters, digits, `-`, `_` and `.`
/// are written `%XX`, so every bot id gets its own file and none can leave the directory.
pub fn lock_file_path(db_path: &Path, bot_id: &str) -> PathBuf {
    let mut name = db_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".");
    let mut id = String::with_capacity(bot_id.len());
    for b in bot_id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            id.push(b as char);
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    name.push(id);
    name.push(".lock");
    db_path.with_file_name(name)
}

/// Takes the lock file of a bot of the SQLite database at `db_path`.
pub(crate) fn lock_file(db_path: &Path, bot_id: &str) -> Result<BotLock> {
    check_bot_id(bot_id)?;
    let path = lock_file_path(db_path, bot_id);
    let io_err = |what: &str, e: std::io::Error| StoreError::Open {
        target: path.display().to_string(),
        reason: format!("cannot {what} the lock file of bot {bot_id}: {e}"),
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_err("open", e))?;
    match file.try_lock() {
        Ok(()) => {
            // Who holds it, for the message of a refused second process. Only informative: a
            // failure here does not weaken the lock.
            let _ = file
                .set_len(0)
                .and_then(|_| writeln!(file, "pid {}", std::process::id()));
            Ok(BotLock {
                bot_id: bot_id.to_string(),
                held: Held::File { path, _file: file },
            })
        }
        Err(TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.trim().strip_prefix("pid ").map(str::to_string))
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            let who = match pid {
                Some(p) => format!("pid {p}"),
                None => "another process".to_string(),
            };
            Err(StoreError::BotLocked {
                bot_id: bot_id.to_string(),
                holder: format!("{who} (lock file {})", path.display()),
            })
        }
        Err(TryLockError::Error(e)) => Err(io_err("lock", e)),
    }
}

/// The PostgreSQL advisory lock key of a bot: the first 8 bytes, big-endian, of the SHA-256 of
/// `aurum-bot:<schema>:<bot id>` (schema `public` when the URL names none), as a signed 64-bit
/// integer. Fixed for good — every aurum version and process computes the same key, so they
/// exclude each other; bots in different schemas of one database do not.
pub fn pg_advisory_key(schema: &str, bot_id: &str) -> i64 {
    let digest = Sha256::digest(format!("aurum-bot:{schema}:{bot_id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Takes a bot's advisory lock on a connection of its own (`client`, not pooled).
pub(crate) async fn lock_pg(
    client: tokio_postgres::Client,
    schema: Option<&str>,
    target: &str,
    bot_id: &str,
) -> Result<BotLock> {
    check_bot_id(bot_id)?;
    // The session must outlive any idle limit the server sets (PostgreSQL 14+; older servers
    // do not know the setting and have no such limit).
    let _ = client.batch_execute("SET idle_session_timeout = 0").await;
    let key = pg_advisory_key(schema.unwrap_or("public"), bot_id);
    let got: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .map_err(StoreError::pg("taking a bot lock"))?
        .get(0);
    if got {
        return Ok(BotLock {
            bot_id: bot_id.to_string(),
            held: Held::Postgres {
                client,
                key,
                target: target.to_string(),
            },
        });
    }
    // Name the session that holds it (a bigint advisory key shows in pg_locks as its high and
    // low 32 bits in classid and objid, with objsubid 1).
    let holder = client
        .query_opt(
            "SELECT l.pid, COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'a local socket')
             FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid = (($1::bigint >> 32) & 4294967295)::oid
               AND l.objid = ($1::bigint & 4294967295)::oid
             LIMIT 1",
            &[&key],
        )
        .await
        .ok()
        .flatten()
        .map(|r| {
            let pid: i32 = r.get(0);
            let app: String = r.get(1);
            let from: String = r.get(2);
            if app.is_empty() {
                format!("PostgreSQL session pid {pid} (from {from})")
            } else {
                format!("PostgreSQL session pid {pid} ({app}, from {from})")
            }
        })
        .unwrap_or_else(|| "another PostgreSQL session".to_string());
    Err(StoreError::BotLocked {
        bot_id: bot_id.to_string(),
        holder: format!("{holder} on {target}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advisory_key_is_fixed() {
        // Pinned: changing it would let an old and a new aurum run the same bot at once.
        assert_eq!(
            pg_advisory_key("public", "main"),
            i64::from_be_bytes(
                Sha256::digest(b"aurum-bot:public:main")[..8]
                    .try_into()
                    .unwrap()
            )
        );
        assert_eq!(pg_advisory_key("public", "main"), PINNED_PUBLIC_MAIN);
        assert_ne!(pg_advisory_key("s1", "main"), pg_advisory_key("s2", "main"));
        assert_ne!(
            pg_advisory_key("public", "a"),
            pg_advisory_key("public", "b")
        );
    }

    const PINNED_PUBLIC_MAIN: i64 = -3_636_134_411_005_676_171;

    #[test]
    fn lock_files_sit_next_to_the_database_with_safe_names() {
        assert_eq!(
            lock_file_path(Path::new("/data/aurum.db"), "paper-btc_1.x"),
            PathBuf::from("/data/aurum.db.paper-btc_1.x.lock")
        );
        assert_eq!(
            lock_file_path(Path::new("aurum.db"), "main"),
            PathBuf::from("aurum.db.main.lock")
        );
        assert_eq!(
            lock_file_path(Path::new("/data/aurum.db"), "../x/y z%"),
            PathBuf::from("/data/aurum.db...%2Fx%2Fy%20z%25.lock")
        );
    }
}
