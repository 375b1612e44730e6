package dev.switchboard.workflow.run;

import io.r2dbc.spi.Readable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The statements on {@code runs}, {@code run_steps}, {@code step_attempts} and {@code run_outbox}
 * ({@code V2__runs.sql}). Every statement names its tenant, except the two a worker asks across
 * tenants (what is due, what is left in the outbox), which read only the partial indexes of live
 * work. The transactions that decide a run's course are {@link RunTransitions}'; these are their parts.
 */
@Repository
class RunRepository {

    private final DatabaseClient db;

    RunRepository(DatabaseClient db) {
        this.db = db;
    }

    /** A run as stored. */
    record RunRow(String tenant, UUID run, String pipeline, int version, String status, String outputTopic,
                  String causationId, String trigger, UUID parentRun, String parentStep, String answer, String error,
                  Instant createdAt, Instant finishedAt) {
    }

    /** A step of a run as stored. */
    record StepRow(String step, String status, int attempt, Instant availableAt, String output, String error,
                   Instant finishedAt) {
    }

    /** One attempt of a step. */
    record AttemptRow(String step, int attempt, String worker, Instant startedAt, Instant finishedAt, String outcome,
                      String error, int tokens) {
    }

    /**
     * A step this worker has just leased.
     *
     * @param tookOver   the step was running on another worker whose lease ran out
     * @param prevTokens tokens the previous attempt had streamed as far as it said (-1: no previous attempt)
     */
    record Leased(String tenant, UUID run, String step, int attempt, boolean tookOver, int prevTokens) {
    }

    /** An event waiting in the outbox. */
    record Pending(long position, String topic, String event) {
    }

    private static final String RUN_COLUMNS = "tenant_id, run_id, pipeline, version, status, output_topic, causation_id, "
            + "trigger::text AS trigger, parent_run, parent_step, answer::text AS answer, error, created_at, finished_at";

    /**
     * Inserts a run unless its pipeline already has one for this trigger event id.
     *
     * @return the new run's id, or empty when there was one already
     */
    Mono<UUID> insertRun(String tenant, UUID run, String pipeline, int version, String outputTopic, String causationId,
                         String trigger, UUID parentRun, String parentStep, Duration unwatchedAfter) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("INSERT INTO runs (tenant_id, run_id, pipeline, version, status, "
                        + "output_topic, causation_id, trigger, parent_run, parent_step, unwatched_after_ms, watched_at) "
                        + "VALUES (:tenant, :run, :pipeline, :version, 'running', :output, :causation, CAST(:trigger AS json), "
                        + ":parentRun, :parentStep, :unwatched, now()) "
                        + "ON CONFLICT (tenant_id, pipeline, causation_id) DO NOTHING RETURNING run_id")
                .bind("tenant", tenant).bind("run", run).bind("pipeline", pipeline).bind("version", version)
                .bind("output", outputTopic).bind("causation", causationId).bind("trigger", trigger);
        insert = unwatchedAfter == null ? insert.bindNull("unwatched", Long.class) : insert.bind("unwatched", unwatchedAfter.toMillis());
        insert = parentRun == null ? insert.bindNull("parentRun", UUID.class).bindNull("parentStep", String.class)
                : insert.bind("parentRun", parentRun).bind("parentStep", parentStep);
        return insert.map(row -> row.get("run_id", UUID.class)).one();
    }

    /** The steps of a new run, each waiting or (no inputs) ready now. */
    Mono<Long> insertSteps(String tenant, UUID run, List<String> steps, List<String> statuses) {
        return db.sql("INSERT INTO run_steps (tenant_id, run_id, step_id, status, available_at) "
                        + "SELECT :tenant, :run, s.step, s.status, CASE WHEN s.status = 'ready' THEN now() END "
                        + "FROM unnest(CAST(:steps AS text[]), CAST(:statuses AS text[])) AS s (step, status)")
                .bind("tenant", tenant).bind("run", run)
                .bind("steps", steps.toArray(String[]::new)).bind("statuses", statuses.toArray(String[]::new))
                .fetch().rowsUpdated();
    }

    Mono<RunRow> findRun(String tenant, UUID run) {
        return db.sql("SELECT " + RUN_COLUMNS + " FROM runs WHERE tenant_id = :tenant AND run_id = :run")
                .bind("tenant", tenant).bind("run", run).map(RunRepository::run).one();
    }

    Mono<RunRow> findRunByCause(String tenant, String pipeline, String causationId) {
        return db.sql("SELECT " + RUN_COLUMNS + " FROM runs WHERE tenant_id = :tenant AND pipeline = :pipeline "
                        + "AND causation_id = :causation")
                .bind("tenant", tenant).bind("pipeline", pipeline).bind("causation", causationId)
                .map(RunRepository::run).one();
    }

    /** The run's row, locked for the transaction that decides its next state: one decision per run at a time. */
    Mono<RunRow> lockRun(String tenant, UUID run) {
        return db.sql("SELECT " + RUN_COLUMNS + " FROM runs WHERE tenant_id = :tenant AND run_id = :run FOR UPDATE")
                .bind("tenant", tenant).bind("run", run).map(RunRepository::run).one();
    }

    /** Every step of a run (a run has at most the pipeline's step limit), in no particular order. */
    Flux<StepRow> steps(String tenant, UUID run) {
        return db.sql("SELECT step_id, status, attempt, available_at, output::text AS output, error, finished_at "
                        + "FROM run_steps WHERE tenant_id = :tenant AND run_id = :run")
                .bind("tenant", tenant).bind("run", run)
                .map(row -> new StepRow(row.get("step_id", String.class), row.get("status", String.class),
                        row.get("attempt", Integer.class), row.get("available_at", Instant.class),
                        row.get("output", String.class), row.get("error", String.class), row.get("finished_at", Instant.class)))
                .all();
    }

    /** Every attempt of every step of a run, bounded by steps × attempts. */
    Flux<AttemptRow> attempts(String tenant, UUID run) {
        return db.sql("SELECT step_id, attempt, worker, started_at, finished_at, outcome, error, tokens FROM step_attempts "
                        + "WHERE tenant_id = :tenant AND run_id = :run ORDER BY step_id, attempt")
                .bind("tenant", tenant).bind("run", run)
                .map(row -> new AttemptRow(row.get("step_id", String.class), row.get("attempt", Integer.class),
                        row.get("worker", String.class), row.get("started_at", Instant.class),
                        row.get("finished_at", Instant.class), row.get("outcome", String.class),
                        row.get("error", String.class), row.get("tokens", Integer.class)))
                .all();
    }

    /**
     * Leases up to {@code limit} due steps to {@code owner}: ready ones whose time has come, and
     * running ones whose lease ran out (their worker is gone). Each gets its next attempt, recorded
     * in {@code step_attempts}; a taken-over attempt is closed there as {@code lease_expired}. One
     * statement, {@code SKIP LOCKED}: workers never wait for each other nor lease one step twice.
     */
    Flux<Leased> lease(String owner, int limit, Duration lease) {
        return db.sql("""
                        WITH due AS (
                            SELECT tenant_id, run_id, step_id, status AS was FROM run_steps
                            WHERE (status = 'ready' AND available_at <= now()) OR (status = 'running' AND lease_until < now())
                            ORDER BY COALESCE(available_at, lease_until) LIMIT :limit FOR UPDATE SKIP LOCKED),
                        taken AS (
                            UPDATE run_steps s SET status = 'running', attempt = s.attempt + 1, lease_owner = :owner,
                                lease_until = now() + CAST(:leaseMs AS bigint) * interval '1 millisecond', error = NULL
                            FROM due WHERE s.tenant_id = due.tenant_id AND s.run_id = due.run_id AND s.step_id = due.step_id
                            RETURNING s.tenant_id, s.run_id, s.step_id, s.attempt, due.was),
                        opened AS (
                            INSERT INTO step_attempts (tenant_id, run_id, step_id, attempt, worker)
                            SELECT tenant_id, run_id, step_id, attempt, :owner FROM taken),
                        expired AS (
                            UPDATE step_attempts a SET outcome = 'lease_expired', finished_at = now(),
                                error = 'its worker stopped renewing the lease; another took the step over'
                            FROM taken WHERE taken.was = 'running' AND a.tenant_id = taken.tenant_id
                                AND a.run_id = taken.run_id AND a.step_id = taken.step_id AND a.attempt = taken.attempt - 1
                                AND a.outcome IS NULL)
                        SELECT taken.*, COALESCE((SELECT p.tokens FROM step_attempts p WHERE p.tenant_id = taken.tenant_id
                            AND p.run_id = taken.run_id AND p.step_id = taken.step_id AND p.attempt = taken.attempt - 1), -1)
                            AS prev_tokens
                        FROM taken""")
                .bind("owner", owner).bind("limit", limit).bind("leaseMs", lease.toMillis())
                .map(row -> new Leased(row.get("tenant_id", String.class), row.get("run_id", UUID.class),
                        row.get("step_id", String.class), row.get("attempt", Integer.class),
                        "running".equals(row.get("was", String.class)), row.get("prev_tokens", Integer.class)))
                .all();
    }

    /**
     * Renews a lease and records the tokens streamed so far.
     *
     * @return whether the step is still this worker's attempt (false: the run was cancelled, or the
     * lease ran out and another worker has the step)
     */
    Mono<Boolean> renew(Leased leased, String owner, Duration lease, int tokens) {
        return db.sql("""
                        WITH renewed AS (
                            UPDATE run_steps SET lease_until = now() + CAST(:leaseMs AS bigint) * interval '1 millisecond'
                            WHERE tenant_id = :tenant AND run_id = :run AND step_id = :step AND status = 'running'
                                AND lease_owner = :owner AND attempt = :attempt
                            RETURNING 1),
                        counted AS (
                            UPDATE step_attempts SET tokens = :tokens WHERE tenant_id = :tenant AND run_id = :run
                                AND step_id = :step AND attempt = :attempt AND EXISTS (SELECT 1 FROM renewed))
                        SELECT count(*) AS held FROM renewed""")
                .bind("leaseMs", lease.toMillis()).bind("tenant", leased.tenant()).bind("run", leased.run())
                .bind("step", leased.step()).bind("owner", owner).bind("attempt", leased.attempt()).bind("tokens", tokens)
                .map(row -> row.get("held", Long.class) > 0).one();
    }

    /** Ends this worker's attempt of a step with a new status; false when the attempt is not this worker's any more. */
    Mono<Boolean> finishStep(Leased leased, String owner, String status, String output, String error, Instant availableAt) {
        DatabaseClient.GenericExecuteSpec update = db.sql("UPDATE run_steps SET status = :status, output = CAST(:output AS json), "
                        + "error = :error, available_at = :available, lease_owner = NULL, lease_until = NULL, "
                        + "finished_at = CASE WHEN :status IN ('completed', 'failed') THEN now() END "
                        + "WHERE tenant_id = :tenant AND run_id = :run AND step_id = :step AND status = 'running' "
                        + "AND lease_owner = :owner AND attempt = :attempt")
                .bind("status", status).bind("tenant", leased.tenant()).bind("run", leased.run())
                .bind("step", leased.step()).bind("owner", owner).bind("attempt", leased.attempt());
        update = output == null ? update.bindNull("output", String.class) : update.bind("output", output);
        update = error == null ? update.bindNull("error", String.class) : update.bind("error", error);
        update = availableAt == null ? update.bindNull("available", Instant.class) : update.bind("available", availableAt);
        return update.fetch().rowsUpdated().map(rows -> rows > 0);
    }

    /** Replaces a completed step's output (a handoff's, once it knows the run it started). */
    Mono<Long> setOutput(String tenant, UUID run, String step, String output) {
        return db.sql("UPDATE run_steps SET output = CAST(:output AS json) WHERE tenant_id = :tenant AND run_id = :run AND step_id = :step")
                .bind("output", output).bind("tenant", tenant).bind("run", run).bind("step", step)
                .fetch().rowsUpdated();
    }

    /** Closes an attempt's record. */
    Mono<Long> closeAttempt(Leased leased, String outcome, String error, int tokens) {
        DatabaseClient.GenericExecuteSpec update = db.sql("UPDATE step_attempts SET outcome = :outcome, error = :error, "
                        + "tokens = :tokens, finished_at = now() WHERE tenant_id = :tenant AND run_id = :run "
                        + "AND step_id = :step AND attempt = :attempt AND outcome IS NULL")
                .bind("outcome", outcome).bind("tokens", tokens).bind("tenant", leased.tenant()).bind("run", leased.run())
                .bind("step", leased.step()).bind("attempt", leased.attempt());
        return (error == null ? update.bindNull("error", String.class) : update.bind("error", error)).fetch().rowsUpdated();
    }

    /** Moves steps of a run from one status to another (readying, skipping, cancelling). */
    Mono<Long> setStatus(String tenant, UUID run, List<String> steps, String from, String to) {
        if (steps.isEmpty()) {
            return Mono.just(0L);
        }
        return db.sql("UPDATE run_steps SET status = :to, lease_owner = NULL, lease_until = NULL, "
                        + "available_at = CASE WHEN :to = 'ready' THEN now() END "
                        + "WHERE tenant_id = :tenant AND run_id = :run AND step_id = ANY(CAST(:steps AS text[])) AND status = :from")
                .bind("to", to).bind("from", from).bind("tenant", tenant).bind("run", run)
                .bind("steps", steps.toArray(String[]::new))
                .fetch().rowsUpdated();
    }

    /** Skips steps of a run that have not ended (an aggregate of strategy first took another input), closing their open attempts. */
    Mono<Long> skip(String tenant, UUID run, List<String> steps) {
        if (steps.isEmpty()) {
            return Mono.just(0L);
        }
        return db.sql("""
                        WITH skipped AS (
                            UPDATE run_steps SET status = 'skipped', lease_owner = NULL, lease_until = NULL, available_at = NULL
                            WHERE tenant_id = :tenant AND run_id = :run AND step_id = ANY(CAST(:steps AS text[]))
                                AND status IN ('waiting', 'ready', 'running')
                            RETURNING step_id)
                        UPDATE step_attempts SET outcome = 'skipped', finished_at = now(),
                            error = 'not needed: an aggregate of strategy first took another input'
                        WHERE tenant_id = :tenant AND run_id = :run AND step_id IN (SELECT step_id FROM skipped) AND outcome IS NULL""")
                .bind("tenant", tenant).bind("run", run).bind("steps", steps.toArray(String[]::new))
                .fetch().rowsUpdated();
    }

    /** Cancels every step of a run that has not ended, and closes their open attempts. */
    Mono<Long> cancelOpenSteps(String tenant, UUID run, String why) {
        return db.sql("""
                        WITH stopped AS (
                            UPDATE run_steps SET status = 'cancelled', lease_owner = NULL, lease_until = NULL, available_at = NULL
                            WHERE tenant_id = :tenant AND run_id = :run AND status IN ('waiting', 'ready', 'running')
                            RETURNING step_id)
                        UPDATE step_attempts SET outcome = 'cancelled', finished_at = now(), error = :why
                        WHERE tenant_id = :tenant AND run_id = :run AND outcome IS NULL""")
                .bind("tenant", tenant).bind("run", run).bind("why", why)
                .fetch().rowsUpdated();
    }

    /** Ends a run. */
    Mono<Long> finishRun(String tenant, UUID run, String status, String answer, String error) {
        DatabaseClient.GenericExecuteSpec update = db.sql("UPDATE runs SET status = :status, answer = CAST(:answer AS json), "
                        + "error = :error, finished_at = now() WHERE tenant_id = :tenant AND run_id = :run AND status = 'running'")
                .bind("status", status).bind("tenant", tenant).bind("run", run);
        update = answer == null ? update.bindNull("answer", String.class) : update.bind("answer", answer);
        update = error == null ? update.bindNull("error", String.class) : update.bind("error", error);
        return update.fetch().rowsUpdated();
    }

    Mono<Long> enqueue(String tenant, UUID run, String topic, String event) {
        return db.sql("INSERT INTO run_outbox (tenant_id, run_id, topic, event) VALUES (:tenant, :run, :topic, CAST(:event AS json))")
                .bind("tenant", tenant).bind("run", run).bind("topic", topic).bind("event", event)
                .fetch().rowsUpdated();
    }

    /** A run's waiting events, oldest first, at most {@code limit}. */
    Flux<Pending> pending(String tenant, UUID run, int limit) {
        return db.sql("SELECT position, topic, event::text AS event FROM run_outbox WHERE tenant_id = :tenant AND run_id = :run "
                        + "ORDER BY position LIMIT :limit")
                .bind("tenant", tenant).bind("run", run).bind("limit", limit)
                .map(row -> new Pending(row.get("position", Long.class), row.get("topic", String.class), row.get("event", String.class)))
                .all();
    }

    Mono<Long> dequeue(String tenant, UUID run, long upTo) {
        return db.sql("DELETE FROM run_outbox WHERE tenant_id = :tenant AND run_id = :run AND position <= :upTo")
                .bind("tenant", tenant).bind("run", run).bind("upTo", upTo)
                .fetch().rowsUpdated();
    }

    /** Runs with events left in the outbox for longer than {@code age} (their worker went before publishing them). */
    Flux<RunKey> staleOutbox(Duration age, int limit) {
        return db.sql("SELECT DISTINCT tenant_id, run_id FROM (SELECT tenant_id, run_id FROM run_outbox "
                        + "WHERE created_at < now() - CAST(:ageMs AS bigint) * interval '1 millisecond' LIMIT :limit) AS old")
                .bind("ageMs", age.toMillis()).bind("limit", limit)
                .map(row -> new RunKey(row.get("tenant_id", String.class), row.get("run_id", UUID.class)))
                .all();
    }

    /** A running run with cancelWhenUnwatched: its output topic, and whether it has gone unwatched for longer than its limit. */
    record Watched(String tenant, UUID run, String outputTopic, boolean overdue) {
    }

    /** The running runs that have a cancelWhenUnwatched limit, at most {@code limit}, by tenant. */
    Flux<Watched> watchedRuns(int limit) {
        return db.sql("SELECT tenant_id, run_id, output_topic, "
                        + "now() - watched_at > unwatched_after_ms * interval '1 millisecond' AS overdue FROM runs "
                        + "WHERE status = 'running' AND unwatched_after_ms IS NOT NULL ORDER BY tenant_id, run_id LIMIT :limit")
                .bind("limit", limit)
                .map(row -> new Watched(row.get("tenant_id", String.class), row.get("run_id", UUID.class),
                        row.get("output_topic", String.class), Boolean.TRUE.equals(row.get("overdue", Boolean.class))))
                .all();
    }

    /** The runs' output topics were seen watched now. */
    Mono<Long> markWatched(String tenant, List<UUID> runs) {
        if (runs.isEmpty()) {
            return Mono.just(0L);
        }
        return db.sql("UPDATE runs SET watched_at = now() WHERE tenant_id = :tenant AND run_id = ANY(CAST(:runs AS uuid[])) "
                        + "AND status = 'running'")
                .bind("tenant", tenant).bind("runs", runs.toArray(UUID[]::new))
                .fetch().rowsUpdated();
    }

    private static RunRow run(Readable row) {
        return new RunRow(row.get("tenant_id", String.class), row.get("run_id", UUID.class), row.get("pipeline", String.class),
                row.get("version", Integer.class), row.get("status", String.class), row.get("output_topic", String.class),
                row.get("causation_id", String.class), row.get("trigger", String.class), row.get("parent_run", UUID.class),
                row.get("parent_step", String.class), row.get("answer", String.class), row.get("error", String.class),
                row.get("created_at", Instant.class), row.get("finished_at", Instant.class));
    }
}
