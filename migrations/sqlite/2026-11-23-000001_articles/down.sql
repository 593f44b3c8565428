DROP TABLE revision_sentences;
DROP TABLE sentences;
DROP TABLE article_revisions;
DROP TABLE articles;
