package dev.switchboard.registry.tenant;

import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.registry.quota.QuotaRules;
import io.r2dbc.spi.Readable;

import java.time.Instant;

/** The public columns of a live {@code tenants} row; secrets are read only where needed. */
record TenantRow(String id, String name, TenantQuotas quotas, Instant createdAt, Instant updatedAt) {

    static final String COLUMNS = "id, name, publish_per_second, burst, max_connections, "
            + "max_subscriptions_per_connection, max_payload_bytes, created_at, updated_at";

    static TenantRow from(Readable row) {
        return new TenantRow(row.get("id", String.class), row.get("name", String.class), QuotaRules.fromRow(row),
                row.get("created_at", Instant.class), row.get("updated_at", Instant.class));
    }
}
