-- aurum schema 4 (SQLite): dust write-offs and order metadata.
--
-- positions.dust_qty: base quantity written off as dust when a holding was closed with a
-- remainder too small to sell (Position::written_off). It stays in the base balance; the
-- integrity check counts it with the quantity (fills net = quantity + dust_qty). Decimal text
-- like every quantity; existing rows get '0'.
-- orders.meta: an opaque JSON document (text, as bots.config and engine_state.value) the engine
-- stores with the intent: why the order exists (purpose, exit reason, protective distances).
--
-- No index is added: the newest fill of a bot's pair (Store::last_fill) is read once per start
-- through fills_by_time (bot_id, ts_ms), and every index on fills costs every fill a B-tree.

ALTER TABLE orders ADD COLUMN meta TEXT;
ALTER TABLE positions ADD COLUMN dust_qty TEXT NOT NULL DEFAULT '0';
