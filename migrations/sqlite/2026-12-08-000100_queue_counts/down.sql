DROP INDEX cases_counts_idx;
