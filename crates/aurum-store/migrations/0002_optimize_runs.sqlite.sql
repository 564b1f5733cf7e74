-- aurum schema 2 (SQLite): parameter searches and their rankings.

CREATE TABLE optimize_runs (
    run_id         TEXT PRIMARY KEY,
    strategy       TEXT NOT NULL,
    metric         TEXT NOT NULL,
    space          TEXT NOT NULL,
    pairs          TEXT NOT NULL,
    timeframe      TEXT NOT NULL,
    data_sources   TEXT NOT NULL,
    evaluated      INTEGER NOT NULL,
    failed         INTEGER NOT NULL,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE optimize_results (
    run_id           TEXT NOT NULL REFERENCES optimize_runs (run_id),
    rank             INTEGER NOT NULL,
    params           TEXT NOT NULL,
    metric_value     REAL NOT NULL,
    final_equity     TEXT NOT NULL,
    return_pct       REAL NOT NULL,
    max_drawdown_pct REAL NOT NULL,
    sharpe           REAL NOT NULL,
    trades           INTEGER NOT NULL,
    PRIMARY KEY (run_id, rank)
) STRICT;
