-- Durable Streams (github.com/durable-streams, PROTOCOL.md): the gateway's /v1/stream/{path}.
-- A stream's bytes are rows of the log itself (partitions, events) under a key of its own, so they
-- are committed, ordered, NOTIFYed and read the way every event is. That key ("~" and the stream's
-- incarnation id) is never a valid topic name, so streams and topics never meet.

-- One row per stream path of a tenant. A deleted stream stays as a tombstone (deleted_at set) that
-- remembers how far its seqs went: the next stream created at that path starts after them, so an
-- offset handed out by the deleted one is never a position in the new one. A stream deleted while
-- forks of it live is soft-deleted (soft_deleted): 410 to readers, 409 to a create, until its last
-- fork is gone.
-- Every message is one row of events; its id is the seq that began its append (the "append unit":
-- a JSON array posted at once, or one body of bytes), which SSE frames and fork sub-offsets follow.
CREATE TABLE streams (
    tenant_id     text COLLATE "C" NOT NULL,
    path          text COLLATE "C" NOT NULL,
    -- the stream's key in partitions and events (partition 0); new for each incarnation
    log_key       text COLLATE "C" NOT NULL,
    content_type  text             NOT NULL,
    -- Stream-TTL as asked (seconds), and the expiry it gives; or Stream-Expires-At alone
    ttl_seconds   bigint,
    expires_at    timestamptz,
    closed        boolean          NOT NULL DEFAULT false,
    -- the last Stream-Seq a writer sent (compared byte-wise)
    writer_seq    text COLLATE "C",
    -- offsets at or below base_seq are from before this stream: an earlier incarnation's
    base_seq      bigint           NOT NULL,
    -- the seq of the last message, kept with the row an append locks (and in partitions.head, for
    -- the log's own readers), so that one locking read gives an append all it checks
    head          bigint           NOT NULL DEFAULT 0,
    -- a fork: the stream it was forked from (path, and log key of that incarnation), the seq it
    -- shares up to and the sub-offset into the next append unit; its own rows hold copies
    forked_from     text COLLATE "C",
    fork_source_key text COLLATE "C",
    fork_seq        bigint,
    fork_sub_offset bigint,
    soft_deleted    boolean          NOT NULL DEFAULT false,
    created_at    timestamptz      NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    PRIMARY KEY (tenant_id, path)
);

-- Idempotent producers (Producer-Id / -Epoch / -Seq), per stream incarnation. Updated in the
-- transaction that appends, so a retry after a crash is never appended twice.
CREATE TABLE stream_producers (
    tenant_id   text COLLATE "C" NOT NULL,
    log_key     text COLLATE "C" NOT NULL,
    producer_id text COLLATE "C" NOT NULL,
    epoch       bigint           NOT NULL,
    last_seq    bigint           NOT NULL,
    PRIMARY KEY (tenant_id, log_key, producer_id)
);

-- The retention sweep asks whether a log key still belongs to a live stream; a delete, whether a
-- stream has forks.
CREATE INDEX streams_log_key ON streams (tenant_id, log_key);
CREATE INDEX streams_fork_source ON streams (tenant_id, fork_source_key) WHERE fork_source_key IS NOT NULL;

-- Live streams per tenant, against switchboard.delivery.streams.max-per-tenant: changed in the
-- transaction that makes or deletes a stream (under its row lock), and by the retention sweep when
-- it retires an expired one.
CREATE TABLE stream_counts (
    tenant_id text COLLATE "C" NOT NULL,
    live      bigint           NOT NULL,
    PRIMARY KEY (tenant_id)
);
