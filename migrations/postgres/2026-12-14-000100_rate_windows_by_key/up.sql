-- A shared limit's bucket was "<scope>:<key>"; it is now "<key>:<scope>"
-- (auth::limits::SharedLimit). Keys are keyed hashes, spread at random
-- over the table's primary key, and each report counts two windows of its
-- client (a minute and a day): with the scope first they were two random
-- pages of the key's index per report. With the key first they sit side by
-- side. Windows under way keep their counts. Scopes hold no ':', so the
-- first one ends the scope; a key may hold more.
UPDATE rate_windows
SET bucket = regexp_replace(bucket, '^([^:]*):(.*)$', '\2:\1')
WHERE strpos(bucket, ':') > 0;
