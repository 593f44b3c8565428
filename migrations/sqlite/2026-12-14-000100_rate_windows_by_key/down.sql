-- Back to "<scope>:<key>": the scope is after the last ':' (scopes hold
-- none). SQLite has no search from the end: the scopes are few and known.
UPDATE rate_windows
SET bucket = substr(bucket, length(bucket) - length(scope) + 1) || ':' || substr(bucket, 1, length(bucket) - length(scope) - 1)
FROM (SELECT column1 AS scope FROM (VALUES ('report-ip-minute'), ('report-ip-day'), ('report-article'), ('report-sentence'), ('login-ip'), ('login-account'), ('reset-ip'), ('reset-account')))
WHERE bucket LIKE '%:' || scope;
