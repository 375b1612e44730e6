package dev.switchboard.workflow.pipeline;

import io.r2dbc.spi.Readable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Instant;
import java.time.OffsetDateTime;

/** The tables {@code pipelines} and {@code pipeline_versions} ({@code V1__pipelines.sql}); every statement is scoped by tenant. */
@Repository
class PipelineRepository {

    private static final String VERSION_COLUMNS = "v.name, v.version, v.definition::text AS definition, v.created_at";
    private static final String LATEST = "FROM pipelines p JOIN pipeline_versions v "
            + "ON v.tenant_id = p.tenant_id AND v.name = p.name AND v.version = p.latest_version ";

    private final DatabaseClient db;

    PipelineRepository(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Stores the next version of a pipeline, in one statement: the counter row is locked by its
     * upsert, so concurrent saves of one name get consecutive versions; a deleted pipeline comes
     * back and its numbering goes on.
     */
    Mono<PipelineVersion> save(String tenant, String name, String definition, String triggerTopic) {
        DatabaseClient.GenericExecuteSpec save = db.sql("WITH counter AS ("
                        + " INSERT INTO pipelines (tenant_id, name, latest_version, trigger_topic) VALUES (:tenant, :name, 1, :trigger)"
                        + " ON CONFLICT (tenant_id, name) DO UPDATE"
                        + " SET latest_version = pipelines.latest_version + 1, deleted_at = NULL, trigger_topic = EXCLUDED.trigger_topic"
                        + " RETURNING tenant_id, name, latest_version)"
                        + " INSERT INTO pipeline_versions AS v (tenant_id, name, version, definition)"
                        + " SELECT tenant_id, name, latest_version, CAST(:definition AS json) FROM counter"
                        + " RETURNING " + VERSION_COLUMNS)
                .bind("tenant", tenant)
                .bind("name", name)
                .bind("definition", definition);
        return (triggerTopic == null ? save.bindNull("trigger", String.class) : save.bind("trigger", triggerTopic))
                .map(PipelineRepository::version)
                .one();
    }

    /** The pipelines that have a trigger, after {@code (tenant, name)}, by tenant and name, at most {@code limit}. */
    Flux<Pipelines.Triggered> triggered(String afterTenant, String afterName, int limit) {
        return db.sql("SELECT p.tenant_id, p.name, p.latest_version, p.trigger_topic, v.created_at FROM pipelines p "
                        + "JOIN pipeline_versions v ON v.tenant_id = p.tenant_id AND v.name = p.name AND v.version = p.latest_version "
                        + "WHERE p.trigger_topic IS NOT NULL AND p.deleted_at IS NULL AND (p.tenant_id, p.name) > (:tenant, :name) "
                        + "ORDER BY p.tenant_id, p.name LIMIT :limit")
                .bind("tenant", afterTenant).bind("name", afterName).bind("limit", limit)
                .map(row -> new Pipelines.Triggered(row.get("tenant_id", String.class), row.get("name", String.class),
                        row.get("latest_version", Integer.class), row.get("trigger_topic", String.class),
                        row.get("created_at", OffsetDateTime.class).toInstant()))
                .all();
    }

    /** One version, or the latest when {@code version} is null; none of a deleted pipeline. */
    Mono<PipelineVersion> find(String tenant, String name, Integer version) {
        DatabaseClient.GenericExecuteSpec select = db.sql("SELECT " + VERSION_COLUMNS + " FROM pipelines p JOIN pipeline_versions v "
                        + "ON v.tenant_id = p.tenant_id AND v.name = p.name AND v.version = COALESCE(:version, p.latest_version) "
                        + "WHERE p.tenant_id = :tenant AND p.name = :name AND p.deleted_at IS NULL")
                .bind("tenant", tenant)
                .bind("name", name);
        return (version == null ? select.bindNull("version", Integer.class) : select.bind("version", version))
                .map(PipelineRepository::version)
                .one();
    }

    /** One version, deleted pipeline or not: a run keeps the version it started with. */
    Mono<PipelineVersion> findVersion(String tenant, String name, int version) {
        return db.sql("SELECT " + VERSION_COLUMNS + " FROM pipeline_versions v "
                        + "WHERE v.tenant_id = :tenant AND v.name = :name AND v.version = :version")
                .bind("tenant", tenant).bind("name", name).bind("version", version)
                .map(PipelineRepository::version)
                .one();
    }

    /** The latest version of each pipeline named after {@code after}, by name, at most {@code limit}; definitions left out. */
    Flux<PipelineVersion> list(String tenant, String after, int limit) {
        return db.sql("SELECT v.name, v.version, NULL::text AS definition, v.created_at " + LATEST
                        + "WHERE p.tenant_id = :tenant AND p.deleted_at IS NULL AND p.name > :after "
                        + "ORDER BY p.name LIMIT :limit")
                .bind("tenant", tenant)
                .bind("after", after)
                .bind("limit", limit)
                .map(PipelineRepository::version)
                .all();
    }

    /** @return whether there was such a pipeline (not already deleted) */
    Mono<Boolean> delete(String tenant, String name) {
        return db.sql("UPDATE pipelines SET deleted_at = now() WHERE tenant_id = :tenant AND name = :name AND deleted_at IS NULL")
                .bind("tenant", tenant)
                .bind("name", name)
                .fetch().rowsUpdated()
                .map(rows -> rows > 0);
    }

    private static PipelineVersion version(Readable row) {
        return new PipelineVersion(row.get("name", String.class), row.get("version", Integer.class),
                row.get("definition", String.class), row.get("created_at", Instant.class));
    }
}
