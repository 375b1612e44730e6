package dev.switchboard.registry.tenant;

import dev.switchboard.registry.api.AdminMetrics;
import dev.switchboard.registry.api.JsonBody;
import dev.switchboard.registry.api.Page;
import dev.switchboard.registry.security.TenantAccess;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.util.Map;

@RestController
@RequestMapping(path = "/admin/v1/tenants", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Tenants")
class TenantController {

    static final String MERGE_PATCH_JSON = "application/merge-patch+json";

    private final TenantService tenants;
    private final TenantAccess access;
    private final AdminMetrics metrics;

    TenantController(TenantService tenants, TenantAccess access, AdminMetrics metrics) {
        this.tenants = tenants;
        this.access = access;
        this.metrics = metrics;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Create a tenant; the answer carries its client secret, shown only this once (platform admin)")
    Mono<TenantResponse> create(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
                                        schema = @Schema(implementation = TenantRequests.Create.class)))
                                @RequestBody(required = false) Mono<Map<String, Object>> body) {
        return metrics.count("tenant", "create", access.platform()
                .then(JsonBody.read(body))
                .flatMap(tenants::create));
    }

    @GetMapping
    @Operation(summary = "List live tenants by id, a page at a time (platform admin)")
    Mono<Page<TenantResponse>> list(@RequestParam(required = false) String limit,
                                    @RequestParam(required = false) String cursor) {
        return access.platform().then(tenants.list(limit, cursor));
    }

    @GetMapping("/{tenant}")
    @Operation(summary = "One tenant (platform admin, or the tenant's admin key)")
    Mono<TenantResponse> get(@PathVariable String tenant) {
        return access.tenantAdmin(tenant).then(tenants.get(tenant));
    }

    @PatchMapping(path = "/{tenant}", consumes = {MediaType.APPLICATION_JSON_VALUE, MERGE_PATCH_JSON})
    @Operation(summary = "Merge-patch a tenant's name and/or quotas (platform admin)")
    Mono<TenantResponse> patch(@PathVariable String tenant,
                               @io.swagger.v3.oas.annotations.parameters.RequestBody(content = {
                                       @Content(mediaType = MERGE_PATCH_JSON, schema = @Schema(implementation = TenantRequests.Patch.class)),
                                       @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = TenantRequests.Patch.class))})
                               @RequestBody(required = false) Mono<Map<String, Object>> body) {
        return metrics.count("tenant", "update", access.platformOn(tenant)
                .then(JsonBody.read(body))
                .flatMap(patch -> tenants.patch(tenant, patch)));
    }

    @DeleteMapping("/{tenant}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Delete a tenant: its keys and topics go, its id is retired forever (platform admin)")
    Mono<Void> delete(@PathVariable String tenant) {
        return metrics.count("tenant", "delete", access.platformOn(tenant).then(tenants.delete(tenant)));
    }

    @PostMapping("/{tenant}/client-secret")
    @Operation(summary = "Rotate the client secret; the previous one verifies until previousValidUntil")
    Mono<ClientSecretResponse> rotateClientSecret(@PathVariable String tenant) {
        return metrics.count("client_secret", "rotate", access.tenantAdmin(tenant).then(tenants.rotateClientSecret(tenant)));
    }
}
