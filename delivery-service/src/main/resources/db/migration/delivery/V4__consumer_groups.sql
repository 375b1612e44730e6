-- Consumer groups (at-least-once). Nothing here is read per event of the log: a poll reads the
-- group's cursor rows, the few pending rows that are due, and the log after the cursor, each by
-- key and with a LIMIT.

-- One row per group of a topic. ordered_by_key is fixed when the group is created (its first poll).
CREATE TABLE consumer_groups (
    tenant_id      text COLLATE "C" NOT NULL,
    topic          text COLLATE "C" NOT NULL,
    group_name     text COLLATE "C" NOT NULL,
    ordered_by_key boolean          NOT NULL,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, topic, group_name)
);

-- Per group and topic partition: the cursor. Every seq >= next_seq was never leased; a seq below
-- it is done unless it has a row in group_pending. So the committed watermark (every seq up to it
-- done) is the lowest pending seq - 1, else next_seq - 1: one look-up of group_pending's primary
-- key, never stored twice. Polls, seeks and dead-letter sweeps lock these rows first (in partition
-- order), so leasing of one group is one consumer at a time and never deadlocks.
CREATE TABLE group_partitions (
    tenant_id      text COLLATE "C" NOT NULL,
    topic          text COLLATE "C" NOT NULL,
    group_name     text COLLATE "C" NOT NULL,
    partition      integer          NOT NULL,
    next_seq       bigint           NOT NULL,
    dead_lettered  bigint           NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, topic, group_name, partition),
    FOREIGN KEY (tenant_id, topic, group_name) REFERENCES consumer_groups ON DELETE CASCADE
);

-- The sparse part: events below next_seq that are not done. A row is
--   leased:  lease_until set, visible_at = lease_until (redelivered once that passes);
--   delayed: nacked, lease_until NULL, visible_at = when it may be delivered again;
--   waiting: (ordered groups) never delivered (attempt 0) because an earlier event of its key is
--            pending; visible_at = 'infinity' until that one is done.
-- An ack deletes the row. partition_key is kept only for ordered groups.
CREATE TABLE group_pending (
    tenant_id     text COLLATE "C" NOT NULL,
    topic         text COLLATE "C" NOT NULL,
    group_name    text COLLATE "C" NOT NULL,
    partition     integer          NOT NULL,
    seq           bigint           NOT NULL,
    attempt       integer          NOT NULL,
    consumer      text,
    lease_until   timestamptz,
    visible_at    timestamptz      NOT NULL,
    last_reason   text,
    partition_key text COLLATE "C",
    PRIMARY KEY (tenant_id, topic, group_name, partition, seq),
    FOREIGN KEY (tenant_id, topic, group_name) REFERENCES consumer_groups ON DELETE CASCADE
);
-- What is due: expired leases, delays that passed, unblocked events.
CREATE INDEX group_pending_due ON group_pending (tenant_id, topic, group_name, visible_at);
-- Ordered groups: is an event of this key pending, and which is its first?
CREATE INDEX group_pending_key ON group_pending (tenant_id, topic, group_name, partition, partition_key, seq)
    WHERE partition_key IS NOT NULL;
-- maxInFlight: a consumer's live leases.
CREATE INDEX group_pending_consumer ON group_pending (tenant_id, topic, group_name, consumer, lease_until)
    WHERE consumer IS NOT NULL;
