-- registry-service owns this schema; Flyway is the only writer of DDL.

-- A deleted tenant keeps its row (deleted_at set, secrets wiped) so its id is never reused:
-- events stored under that id elsewhere can never surface under a new owner.
CREATE TABLE tenants (
    id                               text        PRIMARY KEY,
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
    deleted_at                       timestamptz
);

-- API keys: only a SHA-256 of the whole key is kept; keys are 256-bit random, so a fast hash is
-- enough and lets the key be found by its hash.
CREATE TABLE api_keys (
    tenant_id  text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text        NOT NULL,
    name       text        NOT NULL,
    scopes     text[]      NOT NULL,
    key_hash   bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

-- A declared topic name or pattern with every setting filled in. Durations in milliseconds.
CREATE TABLE topics (
    tenant_id          text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name               text        NOT NULL,
    is_pattern         boolean     NOT NULL,
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

-- The change feed: one row per committed change, written in the changing transaction, announced
-- with NOTIFY registry_changes after commit. Pruned after switchboard.registry.change-retention.
CREATE TABLE changes (
    id        bigserial   PRIMARY KEY,
    tenant_id text        NOT NULL,
    kind      text        NOT NULL,
    ref       text,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_at ON changes (at);
