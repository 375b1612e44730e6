package dev.switchboard.registry.key;

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
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.Map;

@RestController
@RequestMapping(path = "/admin/v1/tenants/{tenant}/keys", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "API keys", description = "A tenant's API keys (platform admin, or the tenant's admin key)")
class KeyController {

    private final KeyService keys;
    private final TenantAccess access;
    private final AdminMetrics metrics;

    KeyController(KeyService keys, TenantAccess access, AdminMetrics metrics) {
        this.keys = keys;
        this.access = access;
        this.metrics = metrics;
    }

    @Schema(name = "KeyCreate")
    record CreateRequest(@Schema(example = "backend", requiredMode = Schema.RequiredMode.REQUIRED) String name,
                         @Schema(example = "[\"publish\",\"subscribe\"]", requiredMode = Schema.RequiredMode.REQUIRED,
                                 allowableValues = {"publish", "subscribe", "admin"}) List<String> scopes) {
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Create an API key; the answer carries the key, shown only this once")
    Mono<KeyResponse> create(@PathVariable String tenant,
                             @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
                                     schema = @Schema(implementation = CreateRequest.class)))
                             @RequestBody(required = false) Mono<Map<String, Object>> body) {
        return metrics.count("key", "create", access.tenantAdmin(tenant)
                .then(JsonBody.read(body))
                .flatMap(request -> keys.create(tenant, request)));
    }

    @GetMapping
    @Operation(summary = "List a tenant's API keys by id (no secrets)")
    Mono<Page<KeyResponse>> list(@PathVariable String tenant, @RequestParam(required = false) String limit,
                                 @RequestParam(required = false) String cursor) {
        return access.tenantAdmin(tenant).then(keys.list(tenant, limit, cursor));
    }

    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Revoke an API key, effective immediately")
    Mono<Void> revoke(@PathVariable String tenant, @PathVariable String id) {
        return metrics.count("key", "delete", access.tenantAdmin(tenant).then(keys.revoke(tenant, id)));
    }
}
