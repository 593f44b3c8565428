-- Issue 13: short case numbers, sentence lineage, similar cases and the
-- memory of corrections.

-- Every case gets a short number per installation (#1042) from a sequence
-- when it is inserted: instances sharing the database never draw the same
-- one (a rolled-back insert leaves a gap). Existing cases are numbered in
-- creation order.
CREATE SEQUENCE case_numbers;
ALTER TABLE cases ADD COLUMN number INTEGER;
UPDATE cases SET number = r.n
    FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM cases) AS r
    WHERE r.id = cases.id;
SELECT setval('case_numbers', COALESCE((SELECT MAX(number) FROM cases), 0) + 1, false);
ALTER TABLE cases ALTER COLUMN number SET DEFAULT nextval('case_numbers');
ALTER TABLE cases ALTER COLUMN number SET NOT NULL;
ALTER SEQUENCE case_numbers OWNED BY cases.number;
CREATE UNIQUE INDEX cases_number_idx ON cases (number);

-- A report that arrives while a near-duplicate case is open on another
-- sentence is linked to it (not merged); the editor decides.
ALTER TABLE cases ADD COLUMN possible_duplicate_of TEXT;
-- The latest published correction of the case's sentence lineage when the
-- case was opened (or a report joined it): "already corrected on <date>".
ALTER TABLE cases ADD COLUMN known_correction_id TEXT;

-- The same sentence across revisions: an edited sentence inherits the
-- lineage of the sentence it replaced (its own id otherwise).
ALTER TABLE sentences ADD COLUMN lineage_id TEXT NOT NULL DEFAULT '';
UPDATE sentences SET lineage_id = id;
UPDATE sentences SET lineage_id = (
        SELECT c.sentence_id FROM cases c WHERE c.successor_sentence_id = sentences.id
        ORDER BY c.created_at LIMIT 1)
    WHERE id IN (SELECT successor_sentence_id FROM cases WHERE successor_sentence_id IS NOT NULL);
CREATE INDEX sentences_lineage_idx ON sentences (lineage_id);

-- Similar cases read a lineage's cases and an article's recent cases;
-- corrections are found by sentence.
CREATE INDEX cases_sentence_idx ON cases (sentence_id);
CREATE INDEX cases_article_created_idx ON cases (article_id, created_at);
CREATE INDEX corrections_sentence_idx ON corrections (sentence_id, published_at);

UPDATE cases SET known_correction_id = (
        SELECT k.id FROM corrections k JOIN sentences s ON s.id = k.sentence_id
        WHERE s.lineage_id = (SELECT lineage_id FROM sentences WHERE id = cases.sentence_id)
          AND k.case_id <> cases.id AND k.published_at <= cases.first_reported_at
        ORDER BY k.published_at DESC, k.id DESC LIMIT 1)
    WHERE open_key IS NOT NULL;
