package dev.switchboard.registry.security;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.Scope;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registry.api.Problems;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Who may do what on {@code /admin/v1}, decided before a request body is even read:
 * <ul>
 * <li>the platform admin token may do everything;</li>
 * <li>a tenant API key asking about any other tenant gets {@code 404 not_found}, worded exactly like
 * a tenant that does not exist, so it learns nothing about that tenant;</li>
 * <li>on its own tenant, a key without the {@code admin} scope gets {@code 403}; with it, it may
 * manage keys and topics, read its tenant and quotas and rotate its client secret, but not
 * create, list, change or delete tenants or set quotas ({@code 403}).</li>
 * </ul>
 */
@Component
public class TenantAccess {

    /** Operations on the tenant collection itself: the platform admin only. */
    public Mono<Void> platform() {
        return caller().flatMap(caller -> caller instanceof Caller.Platform
                ? Mono.<Void>empty()
                : Mono.error(forbidden("Only the platform admin token may do this.")));
    }

    /** What a tenant's own admin key may do: keys, topics, reading the tenant and quotas, rotating the secret. */
    public Mono<Void> tenantAdmin(String tenant) {
        return check(tenant, false);
    }

    /** Changes to a tenant's record or quotas: the platform admin only; other tenants' keys still learn nothing. */
    public Mono<Void> platformOn(String tenant) {
        return check(tenant, true);
    }

    private Mono<Void> check(String tenant, boolean platformOnly) {
        return caller().flatMap(caller -> {
            if (caller instanceof Caller.Platform) {
                return Mono.empty();
            }
            if (caller instanceof Caller.TenantKey key) {
                if (!key.key().tenant().equals(tenant)) {
                    return Mono.error(Problems.tenantNotFound(tenant));
                }
                if (!key.key().has(Scope.ADMIN)) {
                    return Mono.error(forbidden("This API key lacks the admin scope."));
                }
                if (platformOnly) {
                    return Mono.error(forbidden("Only the platform admin token may do this."));
                }
                return Mono.empty();
            }
            return Mono.error(forbidden("This credential may not do this."));
        });
    }

    private static Mono<Caller> caller() {
        return ReactiveSecurityContextHolder.getContext()
                .map(SecurityContext::getAuthentication)
                .filter(authentication -> authentication.getPrincipal() instanceof Caller)
                .map(authentication -> (Caller) authentication.getPrincipal())
                .switchIfEmpty(Mono.error(() -> new SwitchboardException(ErrorCode.UNAUTHENTICATED,
                        "A valid bearer token is required (Authorization: Bearer …).")));
    }

    private static SwitchboardException forbidden(String detail) {
        return new SwitchboardException(ErrorCode.FORBIDDEN, detail);
    }
}
