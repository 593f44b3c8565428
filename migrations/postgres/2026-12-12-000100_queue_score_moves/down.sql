ALTER TABLE queue_scores DROP COLUMN moves_since;
DROP TABLE queue_score_moves;
