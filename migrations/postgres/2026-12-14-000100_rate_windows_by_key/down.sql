-- Back to "<scope>:<key>": the scope is after the last ':' (scopes hold none).
UPDATE rate_windows
SET bucket = regexp_replace(bucket, '^(.*):([^:]*)$', '\2:\1')
WHERE strpos(bucket, ':') > 0;
