package dev.switchboard.registry.key;

import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.Scope;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.Set;

/** SQL on {@code api_keys}; the hash is written once and only ever compared. */
@Repository
class KeyRepository {

    private final DatabaseClient db;

    KeyRepository(DatabaseClient db) {
        this.db = db;
    }

    Mono<KeyRow> insert(String tenant, String id, String name, List<Scope> scopes, byte[] hash) {
        return db.sql("INSERT INTO api_keys (tenant_id, id, name, scopes, key_hash) "
                        + "VALUES (:tenant, :id, :name, :scopes, :hash) RETURNING " + KeyRow.COLUMNS)
                .bind("tenant", tenant)
                .bind("id", id)
                .bind("name", name)
                .bind("scopes", scopes.stream().map(Scope::wire).toArray(String[]::new))
                .bind("hash", hash)
                .map(KeyRow::from)
                .one();
    }

    Flux<KeyRow> page(String tenant, String after, int limit) {
        return db.sql("SELECT " + KeyRow.COLUMNS + " FROM api_keys WHERE tenant_id = :tenant AND id > :after "
                        + "ORDER BY id LIMIT :limit")
                .bind("tenant", tenant)
                .bind("after", after)
                .bind("limit", limit)
                .map(KeyRow::from)
                .all();
    }

    Mono<Boolean> delete(String tenant, String id) {
        return db.sql("DELETE FROM api_keys WHERE tenant_id = :tenant AND id = :id")
                .bind("tenant", tenant)
                .bind("id", id)
                .fetch().rowsUpdated()
                .map(n -> n > 0);
    }

    /** The key with this hash, if it exists and its tenant is live. */
    Mono<KeyPrincipal> findLive(byte[] hash) {
        return db.sql("SELECT k.tenant_id, k.id, k.scopes FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
                        + "WHERE k.key_hash = :hash AND t.deleted_at IS NULL")
                .bind("hash", hash)
                .map(row -> new KeyPrincipal(row.get("tenant_id", String.class), row.get("id", String.class),
                        Set.copyOf(KeyRow.scopes(row.get("scopes", String[].class)))))
                .one();
    }
}
