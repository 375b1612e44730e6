-- The processes that follow the change feed (gateways, delivery instances), each with the highest
-- change id it has applied, as it last reported. A report counts until expires_at, so a process that
-- dies stops counting by itself. A revocation (a key deleted, a tenant deleted) is answered once
-- every live subscriber has applied its change: nothing the revoked credential sends after the answer
-- finds a cache that still trusts it.
CREATE TABLE change_subscribers (
    subscriber_id   text        PRIMARY KEY,
    applied_through bigint      NOT NULL,
    expires_at      timestamptz NOT NULL
);
