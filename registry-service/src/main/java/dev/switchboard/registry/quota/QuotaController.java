package dev.switchboard.registry.quota;

import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.registry.api.AdminMetrics;
import dev.switchboard.registry.api.JsonBody;
import dev.switchboard.registry.security.TenantAccess;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.util.Map;

@RestController
@RequestMapping(path = "/admin/v1/tenants/{tenant}/quotas", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Quotas", description = "A tenant's limits, enforced by delivery and the gateway")
class QuotaController {

    private final QuotaService quotas;
    private final TenantAccess access;
    private final AdminMetrics metrics;

    QuotaController(QuotaService quotas, TenantAccess access, AdminMetrics metrics) {
        this.quotas = quotas;
        this.access = access;
        this.metrics = metrics;
    }

    @GetMapping
    @Operation(summary = "A tenant's quotas (platform admin, or the tenant's admin key)")
    Mono<TenantQuotas> get(@PathVariable String tenant) {
        return access.tenantAdmin(tenant).then(quotas.get(tenant));
    }

    @PutMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Replace a tenant's quotas; missing fields take defaults (platform admin only)")
    Mono<TenantQuotas> put(@PathVariable String tenant,
                           @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
                                   schema = @Schema(implementation = TenantQuotas.class)))
                           @RequestBody(required = false) Mono<Map<String, Object>> body) {
        return metrics.count("quotas", "replace", access.platformOn(tenant)
                .then(JsonBody.read(body))
                .map(request -> QuotaRules.merge(request, TenantQuotas.DEFAULT))
                .flatMap(replacement -> quotas.replace(tenant, replacement)));
    }
}
