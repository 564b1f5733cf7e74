-- aurum schema 2 (PostgreSQL): parameter searches and their rankings.

CREATE TABLE optimize_runs (
    run_id         TEXT PRIMARY KEY,
    strategy       TEXT NOT NULL,
    metric         TEXT NOT NULL,
    space          JSONB NOT NULL,
    pairs          TEXT NOT NULL,
    timeframe      TEXT NOT NULL,
    data_sources   TEXT NOT NULL,
    evaluated      BIGINT NOT NULL,
    failed         BIGINT NOT NULL,
    started_at_ms  BIGINT NOT NULL,
    finished_at_ms BIGINT NOT NULL
);

CREATE TABLE optimize_results (
    run_id           TEXT NOT NULL REFERENCES optimize_runs (run_id),
    rank             BIGINT NOT NULL,
    params           JSONB NOT NULL,
    metric_value     DOUBLE PRECISION NOT NULL,
    final_equity     NUMERIC NOT NULL,
    return_pct       DOUBLE PRECISION NOT NULL,
    max_drawdown_pct DOUBLE PRECISION NOT NULL,
    sharpe           DOUBLE PRECISION NOT NULL,
    trades           BIGINT NOT NULL,
    PRIMARY KEY (run_id, rank)
);
