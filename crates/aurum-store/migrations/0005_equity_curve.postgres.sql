-- aurum schema 5 (PostgreSQL): the equity curve of live and paper bots.
--
-- One row per bot and timestamp: the bot's equity (cash plus holdings at market, in the quote
-- asset) and its cash at that moment, written by WriteOp::EquityPoint. A point written again at
-- the same ts_ms replaces the first (upsert on the primary key). NUMERIC like every amount
-- (exact, scale kept). The primary key (bot_id, ts_ms) is also the index Store::equity_curve
-- reads through (the newest points of a bot first); no other index. No reference to bots, like
-- performance_daily: the writer refuses a point of an unknown bot.

CREATE TABLE equity_curve (
    bot_id  TEXT NOT NULL,
    ts_ms   BIGINT NOT NULL,
    equity  NUMERIC NOT NULL,
    cash    NUMERIC NOT NULL,
    PRIMARY KEY (bot_id, ts_ms)
);
