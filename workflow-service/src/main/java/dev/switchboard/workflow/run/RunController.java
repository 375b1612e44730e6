package dev.switchboard.workflow.run;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Runs of one tenant, for the gateway ({@code /v1/pipelines/{name}/runs}, {@code /v1/runs/{run}}):
 * the gateway has authenticated the caller and checked its scope, and names its tenant.
 */
@RestController
class RunController {

    private static final String TENANT = "/internal/v1/tenants/{tenant}";

    private final Runs runs;

    RunController(Runs runs) {
        this.runs = runs;
    }

    /** {@code 201} for a new run, {@code 200} with {@code "duplicate": true} when the request's {@code id} started one before. */
    @PostMapping(value = TENANT + "/pipelines/{name}/runs", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<RunView.Started>> start(@PathVariable String tenant, @PathVariable String name,
                                                @RequestBody(required = false) byte[] body) {
        return runs.start(tenant, name, body).map(started -> ResponseEntity
                .status(started.duplicate() ? HttpStatus.OK : HttpStatus.CREATED)
                .header(HttpHeaders.LOCATION, "/v1/runs/" + started.run())
                .body(started));
    }

    @GetMapping(value = TENANT + "/runs/{run}", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<RunView> get(@PathVariable String tenant, @PathVariable String run) {
        return runs.get(tenant, run);
    }

    @PostMapping(value = TENANT + "/runs/{run}/cancel", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<RunView> cancel(@PathVariable String tenant, @PathVariable String run) {
        return runs.cancel(tenant, run);
    }
}
