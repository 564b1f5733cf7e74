-- aurum schema 5 (SQLite): the equity curve of live and paper bots.
--
-- One row per bot and timestamp: the bot's equity (cash plus holdings at market, in the quote
-- asset) and its cash at that moment, written by WriteOp::EquityPoint. A point written again at
-- the same ts_ms replaces the first (upsert on the primary key). Decimal text like every amount,
-- in a STRICT table so SQLite never turns it into a float. The primary key (bot_id, ts_ms) is
-- also the index Store::equity_curve reads through (the newest points of a bot first); no
-- rowid, no other index. No reference to bots, like performance_daily: the writer refuses a
-- point of an unknown bot.

CREATE TABLE equity_curve (
    bot_id  TEXT NOT NULL,
    ts_ms   INTEGER NOT NULL,
    equity  TEXT NOT NULL,
    cash    TEXT NOT NULL,
    PRIMARY KEY (bot_id, ts_ms)
) STRICT, WITHOUT ROWID;
