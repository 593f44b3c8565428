-- Rate limits shared by every instance on one database (issue 12): one row
-- per limit's fixed window and key. The key is a keyed hash (never a raw
-- address or email); rows are dropped a day after their window by the
-- worker's periodic scan, through `rate_windows_start_idx`.
CREATE TABLE rate_windows (
    bucket TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_windows_start_idx ON rate_windows (window_start);
