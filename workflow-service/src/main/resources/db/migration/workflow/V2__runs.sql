-- Runs of pipelines and the state of their steps: everything a replica needs to take over another
-- replica's work lives here, nothing in memory.

-- One row per run. trigger is the event that started it (a CloudEvent; for a run started over
-- REST the one the service made of the request), causation_id that event's id: one run per
-- (pipeline, trigger event id), however often the trigger comes again.
CREATE TABLE runs (
    tenant_id    text COLLATE "C" NOT NULL,
    run_id       uuid             NOT NULL,
    pipeline     text COLLATE "C" NOT NULL,
    version      integer          NOT NULL,
    status       text             NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    output_topic text COLLATE "C" NOT NULL,
    causation_id text COLLATE "C" NOT NULL,
    trigger      json             NOT NULL,
    -- A run started by another run's handoff step: that run and step (the causation chain).
    parent_run   uuid,
    parent_step  text,
    answer       json,
    error        text,
    created_at   timestamptz      NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    PRIMARY KEY (tenant_id, run_id),
    FOREIGN KEY (tenant_id, pipeline, version) REFERENCES pipeline_versions
);
CREATE UNIQUE INDEX runs_once_per_trigger ON runs (tenant_id, pipeline, causation_id);

-- One row per step of a run. waiting: its inputs are not there yet; ready: may run from
-- available_at (later than now while a retry backs off); running: leased to lease_owner until
-- lease_until (the owner renews it while it works; past it another replica takes the step over);
-- completed with its output; failed (after its last attempt); skipped (not needed: an aggregate
-- of strategy first took another input); cancelled (the run ended first).
CREATE TABLE run_steps (
    tenant_id    text COLLATE "C" NOT NULL,
    run_id       uuid             NOT NULL,
    step_id      text COLLATE "C" NOT NULL,
    status       text             NOT NULL
        CHECK (status IN ('waiting', 'ready', 'running', 'completed', 'failed', 'skipped', 'cancelled')),
    attempt      integer          NOT NULL DEFAULT 0,
    available_at timestamptz,
    lease_owner  text,
    lease_until  timestamptz,
    output       json,
    error        text,
    finished_at  timestamptz,
    PRIMARY KEY (tenant_id, run_id, step_id),
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs ON DELETE CASCADE
);
-- The workers' two questions, answered from small partial indexes (only live work is in them).
CREATE INDEX run_steps_ready ON run_steps (tenant_id, available_at) WHERE status = 'ready';
CREATE INDEX run_steps_leased ON run_steps (tenant_id, lease_until) WHERE status = 'running';

-- Every attempt of every step, for GET /v1/runs/{id}: when, by whom, how it ended, tokens used.
-- outcome is null while the attempt runs; lease_expired when its replica went and another took over.
CREATE TABLE step_attempts (
    tenant_id   text COLLATE "C" NOT NULL,
    run_id      uuid             NOT NULL,
    step_id     text COLLATE "C" NOT NULL,
    attempt     integer          NOT NULL,
    worker      text             NOT NULL,
    started_at  timestamptz      NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text CHECK (outcome IN ('completed', 'failed', 'timeout', 'lease_expired', 'cancelled', 'skipped')),
    error       text,
    tokens      integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, run_id, step_id, attempt),
    FOREIGN KEY (tenant_id, run_id, step_id) REFERENCES run_steps ON DELETE CASCADE
);

-- Events a run must publish exactly once and in order (ai.retracted, ai.completed, ai.failed, an
-- emit step's event), written in the transaction that decides them and published after it
-- commits; a row is deleted once delivery has stored its event. Their ids are fixed by run, step
-- and attempt, so publishing a row twice (a crash between publish and delete) stores it once.
CREATE TABLE run_outbox (
    tenant_id  text COLLATE "C" NOT NULL,
    run_id     uuid             NOT NULL,
    position   bigint GENERATED ALWAYS AS IDENTITY,
    topic      text COLLATE "C" NOT NULL,
    event      json             NOT NULL,
    created_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, position)
);
CREATE INDEX run_outbox_age ON run_outbox (tenant_id, created_at);
