DROP INDEX cases_span_idx;
DROP INDEX corrections_span_idx;
