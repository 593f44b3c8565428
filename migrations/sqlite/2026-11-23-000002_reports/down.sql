DROP TABLE instance_secrets;
DROP TABLE client_hash_keys;
DROP TABLE idempotency_keys;
DROP TABLE reports;
DROP TABLE cases;
