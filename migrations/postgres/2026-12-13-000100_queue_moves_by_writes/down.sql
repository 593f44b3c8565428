ALTER TABLE queue_scores DROP COLUMN written_at;
ALTER TABLE queue_score_moves DROP COLUMN by_write;
