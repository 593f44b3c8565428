DROP TABLE status_links;
