-- cancelWhenUnwatched: a run whose pipeline sets it remembers the limit and when its output topic
-- was last seen watched (a subscriber on some gateway, as the registry learns from the gateways'
-- reports); a run unwatched for longer than the limit is cancelled. The partial index holds only
-- the running runs that have a limit: what the watcher reads every second.
ALTER TABLE runs ADD COLUMN unwatched_after_ms bigint CHECK (unwatched_after_ms > 0);
ALTER TABLE runs ADD COLUMN watched_at timestamptz;
CREATE INDEX runs_watched ON runs (tenant_id, run_id) WHERE status = 'running' AND unwatched_after_ms IS NOT NULL;
