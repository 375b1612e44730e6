-- registry-service owns this schema; Flyway is the only writer of DDL.
-- Identifiers use the "C" collation so list order (and the opaque cursors built on it) is the
-- same byte order on every server, whatever its default locale.

-- A deleted tenant keeps its row (deleted_at set, secrets wiped) so its id is never reused:
-- events stored under that id elsewhere can never surface under a new owner.
CREATE TABLE tenants (
    id                               text COLLATE "C" PRIMARY KEY,
    name                             text        NOT NULL,
    client_secret_enc                bytea,
    previous_secret_enc              bytea,
    previous_secret_expires_at       timestamptz,
    publish_per_second               integer     NOT NULL,
    burst                            integer     NOT NULL,
    max_connections                  integer     NOT NULL,
    max_subscriptions_per_connection integer     NOT NULL,
    max_payload_bytes                integer     NOT NULL,
    created_at                       timestamptz NOT NULL DEFAULT now(),
    updated_at                       timestamptz NOT NULL DEFAULT now(),
    deleted_at                       timestamptz,
    -- a live tenant always has a secret; a deleted one never keeps any
    CONSTRAINT tenants_secret_state CHECK (
        (deleted_at IS NULL AND client_secret_enc IS NOT NULL)
        OR (deleted_at IS NOT NULL AND client_secret_enc IS NULL AND previous_secret_enc IS NULL)),
    CONSTRAINT tenants_previous_secret CHECK ((previous_secret_enc IS NULL) = (previous_secret_expires_at IS NULL))
);
-- the expiry sweep looks only at tenants inside a rotation grace period
CREATE INDEX tenants_previous_secret_expiry ON tenants (previous_secret_expires_at)
    WHERE previous_secret_expires_at IS NOT NULL;

-- API keys: only a SHA-256 of the whole key is kept; keys are 256-bit random, so a fast hash is
-- enough and lets the key be found by its hash.
CREATE TABLE api_keys (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text COLLATE "C" NOT NULL,
    name       text        NOT NULL,
    scopes     text[]      NOT NULL,
    key_hash   bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

-- A declared topic name or pattern with every setting filled in. Durations in milliseconds.
-- match_regex, literal_segments, has_tail and segment_count are derived from the name when it is
-- written, so resolution can find and rank the matching patterns in SQL with a bounded read; the
-- service then confirms the winner with TopicPattern, the one matcher every service shares.
CREATE TABLE topics (
    tenant_id          text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name               text COLLATE "C" NOT NULL,
    is_pattern         boolean     NOT NULL,
    match_regex        text        NOT NULL,
    literal_segments   integer     NOT NULL,
    has_tail           boolean     NOT NULL,
    segment_count      integer     NOT NULL,
    partitions         integer     NOT NULL,
    retention_ms       bigint      NOT NULL,
    dedup_window_ms    bigint      NOT NULL,
    default_ttl_ms     bigint,
    max_payload_bytes  integer     NOT NULL,
    schema_min         integer     NOT NULL,
    schema_max         integer     NOT NULL,
    max_lag            bigint      NOT NULL,
    lag_policy         text        NOT NULL,
    max_attempts       integer     NOT NULL,
    publish_per_second integer     NOT NULL,
    publish_burst      integer     NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);
CREATE INDEX topics_patterns ON topics (tenant_id) WHERE is_pattern;

-- The change feed: one row per committed change, written in the changing transaction, announced
-- with NOTIFY registry_changes after commit. Writers serialize on an advisory lock, so ids are
-- handed out in commit order and a reader that has seen id n has seen every committed id < n.
-- Pruned after switchboard.registry.change-retention.
CREATE TABLE changes (
    id        bigserial   PRIMARY KEY,
    tenant_id text        NOT NULL,
    kind      text        NOT NULL,
    ref       text,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_at ON changes (at);

-- The highest change id ever pruned: a caller resuming at or after it has lost nothing; one
-- resuming before it has missed changes and must drop its whole cache (see ChangeFeed).
CREATE TABLE change_horizon (
    only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pruned_through bigint  NOT NULL
);
INSERT INTO change_horizon (pruned_through) VALUES (0);
