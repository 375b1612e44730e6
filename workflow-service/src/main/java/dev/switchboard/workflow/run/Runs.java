package dev.switchboard.workflow.run;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.workflow.config.WorkflowProperties;
import dev.switchboard.workflow.pipeline.PipelineDefinition;
import dev.switchboard.workflow.pipeline.Pipelines;
import dev.switchboard.workflow.pipeline.Step;
import dev.switchboard.workflow.pipeline.Templates;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Starting, reading and cancelling runs ({@code PROTOCOL.md}, "Workflows"). A run started over
 * REST gets a trigger event made of the request: its id is the request's {@code id} when given
 * (so a client that retries a lost answer starts one run, not two), else a new one.
 */
@Service
class Runs {

    static final String REQUESTED = "switchboard.run.requested";
    private static final int MAX_ID_LENGTH = 128;
    private static final Set<String> FIELDS = Set.of("data", "output", "id");
    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Pipelines pipelines;
    private final RunTransitions transitions;
    private final RunRepository repository;
    private final RunOutbox outbox;
    private final RunWorker worker;
    private final DeliveryPublisher delivery;
    private final Duration timeout;

    Runs(Pipelines pipelines, RunTransitions transitions, RunRepository repository, RunOutbox outbox, RunWorker worker,
         DeliveryPublisher delivery, WorkflowProperties properties) {
        this.pipelines = pipelines;
        this.transitions = transitions;
        this.repository = repository;
        this.outbox = outbox;
        this.worker = worker;
        this.delivery = delivery;
        this.timeout = properties.runs().publishTimeout();
    }

    Mono<RunView.Started> start(String tenant, String pipeline, byte[] body) {
        return Mono.deferContextual(reactor -> {
            ObjectNode request = request(body);
            String traceparent = RunTracing.current(reactor);
            return pipelines.latest(tenant, pipeline).flatMap(pinned -> {
                ObjectNode trigger = JSON.createObjectNode()
                        .put("specversion", "1.0")
                        .put("id", request.has("id") ? request.get("id").asString() : UUID.randomUUID().toString())
                        .put("type", REQUESTED)
                        .put("source", "/v1/pipelines/" + pinned.name() + "/runs")
                        .put("time", Instant.now().toString());
                if (traceparent != null) {
                    // The run's steps continue the trace of the request that started it.
                    trigger.put("traceparent", traceparent);
                }
                trigger.set("data", request.has("data") ? request.get("data") : JSON.createObjectNode());
                String output = outputTopic(pinned.definition(), request, trigger);
                return delivery.topicExists(tenant, output, timeout)
                        .onErrorMap(e -> !(e instanceof SwitchboardException), e -> new SwitchboardException(ErrorCode.UNAVAILABLE,
                                "The delivery service is unavailable; retry shortly."))
                        .flatMap(exists -> exists ? transitions.create(tenant, pinned, output, trigger, null, null)
                                : Mono.error(new SwitchboardException(ErrorCode.TOPIC_NOT_FOUND, "The output topic '" + output
                                + "' matches no topic of the tenant: declare it (or a pattern of it) first.")));
            }).doOnNext(created -> {
                if (!created.duplicate()) {
                    worker.wake();
                }
            }).map(created -> new RunView.Started(created.run().toString(), created.pipeline(), created.version(),
                    created.outputTopic(), created.causationId(), created.duplicate()));
        });
    }

    private static ObjectNode request(byte[] body) {
        if (body == null || body.length == 0) {
            return JSON.createObjectNode();
        }
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JacksonException e) {
            throw SwitchboardException.invalid("The body is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode()) {
            return JSON.createObjectNode();
        }
        if (!node.isObject()) {
            throw SwitchboardException.invalid("The body must be a JSON object: {\"data\": …, \"output\"?: topic, \"id\"?: key}.");
        }
        List<String> unknown = new ArrayList<>();
        node.propertyNames().forEach(name -> {
            if (!FIELDS.contains(name)) {
                unknown.add(name);
            }
        });
        if (!unknown.isEmpty()) {
            throw SwitchboardException.invalid("Unknown field" + (unknown.size() == 1 ? " '" : "s '") + String.join("', '", unknown)
                    + "'; a run request has data, output and id.");
        }
        JsonNode output = node.get("output");
        if (output != null && !(output.isString() && TopicNames.isValidTopicName(output.asString()))) {
            throw SwitchboardException.invalid("'output' must be a topic name (segments of [a-z0-9_-] joined by dots), got " + output + ".");
        }
        JsonNode id = node.get("id");
        if (id != null && !(id.isString() && printable(id.asString()))) {
            throw SwitchboardException.invalid("'id' must be 1 to " + MAX_ID_LENGTH
                    + " printable ASCII characters without spaces, got " + id + ".");
        }
        return (ObjectNode) node;
    }

    private static boolean printable(String s) {
        return !s.isEmpty() && s.length() <= MAX_ID_LENGTH && s.chars().allMatch(c -> c > 0x20 && c < 0x7f);
    }

    private static String outputTopic(PipelineDefinition definition, ObjectNode request, JsonNode trigger) {
        if (request.has("output")) {
            return request.get("output").asString();
        }
        if (definition.output() == null) {
            throw SwitchboardException.invalid("The pipeline names no output topic: say where the answer goes with \"output\".");
        }
        try {
            return Templates.outputTopic(definition.output(), trigger);
        } catch (IllegalArgumentException e) {
            throw SwitchboardException.invalid("The pipeline's output '" + definition.output() + "' names the trigger event's "
                    + "attributes, and a run started over REST has none of them: say where the answer goes with \"output\".");
        }
    }

    Mono<RunView> get(String tenant, String run) {
        return Mono.defer(() -> {
            UUID id = runId(run);
            return repository.findRun(tenant, id).switchIfEmpty(Mono.error(() -> notFound(run)))
                    .flatMap(row -> Mono.zip(pipelines.version(tenant, row.pipeline(), row.version()),
                                    repository.steps(tenant, id).collectList(), repository.attempts(tenant, id).collectList())
                            .map(parts -> view(row, parts.getT1(), parts.getT2(), parts.getT3())));
        });
    }

    /** Cancels a running run; a run that has ended already is {@code 409 conflict}. */
    Mono<RunView> cancel(String tenant, String run) {
        return Mono.defer(() -> {
            UUID id = runId(run);
            return transitions.cancel(tenant, id, "cancelled", "cancelled over the API")
                    .switchIfEmpty(Mono.error(() -> notFound(run)))
                    .flatMap(ended -> {
                        if (ended.isPresent()) {
                            return Mono.error(new SwitchboardException(ErrorCode.CONFLICT, "Run " + run + " is "
                                    + ended.get() + " already; only a running run can be cancelled."));
                        }
                        return stopped(new RunKey(tenant, id)).then(get(tenant, run));
                    });
        });
    }

    /**
     * Cancels a run for a reason of the service's own ({@code unwatched}): its open steps end, this
     * replica's model calls stop at once, and {@code ai.failed} carries {@code error}.
     *
     * @return whether this call ended it (false: it had ended already, or is gone)
     */
    Mono<Boolean> end(RunKey key, String error, String detail) {
        return transitions.cancel(key.tenant(), key.run(), error, detail)
                .flatMap(ended -> ended.isPresent() ? Mono.just(false) : stopped(key).thenReturn(true))
                .defaultIfEmpty(false);
    }

    /** After a cancel: this replica's attempts of the run stop, and its ai.failed is published. */
    private Mono<Void> stopped(RunKey key) {
        worker.stopLocal(key);
        return outbox.flush(key).onErrorResume(e -> Mono.empty());
    }

    private static RunView view(RunRepository.RunRow row, PipelineDefinition definition, List<RunRepository.StepRow> steps,
                                List<RunRepository.AttemptRow> attempts) {
        Map<String, RunRepository.StepRow> byId = steps.stream().collect(Collectors.toMap(RunRepository.StepRow::step, s -> s));
        Map<String, List<RunView.AttemptView>> attemptsOf = attempts.stream().collect(Collectors.groupingBy(
                RunRepository.AttemptRow::step, Collectors.mapping(a -> new RunView.AttemptView(a.attempt(), a.worker(),
                        a.startedAt(), a.finishedAt(), a.outcome(), a.error(), a.tokens()), Collectors.toList())));
        List<RunView.StepView> stepViews = new ArrayList<>();
        for (Step step : definition.steps()) {
            RunRepository.StepRow s = byId.get(step.id());
            stepViews.add(new RunView.StepView(step.id(), step.type(), s == null ? "waiting" : s.status(),
                    s == null ? null : s.output(), s == null ? null : s.error(), attemptsOf.getOrDefault(step.id(), List.of())));
        }
        return new RunView(row.run().toString(), row.pipeline(), row.version(), row.status(), row.outputTopic(),
                row.causationId(), row.parentRun() == null ? null : new RunView.Parent(row.parentRun().toString(), row.parentStep()),
                row.createdAt(), row.finishedAt(), row.answer(), row.error(), stepViews);
    }

    private static UUID runId(String run) {
        try {
            return UUID.fromString(run);
        } catch (IllegalArgumentException e) {
            throw notFound(run);
        }
    }

    private static SwitchboardException notFound(String run) {
        return SwitchboardException.notFound("No run '" + run + "'.");
    }
}
