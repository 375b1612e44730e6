package dev.switchboard.registry.quota;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.registry.api.Problems;
import dev.switchboard.registry.change.ChangeLog;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/** A tenant's quotas, kept on its {@code tenants} row. */
@Service
public class QuotaService {

    private final DatabaseClient db;
    private final ChangeLog changes;
    private final TransactionalOperator tx;

    QuotaService(DatabaseClient db, ChangeLog changes, TransactionalOperator tx) {
        this.db = db;
        this.changes = changes;
        this.tx = tx;
    }

    /** The quotas of a live tenant; 404 for an unknown or deleted one. */
    public Mono<TenantQuotas> get(String tenant) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(Problems.tenantNotFound(tenant));
        }
        return db.sql("""
                        SELECT publish_per_second, burst, max_connections, max_subscriptions_per_connection, max_payload_bytes
                        FROM tenants WHERE id = :id AND deleted_at IS NULL""")
                .bind("id", tenant)
                .map(QuotaRules::fromRow)
                .one()
                .switchIfEmpty(Mono.error(() -> Problems.tenantNotFound(tenant)));
    }

    Mono<TenantQuotas> replace(String tenant, TenantQuotas quotas) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(Problems.tenantNotFound(tenant));
        }
        Mono<TenantQuotas> work = db.sql("""
                        UPDATE tenants SET publish_per_second = :pps, burst = :burst, max_connections = :conns,
                               max_subscriptions_per_connection = :subs, max_payload_bytes = :payload, updated_at = now()
                        WHERE id = :id AND deleted_at IS NULL""")
                .bind("id", tenant)
                .bind("pps", quotas.publishPerSecond())
                .bind("burst", quotas.burst())
                .bind("conns", quotas.maxConnections())
                .bind("subs", quotas.maxSubscriptionsPerConnection())
                .bind("payload", quotas.maxPayloadBytes())
                .fetch().rowsUpdated()
                .flatMap(updated -> updated == 0
                        ? Mono.error(Problems.tenantNotFound(tenant))
                        : changes.record(tenant, RegistryChange.Kind.QUOTAS, null))
                .thenReturn(quotas);
        return tx.transactional(work);
    }
}
