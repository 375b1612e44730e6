package dev.switchboard.workflow.pipeline;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.workflow.config.WorkflowProperties;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.util.List;

/**
 * Saving and reading pipeline definitions. A definition is checked in full before anything is
 * stored (the checks are CPU only, on the request's thread, bounded by the body limit and the
 * step limit); what is stored is its normalized JSON.
 */
@Service
public class Pipelines {

    static final int DEFAULT_PAGE = 50;
    static final int MAX_PAGE = 100;

    /** The normalized form: fields in a fixed order, defaults written out, durations as ISO-8601. */
    private static final JsonMapper NORMAL = JsonMapper.builder().disable(DateTimeFeature.WRITE_DURATIONS_AS_TIMESTAMPS).build();

    private final PipelineRepository repository;
    private final DefinitionParser parser;
    private final int maxDefinitionBytes;
    /** Versions never change: a run's steps read theirs from here, not from the database each time. */
    private final Cache<VersionKey, PipelineDefinition> versions = Caffeine.newBuilder().maximumSize(10_000).build();

    private record VersionKey(String tenant, String name, int version) {
    }

    /** A pipeline's latest version and its definition: what a new run pins. */
    public record Pinned(String name, int version, PipelineDefinition definition) {
    }

    Pipelines(PipelineRepository repository, WorkflowProperties properties, JsonSchemas schemas) {
        this.repository = repository;
        this.parser = new DefinitionParser(properties.providerNames(), properties.maxSteps(), schemas);
        this.maxDefinitionBytes = properties.maxDefinitionBytes();
    }

    Mono<PipelineResponse> save(String tenant, String name, byte[] body, MediaType contentType) {
        return Mono.fromCallable(() -> checked(name, body, contentType))
                .flatMap(definition -> repository.save(tenant, name, NORMAL.writeValueAsString(definition),
                        definition.trigger() == null ? null : definition.trigger().topic()))
                .map(PipelineResponse::of);
    }

    /** The definition checked and normalized, or the refusal that names what is wrong. */
    String normalized(String name, byte[] body, MediaType contentType) {
        return NORMAL.writeValueAsString(checked(name, body, contentType));
    }

    private PipelineDefinition checked(String name, byte[] body, MediaType contentType) {
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
        return definition;
    }

    /** A pipeline whose latest version has a trigger: what the trigger consumer watches; {@code savedAt}: when that version was saved. */
    public record Triggered(String tenant, String name, int version, String topic, Instant savedAt) {
    }

    /** The pipelines with a trigger, after {@code (tenant, name)} in that order, at most {@code limit}: a page of them. */
    public Flux<Triggered> triggered(String afterTenant, String afterName, int limit) {
        return repository.triggered(afterTenant, afterName, limit);
    }

    /** The latest version of a pipeline that is not deleted, or {@code 404 not_found}. */
    public Mono<Pinned> latest(String tenant, String name) {
        return get(tenant, name, null).map(found -> new Pinned(found.name(), found.version(),
                definition(new VersionKey(tenant, name, found.version()), found.definition())));
    }

    /** One version's definition, as a run that pinned it reads it. */
    public Mono<PipelineDefinition> version(String tenant, String name, int version) {
        VersionKey key = new VersionKey(tenant, name, version);
        PipelineDefinition cached = versions.getIfPresent(key);
        if (cached != null) {
            return Mono.just(cached);
        }
        return repository.findVersion(tenant, name, version).map(stored -> definition(key, stored.definition()))
                .switchIfEmpty(Mono.error(() -> notFound(name, version)));
    }

    /**
     * A stored definition read back. It was checked when saved; it is checked again, so a provider
     * removed from the configuration since then fails the run that needs it, naming the step.
     */
    private PipelineDefinition definition(VersionKey key, String stored) {
        return versions.get(key, k -> parser.parse(NORMAL.readTree(stored)));
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
