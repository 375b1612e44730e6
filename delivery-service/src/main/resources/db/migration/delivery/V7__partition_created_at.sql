-- When a topic partition got its first event. A workflow pipeline triggered by a topic pattern
-- (chat.*) starts the consumer group of a topic created after the pipeline at its oldest event,
-- so the question that created the topic is answered; of an older topic, at its head. now() is
-- stable, so adding the column rewrites nothing: rows that exist get the time of this migration.
ALTER TABLE partitions ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
