package dev.switchboard.workflow.pipeline;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.workflow.config.WorkflowProperties;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;

/**
 * Saving and reading pipeline definitions. A definition is checked in full before anything is
 * stored (the checks are CPU only, on the request's thread, bounded by the body limit and the
 * step limit); what is stored is its normalized JSON.
 */
@Service
class Pipelines {

    static final int DEFAULT_PAGE = 50;
    static final int MAX_PAGE = 100;

    /** The normalized form: fields in a fixed order, defaults written out, durations as ISO-8601. */
    private static final JsonMapper NORMAL = JsonMapper.builder().disable(DateTimeFeature.WRITE_DURATIONS_AS_TIMESTAMPS).build();

    private final PipelineRepository repository;
    private final DefinitionParser parser;
    private final int maxDefinitionBytes;

    Pipelines(PipelineRepository repository, WorkflowProperties properties, JsonSchemas schemas) {
        this.repository = repository;
        this.parser = new DefinitionParser(properties.providerNames(), properties.maxSteps(), schemas);
        this.maxDefinitionBytes = properties.maxDefinitionBytes();
    }

    Mono<PipelineResponse> save(String tenant, String name, byte[] body, MediaType contentType) {
        return Mono.fromCallable(() -> normalized(name, body, contentType))
                .flatMap(definition -> repository.save(tenant, name, definition))
                .map(PipelineResponse::of);
    }

    /** The definition checked and normalized, or the refusal that names what is wrong. */
    String normalized(String name, byte[] body, MediaType contentType) {
        checkName(name);
        if (body == null || body.length == 0) {
            throw InvalidDefinition.of("The body is empty: send the pipeline definition.");
        }
        if (body.length > maxDefinitionBytes) {
            throw new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE,
                    "A pipeline definition is at most " + maxDefinitionBytes + " bytes.");
        }
        PipelineDefinition definition = parser.parse(DefinitionReader.read(body, contentType));
        StepGraph.check(definition.steps());
        return NORMAL.writeValueAsString(definition);
    }

    Mono<PipelineResponse> get(String tenant, String name, Integer version) {
        return Mono.defer(() -> {
            checkName(name);
            if (version != null && version < 1) {
                throw SwitchboardException.invalid("'version' must be a positive integer.");
            }
            return repository.find(tenant, name, version);
        }).map(PipelineResponse::of).switchIfEmpty(Mono.error(() -> notFound(name, version)));
    }

    Mono<PipelineResponse.Page> list(String tenant, String after, Integer limit) {
        return Mono.defer(() -> {
            if (limit != null && (limit < 1 || limit > MAX_PAGE)) {
                throw SwitchboardException.invalid("'limit' must be from 1 to " + MAX_PAGE + ".");
            }
            int size = limit == null ? DEFAULT_PAGE : limit;
            return repository.list(tenant, after == null ? "" : after, size + 1).map(PipelineResponse::of).collectList()
                    .map(page -> page.size() > size
                            ? new PipelineResponse.Page(List.copyOf(page.subList(0, size)), page.get(size - 1).name())
                            : new PipelineResponse.Page(page, null));
        });
    }

    Mono<Void> delete(String tenant, String name) {
        return Mono.defer(() -> {
            checkName(name);
            return repository.delete(tenant, name);
        }).flatMap(deleted -> deleted ? Mono.<Void>empty() : Mono.error(notFound(name, null)));
    }

    private static void checkName(String name) {
        if (!DefinitionParser.NAME.matcher(name).matches()) {
            throw SwitchboardException.invalid("Invalid pipeline name '" + name + "': [a-z0-9][a-z0-9_-]*, at most 64 characters.");
        }
    }

    private static SwitchboardException notFound(String name, Integer version) {
        return SwitchboardException.notFound(version == null ? "No pipeline '" + name + "'."
                : "No version " + version + " of pipeline '" + name + "'.");
    }
}
