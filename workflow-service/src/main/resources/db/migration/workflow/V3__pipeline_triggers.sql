-- The trigger topic of a pipeline's latest version, kept beside its counter so the trigger
-- consumer finds the pipelines it must watch from a small partial index instead of reading every
-- definition. NULL: the latest version has no trigger (or the pipeline is deleted).
ALTER TABLE pipelines ADD COLUMN trigger_topic text COLLATE "C";
CREATE INDEX pipelines_triggered ON pipelines (tenant_id, name) WHERE trigger_topic IS NOT NULL AND deleted_at IS NULL;

