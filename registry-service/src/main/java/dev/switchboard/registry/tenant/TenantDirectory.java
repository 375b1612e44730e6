package dev.switchboard.registry.tenant;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.registry.api.Problems;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/** Whether a tenant is live, for the features that hang off one (keys, topics). */
@Component
public class TenantDirectory {

    private final TenantRepository tenants;

    TenantDirectory(TenantRepository tenants) {
        this.tenants = tenants;
    }

    /** Completes when the tenant is live; else fails with 404 not_found. */
    public Mono<Void> requireLive(String tenant) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(Problems.tenantNotFound(tenant));
        }
        return tenants.exists(tenant).flatMap(live -> live ? Mono.<Void>empty() : Mono.error(Problems.tenantNotFound(tenant)));
    }

    /**
     * Like {@link #requireLive} but inside the caller's transaction, holding a share lock on the
     * tenant row until it ends: a concurrent tenant delete then either runs first (and this fails)
     * or waits and also removes what the caller adds.
     */
    public Mono<Void> lockLive(String tenant) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(Problems.tenantNotFound(tenant));
        }
        return tenants.lockShared(tenant).flatMap(live -> live ? Mono.<Void>empty() : Mono.error(Problems.tenantNotFound(tenant)));
    }
}
