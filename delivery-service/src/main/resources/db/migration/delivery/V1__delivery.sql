-- delivery-service owns this schema; Flyway is the only writer of DDL.
-- Every table has tenant_id first in its primary key and in every index, so the store can be
-- distributed by tenant (Citus, or a cell per group of tenants) without changing a query.

-- One row per topic partition: the last assigned seq (head) and the oldest seq retention still
-- keeps (first_seq). Publishers lock this row to assign seqs, which serialises commits per
-- partition: the committed events of a partition are always a gap-free prefix 1..head.
CREATE TABLE partitions (
    tenant_id text    NOT NULL,
    topic     text    NOT NULL,
    partition integer NOT NULL,
    head      bigint  NOT NULL DEFAULT 0,
    first_seq bigint  NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, topic, partition)
);

-- The log. envelope is the complete CloudEvent as sent to readers (JSON text, seq included), so
-- a read never re-renders it.
CREATE TABLE events (
    tenant_id   text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    seq         bigint      NOT NULL,
    id          text        NOT NULL,
    accepted_at timestamptz NOT NULL,
    expires_at  timestamptz,
    envelope    text        NOT NULL,
    PRIMARY KEY (tenant_id, topic, partition, seq)
);

-- Idempotency: one row per (tenant, topic, id) while the topic's dedup window lasts.
CREATE TABLE dedup (
    tenant_id  text        NOT NULL,
    topic      text        NOT NULL,
    id         text        NOT NULL,
    partition  integer     NOT NULL,
    seq        bigint      NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, topic, id)
);
CREATE INDEX dedup_expiry ON dedup (tenant_id, expires_at);
