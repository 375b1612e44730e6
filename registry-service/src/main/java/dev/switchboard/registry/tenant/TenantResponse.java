package dev.switchboard.registry.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.switchboard.contracts.registry.TenantQuotas;

import java.time.Instant;

/** A tenant as the admin API shows it; {@code clientSecret} only in the answer that created it. */
record TenantResponse(String id, String name, TenantQuotas quotas, Instant createdAt, Instant updatedAt,
                      @JsonInclude(JsonInclude.Include.NON_NULL) String clientSecret) {

    static TenantResponse of(TenantRow row) {
        return new TenantResponse(row.id(), row.name(), row.quotas(), row.createdAt(), row.updatedAt(), null);
    }

    static TenantResponse created(TenantRow row, String clientSecret) {
        return new TenantResponse(row.id(), row.name(), row.quotas(), row.createdAt(), row.updatedAt(), clientSecret);
    }
}
