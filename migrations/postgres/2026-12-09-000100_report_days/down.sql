DROP TRIGGER report_days_unmark ON reports;
DROP FUNCTION report_days_unmark();
DROP TABLE report_days_done;
DROP TABLE report_days_articles;
DROP TABLE report_days_categories;
