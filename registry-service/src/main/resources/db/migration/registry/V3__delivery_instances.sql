-- Live delivery-service instances, as each last reported itself. A report counts until expires_at,
-- so an instance that dies stops counting by itself. Each instance enforces its share (1/N) of
-- every tenant's and topic's publish rate, N being the live count.
CREATE TABLE delivery_instances (
    instance_id text        PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
