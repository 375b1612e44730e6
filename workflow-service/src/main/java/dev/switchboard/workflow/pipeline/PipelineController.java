package dev.switchboard.workflow.pipeline;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Pipeline definitions of one tenant, for the gateway ({@code /v1/pipelines}, scope {@code admin}):
 * the gateway has authenticated the caller and checked its scope, and names its tenant.
 */
@RestController
class PipelineController {

    private static final String BASE = "/internal/v1/tenants/{tenant}/pipelines";

    private final Pipelines pipelines;

    PipelineController(Pipelines pipelines) {
        this.pipelines = pipelines;
    }

    /** Every save is a new version: {@code 201} with the version's number and its normalized definition. */
    @PutMapping(value = BASE + "/{name}", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<PipelineResponse>> save(@PathVariable String tenant, @PathVariable String name,
                                                @RequestHeader HttpHeaders headers,
                                                @RequestBody(required = false) byte[] body) {
        return pipelines.save(tenant, name, body, headers.getContentType())
                .map(saved -> ResponseEntity.status(HttpStatus.CREATED)
                        .header(HttpHeaders.LOCATION, "/v1/pipelines/" + saved.name() + "?version=" + saved.version())
                        .body(saved));
    }

    @GetMapping(value = BASE, produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<PipelineResponse.Page> list(@PathVariable String tenant, @RequestParam(required = false) String after,
                                     @RequestParam(required = false) Integer limit) {
        return pipelines.list(tenant, after, limit);
    }

    @GetMapping(value = BASE + "/{name}", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<PipelineResponse> get(@PathVariable String tenant, @PathVariable String name,
                               @RequestParam(required = false) Integer version) {
        return pipelines.get(tenant, name, version);
    }

    @DeleteMapping(BASE + "/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    Mono<Void> delete(@PathVariable String tenant, @PathVariable String name) {
        return pipelines.delete(tenant, name);
    }
}
