package dev.switchboard.registry.topic;

import dev.switchboard.registry.api.AdminMetrics;
import dev.switchboard.registry.api.JsonBody;
import dev.switchboard.registry.api.Page;
import dev.switchboard.registry.security.TenantAccess;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.util.Map;

@RestController
@RequestMapping(path = "/admin/v1/tenants/{tenant}/topics", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Topics", description = "Topic and pattern declarations (platform admin, or the tenant's admin key)")
class TopicController {

    private final TopicService topics;
    private final TenantAccess access;
    private final AdminMetrics metrics;

    TopicController(TopicService topics, TenantAccess access, AdminMetrics metrics) {
        this.topics = topics;
        this.access = access;
        this.metrics = metrics;
    }

    @Schema(name = "TopicDeclaration", description = "Every field optional; absent fields take the defaults shown")
    record TopicRequest(
            @Schema(example = "1", description = "1..256; may only grow") Integer partitions,
            @Schema(example = "P7D", description = "ISO-8601, PT1M..P3650D") String retention,
            @Schema(example = "PT24H", description = "ISO-8601, PT0S..P30D, at most retention") String dedupWindow,
            @Schema(nullable = true, description = "ISO-8601, PT1S..retention, or null") String defaultTtl,
            @Schema(example = "65536", description = "1..1048576") Integer maxPayloadBytes,
            @Schema(description = "1 <= min <= max <= 1000000; default {min:1,max:1}") Map<String, Integer> schemaVersions,
            @Schema(example = "100000", description = "1..10000000000") Long maxLag,
            @Schema(example = "throttle", allowableValues = {"throttle", "shed", "none"}) String lagPolicy,
            @Schema(example = "5", description = "1..100") Integer maxAttempts,
            @Schema(description = "perSecond 1..1000000, burst perSecond..10000000; default {perSecond:1000,burst:2000}")
            Map<String, Integer> publishRate) {
    }

    @PutMapping(path = "/{name}", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Declare or replace a topic or pattern (chat.*, ai.>)", responses = {
            @ApiResponse(responseCode = "201", description = "declared"),
            @ApiResponse(responseCode = "200", description = "replaced")})
    Mono<ResponseEntity<TopicResponse>> put(@PathVariable String tenant,
                                            @Parameter(description = "a topic name or pattern; '>' may be sent raw or as %3E")
                                            @PathVariable String name,
                                            @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
                                                    schema = @Schema(implementation = TopicRequest.class)))
                                            @RequestBody(required = false) Mono<Map<String, Object>> body) {
        return metrics.count("topic", "put", access.tenantAdmin(tenant)
                .then(JsonBody.read(body))
                .flatMap(declaration -> topics.put(tenant, name, declaration))
                .map(put -> ResponseEntity.status(put.created() ? HttpStatus.CREATED : HttpStatus.OK).body(put.topic())));
    }

    @GetMapping
    @Operation(summary = "List a tenant's declarations by name")
    Mono<Page<TopicResponse>> list(@PathVariable String tenant, @RequestParam(required = false) String limit,
                                   @RequestParam(required = false) String cursor) {
        return access.tenantAdmin(tenant).then(topics.list(tenant, limit, cursor));
    }

    @GetMapping("/{name}")
    @Operation(summary = "A declaration, or the effective settings of a concrete name from its most specific pattern (declaredBy)")
    Mono<TopicResponse> get(@PathVariable String tenant, @PathVariable String name) {
        return access.tenantAdmin(tenant).then(topics.get(tenant, name));
    }

    @DeleteMapping("/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Delete a declaration")
    Mono<Void> delete(@PathVariable String tenant, @PathVariable String name) {
        return metrics.count("topic", "delete", access.tenantAdmin(tenant).then(Mono.defer(() -> topics.delete(tenant, name))));
    }
}
