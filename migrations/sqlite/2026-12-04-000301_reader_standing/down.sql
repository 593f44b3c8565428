ALTER TABLE reports DROP COLUMN blocked;
ALTER TABLE cases DROP COLUMN trusted_reader;
DROP TABLE reader_standings;
