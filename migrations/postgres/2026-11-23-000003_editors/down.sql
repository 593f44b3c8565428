ALTER TABLE cases DROP COLUMN overdue_notified_at;
ALTER TABLE cases DROP COLUMN escalated_at;
DROP TABLE editors;
