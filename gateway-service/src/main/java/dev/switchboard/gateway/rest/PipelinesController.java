package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.gateway.auth.Caller;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

import java.util.List;

/**
 * Pipeline definitions on the public edge ({@code PROTOCOL.md}, "Workflows"), for API keys with
 * scope {@code admin}. The tenant is the caller's; names, bodies (JSON or YAML) and query values
 * are checked by workflow-service, whose answers — problems included — are relayed as they are.
 */
@RestController
class PipelinesController {

    /** Far above workflow-service's own limit (which answers its own 413), so a large body is not read twice over. */
    private static final int MAX_BODY = 1024 * 1024;

    private final WorkflowClient workflow;

    PipelinesController(WorkflowClient workflow) {
        this.workflow = workflow;
    }

    @PutMapping("/v1/pipelines/{name}")
    Mono<ResponseEntity<byte[]>> save(@PathVariable String name, @AuthenticationPrincipal Caller caller,
                                      @RequestHeader HttpHeaders headers, @RequestBody(required = false) byte[] body) {
        return Mono.defer(() -> {
            check(caller);
            if (body != null && body.length > MAX_BODY) {
                throw new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE, "A pipeline definition is at most " + MAX_BODY + " bytes.");
            }
            return workflow.forward(HttpMethod.PUT, caller.tenant(), "/pipelines/{name}", new Object[]{name},
                    new LinkedMultiValueMap<>(), headers.getContentType(), body == null ? new byte[0] : body);
        });
    }

    @GetMapping("/v1/pipelines")
    Mono<ResponseEntity<byte[]>> list(@AuthenticationPrincipal Caller caller, ServerWebExchange exchange) {
        return Mono.defer(() -> {
            check(caller);
            return workflow.forward(HttpMethod.GET, caller.tenant(), "/pipelines", new Object[0],
                    only(exchange, "after", "limit"), null, null);
        });
    }

    @GetMapping("/v1/pipelines/{name}")
    Mono<ResponseEntity<byte[]>> get(@PathVariable String name, @AuthenticationPrincipal Caller caller, ServerWebExchange exchange) {
        return Mono.defer(() -> {
            check(caller);
            return workflow.forward(HttpMethod.GET, caller.tenant(), "/pipelines/{name}", new Object[]{name},
                    only(exchange, "version"), null, null);
        });
    }

    @DeleteMapping("/v1/pipelines/{name}")
    Mono<ResponseEntity<byte[]>> delete(@PathVariable String name, @AuthenticationPrincipal Caller caller) {
        return Mono.defer(() -> {
            check(caller);
            return workflow.forward(HttpMethod.DELETE, caller.tenant(), "/pipelines/{name}", new Object[]{name},
                    new LinkedMultiValueMap<>(), null, null);
        });
    }

    private static void check(Caller caller) {
        if (!caller.mayAdminister()) {
            throw new SwitchboardException(ErrorCode.FORBIDDEN, "Managing pipelines needs an API key with scope admin.");
        }
    }

    /** The named query parameters (the first value of each), and no others. */
    private static MultiValueMap<String, String> only(ServerWebExchange exchange, String... names) {
        MultiValueMap<String, String> query = new LinkedMultiValueMap<>();
        for (String name : names) {
            List<String> values = exchange.getRequest().getQueryParams().get(name);
            if (values != null && !values.isEmpty()) {
                query.add(name, values.get(0));
            }
        }
        return query;
    }
}
