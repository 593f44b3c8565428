-- Nothing to do on SQLite: this migration turns PostgreSQL's row-level
-- triggers on new reports into statement-level ones (one write per batch
-- instead of one per report). SQLite has only row-level triggers, and they
-- run inside the writer's process, with no round trip or procedure call
-- to save. Kept so that both backends list the same migrations.
SELECT 1;
