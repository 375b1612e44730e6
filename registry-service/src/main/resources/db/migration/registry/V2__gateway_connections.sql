-- Open sockets per tenant per gateway instance, as each gateway last reported them. A report
-- counts until expires_at, so a gateway that dies stops counting without anyone cleaning up.
CREATE TABLE gateway_connections (
    tenant_id   text        NOT NULL,
    gateway_id  text        NOT NULL,
    connections integer     NOT NULL CHECK (connections > 0),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, gateway_id)
);
CREATE INDEX gateway_connections_by_gateway ON gateway_connections (gateway_id);
