package dev.switchboard.registry.change;

import dev.switchboard.contracts.registry.RegistryChange;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import reactor.core.publisher.Mono;

/**
 * Records a change in the caller's transaction and announces it with {@code NOTIFY}, which
 * PostgreSQL delivers only when that transaction commits — so the feed never shows a change that
 * rolled back, and never misses one that committed.
 *
 * <p>Writers first take a transaction-scoped advisory lock, held until commit, so change ids are
 * handed out in commit order: a reader that has seen id {@code n} has seen every committed id below
 * it, and a cursor {@code id > after} can never skip a slow transaction's row. Call
 * {@link #record} as the last statement of the transaction (the lock serializes only the tail of
 * admin writes, which are rare).
 */
@Component
public class ChangeLog {

    /** The NOTIFY channel; the payload is the change id. */
    public static final String CHANNEL = "registry_changes";

    /** The advisory lock key of change writers ("regchang"). */
    static final long WRITER_LOCK = 0x7265676368616e67L;

    private final DatabaseClient db;

    public ChangeLog(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Call inside the transaction that makes the change. {@code ref} may be null (whole tenant).
     *
     * @throws IllegalStateException (as an error signal) outside a transaction, where the lock and
     *                               the commit-time NOTIFY would mean nothing
     */
    public Mono<Long> record(String tenant, RegistryChange.Kind kind, String ref) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("INSERT INTO changes (tenant_id, kind, ref) VALUES (:tenant, :kind, :ref) RETURNING id")
                .bind("tenant", tenant)
                .bind("kind", kind.wire());
        DatabaseClient.GenericExecuteSpec spec = ref == null ? insert.bindNull("ref", String.class) : insert.bind("ref", ref);
        return requireTransaction()
                .then(db.sql("SELECT pg_advisory_xact_lock(:key)").bind("key", WRITER_LOCK).then())
                .then(spec.map(row -> row.get("id", Long.class)).one())
                .flatMap(id -> db.sql("SELECT pg_notify('" + CHANNEL + "', :id)")
                        .bind("id", Long.toString(id))
                        .then()
                        .thenReturn(id));
    }

    private static Mono<Void> requireTransaction() {
        return TransactionSynchronizationManager.forCurrentTransaction()
                .filter(TransactionSynchronizationManager::isActualTransactionActive)
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("ChangeLog.record must run inside a transaction")))
                .onErrorMap(e -> !(e instanceof IllegalStateException),
                        e -> new IllegalStateException("ChangeLog.record must run inside a transaction", e))
                .then();
    }
}
