package dev.switchboard.registry.change;

import dev.switchboard.contracts.registry.RegistryChange;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Records a change in the caller's transaction and announces it with {@code NOTIFY}, which
 * PostgreSQL delivers only when that transaction commits — so the feed never shows a change that
 * rolled back, and never misses one that committed.
 */
@Component
public class ChangeLog {

    /** The NOTIFY channel; the payload is the change id. */
    public static final String CHANNEL = "registry_changes";

    private final DatabaseClient db;

    public ChangeLog(DatabaseClient db) {
        this.db = db;
    }

    /** Call inside the transaction that makes the change. {@code ref} may be null (whole tenant). */
    public Mono<Long> record(String tenant, RegistryChange.Kind kind, String ref) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("INSERT INTO changes (tenant_id, kind, ref) VALUES (:tenant, :kind, :ref) RETURNING id")
                .bind("tenant", tenant)
                .bind("kind", kind.wire());
        insert = ref == null ? insert.bindNull("ref", String.class) : insert.bind("ref", ref);
        return insert.map(row -> row.get("id", Long.class))
                .one()
                .flatMap(id -> db.sql("SELECT pg_notify('" + CHANNEL + "', :id)")
                        .bind("id", Long.toString(id))
                        .then()
                        .thenReturn(id));
    }
}
