-- aurum schema 1 (PostgreSQL). Money, prices and quantities are NUMERIC (exact, scale kept).

CREATE TABLE bots (
    bot_id        TEXT PRIMARY KEY,
    mode          TEXT NOT NULL,
    strategy      TEXT,
    quote_asset   TEXT NOT NULL,
    config        JSONB,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE orders (
    client_order_id    TEXT PRIMARY KEY,
    bot_id             TEXT NOT NULL REFERENCES bots (bot_id),
    exchange_order_id  TEXT,
    symbol             TEXT NOT NULL,
    side               TEXT NOT NULL,
    order_type         TEXT NOT NULL,
    time_in_force      TEXT,
    quantity           NUMERIC,
    quote_quantity     NUMERIC,
    price              NUMERIC,
    stop_price         NUMERIC,
    trailing_delta_bps INTEGER,
    status             TEXT NOT NULL,
    filled_qty         NUMERIC NOT NULL,
    filled_quote       NUMERIC NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL
);
CREATE INDEX orders_by_bot ON orders (bot_id, created_at_ms);
CREATE INDEX orders_open ON orders (bot_id) WHERE status IN ('new', 'submitted', 'partially_filled');

CREATE TABLE order_events (
    event_id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_order_id   TEXT NOT NULL REFERENCES orders (client_order_id),
    bot_id            TEXT NOT NULL,
    status            TEXT NOT NULL,
    exchange_order_id TEXT,
    detail            TEXT,
    ts_ms             BIGINT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (client_order_id);

CREATE TABLE positions (
    bot_id        TEXT NOT NULL,
    symbol        TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    quantity      NUMERIC NOT NULL,
    cost_basis    NUMERIC NOT NULL,
    bought_qty    NUMERIC NOT NULL,
    bought_quote  NUMERIC NOT NULL,
    avg_entry_price NUMERIC NOT NULL,
    realised_pnl  NUMERIC NOT NULL,
    fees_quote    NUMERIC NOT NULL,
    fill_count    BIGINT NOT NULL,
    opened_at_ms  BIGINT NOT NULL,
    closed_at_ms  BIGINT,
    PRIMARY KEY (bot_id, symbol, seq)
);
CREATE UNIQUE INDEX positions_one_open ON positions (bot_id, symbol) WHERE closed_at_ms IS NULL;

CREATE TABLE fills (
    bot_id          TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    trade_id        TEXT NOT NULL,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    side            TEXT NOT NULL,
    price           NUMERIC NOT NULL,
    quantity        NUMERIC NOT NULL,
    fee             NUMERIC NOT NULL,
    fee_asset       TEXT NOT NULL,
    realised_pnl    NUMERIC NOT NULL,
    position_seq    BIGINT NOT NULL,
    ts_ms           BIGINT NOT NULL,
    PRIMARY KEY (bot_id, symbol, trade_id)
);
CREATE INDEX fills_by_order ON fills (client_order_id);
CREATE INDEX fills_by_time ON fills (bot_id, ts_ms);

CREATE TABLE ledger (
    entry_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id    TEXT NOT NULL,
    asset     TEXT NOT NULL,
    amount    NUMERIC NOT NULL,
    kind      TEXT NOT NULL,
    symbol    TEXT,
    trade_id  TEXT,
    note      TEXT,
    ts_ms     BIGINT NOT NULL
);
CREATE INDEX ledger_by_asset ON ledger (bot_id, asset);

CREATE TABLE balances (
    bot_id        TEXT NOT NULL,
    asset         TEXT NOT NULL,
    amount        NUMERIC NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (bot_id, asset)
);

CREATE TABLE market_data (
    symbol       TEXT NOT NULL,
    timeframe    TEXT NOT NULL,
    open_time_ms BIGINT NOT NULL,
    open         NUMERIC NOT NULL,
    high         NUMERIC NOT NULL,
    low          NUMERIC NOT NULL,
    close        NUMERIC NOT NULL,
    volume       NUMERIC NOT NULL,
    PRIMARY KEY (symbol, timeframe, open_time_ms)
);

CREATE TABLE performance_daily (
    bot_id        TEXT NOT NULL,
    day           TEXT NOT NULL,
    start_equity  NUMERIC NOT NULL,
    end_equity    NUMERIC NOT NULL,
    realised_pnl  NUMERIC NOT NULL,
    fees          NUMERIC NOT NULL,
    trades        BIGINT NOT NULL,
    wins          BIGINT NOT NULL,
    losses        BIGINT NOT NULL,
    PRIMARY KEY (bot_id, day)
);

CREATE TABLE engine_state (
    bot_id        TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         JSONB NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (bot_id, key)
);

CREATE TABLE backtest_runs (
    run_id         TEXT PRIMARY KEY,
    strategy       TEXT NOT NULL,
    params         JSONB NOT NULL,
    pairs          TEXT NOT NULL,
    timeframe      TEXT NOT NULL,
    data_sources   TEXT NOT NULL,
    start_cash     NUMERIC NOT NULL,
    final_equity   NUMERIC NOT NULL,
    fee_rate       NUMERIC NOT NULL,
    candles        BIGINT NOT NULL,
    trades         BIGINT NOT NULL,
    metrics        JSONB NOT NULL,
    started_at_ms  BIGINT NOT NULL,
    finished_at_ms BIGINT NOT NULL
);

CREATE TABLE backtest_trades (
    run_id        TEXT NOT NULL REFERENCES backtest_runs (run_id),
    seq           BIGINT NOT NULL,
    pair          TEXT NOT NULL,
    entry_time_ms BIGINT NOT NULL,
    entry_price   NUMERIC NOT NULL,
    exit_time_ms  BIGINT NOT NULL,
    exit_price    NUMERIC NOT NULL,
    quantity      NUMERIC NOT NULL,
    pnl           NUMERIC NOT NULL,
    fees          NUMERIC NOT NULL,
    exit_reason   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE backtest_daily (
    run_id       TEXT NOT NULL REFERENCES backtest_runs (run_id),
    day          TEXT NOT NULL,
    start_equity NUMERIC NOT NULL,
    end_equity   NUMERIC NOT NULL,
    realised_pnl NUMERIC NOT NULL,
    fees         NUMERIC NOT NULL,
    trades       BIGINT NOT NULL,
    wins         BIGINT NOT NULL,
    losses       BIGINT NOT NULL,
    PRIMARY KEY (run_id, day)
);

-- Batches committed by the PostgreSQL writer: after a connection dies during COMMIT the writer
-- looks its batch up here to learn whether it committed (SQLite has no such ambiguity).
CREATE TABLE aurum_writer_batches (
    batch_id      TEXT PRIMARY KEY,
    created_at_ms BIGINT NOT NULL
);
