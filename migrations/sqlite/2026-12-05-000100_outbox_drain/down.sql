DROP INDEX outbox_locked_idx;
