-- aurum schema 3 (SQLite): fills keyed by (client_order_id, trade_id).
--
-- A trade belongs to exactly one of our orders, so this key deduplicates a fill reported twice
-- and also serves "the fills of an order" (the separate index goes); it keeps both sides of a
-- self-trade, which share one venue trade id. The ledger's (bot_id, asset) index is dropped:
-- balances are kept in their own table, and the integrity check reads the whole ledger. The
-- partial index of open orders becomes a plain (bot_id, status) index: an UPDATE of a column a
-- partial index filters on cannot be done in one pass (SQLite builds two temporary tables per
-- update), and every fill updates its order's status.
-- Fewer B-trees per fill is what the writer's throughput is made of (docs/DESIGN.md).

CREATE TABLE fills_v3 (
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    trade_id        TEXT NOT NULL,
    bot_id          TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL,
    price           TEXT NOT NULL,
    quantity        TEXT NOT NULL,
    fee             TEXT NOT NULL,
    fee_asset       TEXT NOT NULL,
    realised_pnl    TEXT NOT NULL,
    position_seq    INTEGER NOT NULL,
    ts_ms           INTEGER NOT NULL,
    PRIMARY KEY (client_order_id, trade_id)
) STRICT, WITHOUT ROWID;

INSERT INTO fills_v3 (client_order_id, trade_id, bot_id, symbol, side, price, quantity, fee, fee_asset,
                      realised_pnl, position_seq, ts_ms)
SELECT client_order_id, trade_id, bot_id, symbol, side, price, quantity, fee, fee_asset,
       realised_pnl, position_seq, ts_ms
FROM fills;

DROP TABLE fills;
ALTER TABLE fills_v3 RENAME TO fills;
CREATE INDEX fills_by_time ON fills (bot_id, ts_ms);
DROP INDEX ledger_by_asset;
DROP INDEX orders_open;
CREATE INDEX orders_open ON orders (bot_id, status);
