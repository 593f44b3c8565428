DROP TABLE setup_tokens;
DROP TABLE password_resets;
