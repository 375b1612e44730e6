package dev.switchboard.registry.tenant;

import dev.switchboard.contracts.registry.TenantQuotas;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.Instant;

/** SQL on {@code tenants}. Every query names the live-tenant condition it relies on. */
@Repository
class TenantRepository {

    private final DatabaseClient db;

    TenantRepository(DatabaseClient db) {
        this.db = db;
    }

    /** Empty when the id is taken, by a live tenant or a deleted one (ids are never reused). */
    Mono<TenantRow> insert(String id, String name, byte[] secret, TenantQuotas q) {
        return db.sql("INSERT INTO tenants (id, name, client_secret_enc, publish_per_second, burst, max_connections, "
                        + "max_subscriptions_per_connection, max_payload_bytes) "
                        + "VALUES (:id, :name, :secret, :pps, :burst, :conns, :subs, :payload) "
                        + "ON CONFLICT (id) DO NOTHING RETURNING " + TenantRow.COLUMNS)
                .bind("id", id)
                .bind("name", name)
                .bind("secret", secret)
                .bind("pps", q.publishPerSecond())
                .bind("burst", q.burst())
                .bind("conns", q.maxConnections())
                .bind("subs", q.maxSubscriptionsPerConnection())
                .bind("payload", q.maxPayloadBytes())
                .map(TenantRow::from)
                .one();
    }

    Flux<TenantRow> page(String after, int limit) {
        return db.sql("SELECT " + TenantRow.COLUMNS + " FROM tenants WHERE deleted_at IS NULL AND id > :after "
                        + "ORDER BY id LIMIT :limit")
                .bind("after", after)
                .bind("limit", limit)
                .map(TenantRow::from)
                .all();
    }

    Mono<TenantRow> find(String id) {
        return db.sql("SELECT " + TenantRow.COLUMNS + " FROM tenants WHERE id = :id AND deleted_at IS NULL")
                .bind("id", id)
                .map(TenantRow::from)
                .one();
    }

    /** The row, locked against concurrent changes until the transaction ends. */
    Mono<TenantRow> lock(String id) {
        return db.sql("SELECT " + TenantRow.COLUMNS + " FROM tenants WHERE id = :id AND deleted_at IS NULL FOR UPDATE")
                .bind("id", id)
                .map(TenantRow::from)
                .one();
    }

    /** Takes a share lock, so a concurrent delete waits for the caller's transaction (and vice versa). */
    Mono<Boolean> lockShared(String id) {
        return db.sql("SELECT 1 AS one FROM tenants WHERE id = :id AND deleted_at IS NULL FOR SHARE")
                .bind("id", id)
                .map(row -> true)
                .one()
                .defaultIfEmpty(false);
    }

    Mono<Boolean> exists(String id) {
        return db.sql("SELECT 1 AS one FROM tenants WHERE id = :id AND deleted_at IS NULL")
                .bind("id", id)
                .map(row -> true)
                .one()
                .defaultIfEmpty(false);
    }

    Mono<TenantRow> update(String id, String name, TenantQuotas q) {
        return db.sql("UPDATE tenants SET name = :name, publish_per_second = :pps, burst = :burst, "
                        + "max_connections = :conns, max_subscriptions_per_connection = :subs, "
                        + "max_payload_bytes = :payload, updated_at = now() "
                        + "WHERE id = :id AND deleted_at IS NULL RETURNING " + TenantRow.COLUMNS)
                .bind("id", id)
                .bind("name", name)
                .bind("pps", q.publishPerSecond())
                .bind("burst", q.burst())
                .bind("conns", q.maxConnections())
                .bind("subs", q.maxSubscriptionsPerConnection())
                .bind("payload", q.maxPayloadBytes())
                .map(TenantRow::from)
                .one();
    }

    /** Marks the tenant deleted and wipes its secrets; false when there was no live tenant. */
    Mono<Boolean> softDelete(String id) {
        return db.sql("UPDATE tenants SET deleted_at = now(), updated_at = now(), client_secret_enc = NULL, "
                        + "previous_secret_enc = NULL, previous_secret_expires_at = NULL "
                        + "WHERE id = :id AND deleted_at IS NULL")
                .bind("id", id)
                .fetch().rowsUpdated()
                .map(n -> n > 0);
    }

    Mono<Long> deleteKeys(String id) {
        return db.sql("DELETE FROM api_keys WHERE tenant_id = :id").bind("id", id).fetch().rowsUpdated();
    }

    Mono<Long> deleteTopics(String id) {
        return db.sql("DELETE FROM topics WHERE tenant_id = :id").bind("id", id).fetch().rowsUpdated();
    }

    /** Makes {@code secret} current and keeps the old one for {@code grace}; returns when the old one expires. */
    Mono<Instant> rotate(String id, byte[] secret, Duration grace) {
        return db.sql("UPDATE tenants SET previous_secret_enc = client_secret_enc, "
                        + "previous_secret_expires_at = now() + :graceMs * interval '1 millisecond', "
                        + "client_secret_enc = :secret, updated_at = now() "
                        + "WHERE id = :id AND deleted_at IS NULL RETURNING previous_secret_expires_at")
                .bind("id", id)
                .bind("secret", secret)
                .bind("graceMs", grace.toMillis())
                .map(row -> row.get("previous_secret_expires_at", Instant.class))
                .one();
    }

    /** The current secret and, while its grace lasts, the previous one (null otherwise). */
    Mono<StoredSecrets> secrets(String id) {
        return db.sql("SELECT client_secret_enc, "
                        + "CASE WHEN previous_secret_expires_at > now() THEN previous_secret_enc END AS previous "
                        + "FROM tenants WHERE id = :id AND deleted_at IS NULL")
                .bind("id", id)
                .map(row -> new StoredSecrets(row.get("client_secret_enc", byte[].class), row.get("previous", byte[].class)))
                .one();
    }

    /** Wipes up to {@code limit} previous secrets whose grace is over; returns their tenants. */
    Flux<String> expirePreviousSecrets(int limit) {
        return db.sql("UPDATE tenants SET previous_secret_enc = NULL, previous_secret_expires_at = NULL "
                        + "WHERE id IN (SELECT id FROM tenants WHERE previous_secret_expires_at <= now() "
                        + "ORDER BY previous_secret_expires_at LIMIT :limit FOR UPDATE SKIP LOCKED) RETURNING id")
                .bind("limit", limit)
                .map(row -> row.get("id", String.class))
                .all();
    }

    record StoredSecrets(byte[] current, byte[] previous) {
    }
}
