-- Expired dedup keys are found by walking the table's pages in order (RetentionJob.pruneDedup), so
-- no publish pays for a second B-tree insert per key any more.
DROP INDEX dedup_expiry;
