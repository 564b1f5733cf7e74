-- aurum schema 3 (PostgreSQL): fills keyed by (client_order_id, trade_id).
--
-- A trade belongs to exactly one of our orders, so this key deduplicates a fill reported twice
-- and also serves "the fills of an order" (the separate index goes); it keeps both sides of a
-- self-trade, which share one venue trade id. The ledger's (bot_id, asset) index is dropped:
-- balances are kept in their own table, and the integrity check reads the whole ledger. The
-- partial index of open orders becomes a plain (bot_id, status) index: an UPDATE of a column a
-- partial index filters on cannot be done in one pass (SQLite builds two temporary tables per
-- update), and every fill updates its order's status.

ALTER TABLE fills DROP CONSTRAINT fills_pkey;
ALTER TABLE fills ADD PRIMARY KEY (client_order_id, trade_id);
DROP INDEX fills_by_order;
DROP INDEX ledger_by_asset;
DROP INDEX orders_open;
CREATE INDEX orders_open ON orders (bot_id, status);
