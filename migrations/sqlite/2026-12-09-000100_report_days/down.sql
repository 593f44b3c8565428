DROP TRIGGER report_days_update;
DROP TRIGGER report_days_delete;
DROP TRIGGER report_days_insert;
DROP TABLE report_days_done;
DROP TABLE report_days_articles;
DROP TABLE report_days_categories;
