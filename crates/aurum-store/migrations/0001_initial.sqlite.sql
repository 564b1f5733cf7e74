-- aurum schema 1 (SQLite). Money, prices and quantities are decimal TEXT (exact, scale kept);
-- STRICT tables so SQLite never converts them to floating point.

CREATE TABLE bots (
    bot_id        TEXT PRIMARY KEY,
    mode          TEXT NOT NULL,
    strategy      TEXT,
    quote_asset   TEXT NOT NULL,
    config        TEXT,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE orders (
    client_order_id    TEXT PRIMARY KEY,
    bot_id             TEXT NOT NULL REFERENCES bots (bot_id),
    exchange_order_id  TEXT,
    symbol             TEXT NOT NULL,
    side               TEXT NOT NULL,
    order_type         TEXT NOT NULL,
    time_in_force      TEXT,
    quantity           TEXT,
    quote_quantity     TEXT,
    price              TEXT,
    stop_price         TEXT,
    trailing_delta_bps INTEGER,
    status             TEXT NOT NULL,
    filled_qty         TEXT NOT NULL,
    filled_quote       TEXT NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_by_bot ON orders (bot_id, created_at_ms);
CREATE INDEX orders_open ON orders (bot_id) WHERE status IN ('new', 'submitted', 'partially_filled');

CREATE TABLE order_events (
    event_id          INTEGER PRIMARY KEY,
    client_order_id   TEXT NOT NULL REFERENCES orders (client_order_id),
    bot_id            TEXT NOT NULL,
    status            TEXT NOT NULL,
    exchange_order_id TEXT,
    detail            TEXT,
    ts_ms             INTEGER NOT NULL
) STRICT;
CREATE INDEX order_events_by_order ON order_events (client_order_id);

CREATE TABLE positions (
    bot_id        TEXT NOT NULL,
    symbol        TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    quantity      TEXT NOT NULL,
    cost_basis    TEXT NOT NULL,
    bought_qty    TEXT NOT NULL,
    bought_quote  TEXT NOT NULL,
    avg_entry_price TEXT NOT NULL,
    realised_pnl  TEXT NOT NULL,
    fees_quote    TEXT NOT NULL,
    fill_count    INTEGER NOT NULL,
    opened_at_ms  INTEGER NOT NULL,
    closed_at_ms  INTEGER,
    PRIMARY KEY (bot_id, symbol, seq)
) STRICT;
CREATE UNIQUE INDEX positions_one_open ON positions (bot_id, symbol) WHERE closed_at_ms IS NULL;

CREATE TABLE fills (
    bot_id          TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    trade_id        TEXT NOT NULL,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    side            TEXT NOT NULL,
    price           TEXT NOT NULL,
    quantity        TEXT NOT NULL,
    fee             TEXT NOT NULL,
    fee_asset       TEXT NOT NULL,
    realised_pnl    TEXT NOT NULL,
    position_seq    INTEGER NOT NULL,
    ts_ms           INTEGER NOT NULL,
    PRIMARY KEY (bot_id, symbol, trade_id)
) STRICT;
CREATE INDEX fills_by_order ON fills (client_order_id);
CREATE INDEX fills_by_time ON fills (bot_id, ts_ms);

CREATE TABLE ledger (
    entry_id  INTEGER PRIMARY KEY,
    bot_id    TEXT NOT NULL,
    asset     TEXT NOT NULL,
    amount    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    symbol    TEXT,
    trade_id  TEXT,
    note      TEXT,
    ts_ms     INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_by_asset ON ledger (bot_id, asset);

CREATE TABLE balances (
    bot_id        TEXT NOT NULL,
    asset         TEXT NOT NULL,
    amount        TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (bot_id, asset)
) STRICT, WITHOUT ROWID;

CREATE TABLE market_data (
    symbol       TEXT NOT NULL,
    timeframe    TEXT NOT NULL,
    open_time_ms INTEGER NOT NULL,
    open         TEXT NOT NULL,
    high         TEXT NOT NULL,
    low          TEXT NOT NULL,
    close        TEXT NOT NULL,
    volume       TEXT NOT NULL,
    PRIMARY KEY (symbol, timeframe, open_time_ms)
) STRICT, WITHOUT ROWID;

CREATE TABLE performance_daily (
    bot_id        TEXT NOT NULL,
    day           TEXT NOT NULL,
    start_equity  TEXT NOT NULL,
    end_equity    TEXT NOT NULL,
    realised_pnl  TEXT NOT NULL,
    fees          TEXT NOT NULL,
    trades        INTEGER NOT NULL,
    wins          INTEGER NOT NULL,
    losses        INTEGER NOT NULL,
    PRIMARY KEY (bot_id, day)
) STRICT, WITHOUT ROWID;

CREATE TABLE engine_state (
    bot_id        TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (bot_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE backtest_runs (
    run_id         TEXT PRIMARY KEY,
    strategy       TEXT NOT NULL,
    params         TEXT NOT NULL,
    pairs          TEXT NOT NULL,
    timeframe      TEXT NOT NULL,
    data_sources   TEXT NOT NULL,
    start_cash     TEXT NOT NULL,
    final_equity   TEXT NOT NULL,
    fee_rate       TEXT NOT NULL,
    candles        INTEGER NOT NULL,
    trades         INTEGER NOT NULL,
    metrics        TEXT NOT NULL,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE backtest_trades (
    run_id        TEXT NOT NULL REFERENCES backtest_runs (run_id),
    seq           INTEGER NOT NULL,
    pair          TEXT NOT NULL,
    entry_time_ms INTEGER NOT NULL,
    entry_price   TEXT NOT NULL,
    exit_time_ms  INTEGER NOT NULL,
    exit_price    TEXT NOT NULL,
    quantity      TEXT NOT NULL,
    pnl           TEXT NOT NULL,
    fees          TEXT NOT NULL,
    exit_reason   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT;

CREATE TABLE backtest_daily (
    run_id       TEXT NOT NULL REFERENCES backtest_runs (run_id),
    day          TEXT NOT NULL,
    start_equity TEXT NOT NULL,
    end_equity   TEXT NOT NULL,
    realised_pnl TEXT NOT NULL,
    fees         TEXT NOT NULL,
    trades       INTEGER NOT NULL,
    wins         INTEGER NOT NULL,
    losses       INTEGER NOT NULL,
    PRIMARY KEY (run_id, day)
) STRICT;

-- Batches committed by the PostgreSQL writer: after a connection dies during COMMIT the writer
-- looks its batch up here to learn whether it committed (SQLite has no such ambiguity).
CREATE TABLE aurum_writer_batches (
    batch_id      TEXT PRIMARY KEY,
    created_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
