DROP TABLE email_suppressions;
DROP TABLE digest_items;
DROP TABLE notification_prefs;
DROP TABLE outbox;
