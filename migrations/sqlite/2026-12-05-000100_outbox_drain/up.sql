-- A claim reads its rows back by its token (locked_by): without an index
-- that read scanned the whole outbox, sent rows included, once per claim.
CREATE INDEX outbox_locked_idx ON outbox (locked_by);
