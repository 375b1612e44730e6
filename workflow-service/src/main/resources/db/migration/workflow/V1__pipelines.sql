-- Pipeline definitions, named per tenant and versioned. A version is never changed nor reused:
-- a run pins (tenant, name, version) and must find the same definition for its whole life, so a
-- DELETE only marks the pipeline deleted (its versions stay for the runs that pinned them), and a
-- PUT after a DELETE continues the numbering.

-- One row per pipeline name: the version counter. Saving a version takes this row's lock
-- (INSERT ... ON CONFLICT DO UPDATE), so concurrent saves of one name get consecutive numbers.
CREATE TABLE pipelines (
    tenant_id      text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    latest_version integer          NOT NULL CHECK (latest_version > 0),
    deleted_at     timestamptz,
    PRIMARY KEY (tenant_id, name)
);

-- The definition is stored as the normalized JSON the API returned when it was saved (json, not
-- jsonb: its field order is kept, so GET answers exactly what PUT answered).
CREATE TABLE pipeline_versions (
    tenant_id  text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    version    integer          NOT NULL CHECK (version > 0),
    definition json             NOT NULL,
    created_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name, version),
    FOREIGN KEY (tenant_id, name) REFERENCES pipelines
);
