package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.gateway.auth.Caller;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Runs on the public edge ({@code PROTOCOL.md}, "Workflows"): start one, read it, cancel it, for
 * API keys (start and cancel: scope publish or admin; read: subscribe too). The tenant is the
 * caller's; bodies and ids are checked by workflow-service, whose answers are relayed as they are.
 */
@RestController
class RunsController {

    /** A run request is data for a prompt: far above what a prompt needs, far below the memory of a request. */
    static final int MAX_BODY = 256 * 1024;

    private final WorkflowClient workflow;

    RunsController(WorkflowClient workflow) {
        this.workflow = workflow;
    }

    @PostMapping("/v1/pipelines/{name}/runs")
    Mono<ResponseEntity<byte[]>> start(@PathVariable String name, @AuthenticationPrincipal Caller caller,
                                       @RequestHeader HttpHeaders headers, @RequestBody(required = false) byte[] body) {
        return Mono.defer(() -> {
            if (!caller.mayStartRuns()) {
                throw forbidden("Starting a run needs an API key with scope publish or admin.");
            }
            if (body != null && body.length > MAX_BODY) {
                throw new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE, "A run request is at most " + MAX_BODY + " bytes.");
            }
            return workflow.forward(HttpMethod.POST, caller.tenant(), "/pipelines/{name}/runs", new Object[]{name},
                    new LinkedMultiValueMap<>(), headers.getContentType(), body == null ? new byte[0] : body);
        });
    }

    @GetMapping("/v1/runs/{run}")
    Mono<ResponseEntity<byte[]>> get(@PathVariable String run, @AuthenticationPrincipal Caller caller) {
        return Mono.defer(() -> {
            if (!caller.mayReadRuns()) {
                throw forbidden("Reading a run needs an API key with scope subscribe, publish or admin.");
            }
            return workflow.forward(HttpMethod.GET, caller.tenant(), "/runs/{run}", new Object[]{run},
                    new LinkedMultiValueMap<>(), null, null);
        });
    }

    @PostMapping("/v1/runs/{run}/cancel")
    Mono<ResponseEntity<byte[]>> cancel(@PathVariable String run, @AuthenticationPrincipal Caller caller) {
        return Mono.defer(() -> {
            if (!caller.mayStartRuns()) {
                throw forbidden("Cancelling a run needs an API key with scope publish or admin.");
            }
            return workflow.forward(HttpMethod.POST, caller.tenant(), "/runs/{run}/cancel", new Object[]{run},
                    new LinkedMultiValueMap<>(), null, null);
        });
    }

    private static SwitchboardException forbidden(String detail) {
        return new SwitchboardException(ErrorCode.FORBIDDEN, detail);
    }
}
