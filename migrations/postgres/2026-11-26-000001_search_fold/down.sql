DROP FUNCTION erratum_fold(text);
