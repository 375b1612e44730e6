-- The topics each gateway's sockets subscribe to, per tenant, as its last connection report said
-- (at most 1000 a tenant; '*' for a tenant with more: all its topics count as watched). Like the
-- socket counts, a report counts until expires_at, so a gateway that dies stops counting by itself.
CREATE TABLE gateway_watched (
    tenant_id  text COLLATE "C" NOT NULL,
    topic      text COLLATE "C" NOT NULL,
    gateway_id text             NOT NULL,
    expires_at timestamptz      NOT NULL,
    PRIMARY KEY (tenant_id, topic, gateway_id)
);
CREATE INDEX gateway_watched_by_gateway ON gateway_watched (gateway_id);
