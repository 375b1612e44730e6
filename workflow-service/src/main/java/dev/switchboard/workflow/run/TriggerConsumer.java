package dev.switchboard.workflow.run;

import dev.switchboard.contracts.names.TopicPattern;
import dev.switchboard.platform.lifecycle.PeriodicWork;
import dev.switchboard.workflow.config.WorkflowProperties;
import dev.switchboard.workflow.pipeline.Pipelines;
import dev.switchboard.workflow.pipeline.Templates;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Starts runs from trigger events ({@code PROTOCOL.md}, "Workflows"): each pipeline whose latest
 * version has a {@code trigger} on a topic is a consumer group of that topic on delivery-service
 * ({@code wf-<pipeline>}, starting at the events published after it first polls), polled every
 * {@code triggerPollInterval} by whichever replica gets there — the group leases each event to
 * one of them. An event of one of the trigger's {@code types} (or any, without types) starts a run
 * whose trigger is that event, once per event id: a redelivered event (a replica died before its
 * ack, the group was sought back) finds its run and starts nothing. Then the event is acked. An
 * event that cannot start a run (its output topic does not exist) is nacked with the reason, so
 * after the topic's {@code maxAttempts} it sits in {@code {topic}.dlq}, visible, instead of vanishing.
 *
 * <p>A trigger on a topic pattern ({@code chat.*}, {@code support.>}) is the same group on every
 * topic of the tenant that matches: at each poll delivery-service lists the matching topics where the
 * group has something to lease (a page of {@value #PAGE} at a time, a topic the group never polled
 * included), and only those are polled, {@value #TOPIC_CONCURRENCY} at a time. A topic whose first
 * event came after the pipeline's version was saved — the chat a user just opened with their first
 * question — starts its group at its oldest event, so that question starts a run; an older topic at
 * its head, as a plain trigger does. Dead-letter topics never match a pattern unless it names them.
 */
@Component
class TriggerConsumer extends PeriodicWork {

    private static final Logger log = LoggerFactory.getLogger(TriggerConsumer.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final int PAGE = 500;
    static final int BATCH = 100;
    /** Batches one topic's group may take in one poll of the triggers. */
    static final int MAX_BATCHES = 10;
    private static final int CONCURRENCY = 16;
    static final int TOPIC_CONCURRENCY = 4;
    private static final Duration ACK_DEADLINE = Duration.ofSeconds(60);
    private static final Duration NACK_DELAY = Duration.ofSeconds(5);

    private final Pipelines pipelines;
    private final RunTransitions transitions;
    private final RunWorker worker;
    private final DeliveryPublisher delivery;
    private final WebClient web;
    private final WorkflowProperties.Runs settings;
    private final Map<String, String> problems = new ConcurrentHashMap<>();
    private final Counter started;

    TriggerConsumer(Pipelines pipelines, RunTransitions transitions, RunWorker worker, DeliveryPublisher delivery,
                    ServiceClients clients, WorkflowProperties properties, MeterRegistry meters) {
        super(Duration.ZERO, properties.runs().triggerPollInterval());
        this.pipelines = pipelines;
        this.transitions = transitions;
        this.worker = worker;
        this.delivery = delivery;
        this.settings = properties.runs();
        this.web = clients.delivery();
        this.started = Counter.builder("switchboard.workflow.trigger.runs").description("Runs started by trigger events")
                .register(meters);
    }

    /** The consumer group of a pipeline's trigger: {@code wf-<name>}, a long name shortened with its hash to fit 64 characters. */
    static String group(String pipeline) {
        String group = "wf-" + pipeline;
        if (group.length() <= 64) {
            return group;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(pipeline.getBytes(StandardCharsets.UTF_8));
            return group.substring(0, 55) + "-" + HexFormat.of().formatHex(hash, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected Mono<?> runOnce() {
        return sweep(null, null);
    }

    @Override
    protected void failed(Throwable error) {
        log.warn("Polling the pipelines' triggers failed; trying again at the next poll: {}", error.toString());
    }

    /** Every triggered pipeline, a page at a time. */
    private Mono<Void> sweep(String afterTenant, String afterName) {
        return pipelines.triggered(afterTenant == null ? "" : afterTenant, afterName == null ? "" : afterName, PAGE)
                .collectList()
                .flatMap(page -> Flux.fromIterable(page)
                        .flatMap(t -> consume(t).doOnSuccess(done -> problems.remove(t.tenant() + "/" + t.name()))
                                .onErrorResume(e -> {
                                    // Said once while it lasts, not at every poll.
                                    if (!e.toString().equals(problems.put(t.tenant() + "/" + t.name(), e.toString()))) {
                                        log.atWarn().addKeyValue("tenant", t.tenant())
                                                .log("Trigger of pipeline {} (tenant {}) on {}: {}", t.name(), t.tenant(), t.topic(), e.toString());
                                    }
                                    return Mono.empty();
                                }), CONCURRENCY)
                        .then(page.size() == PAGE ? sweep(page.get(PAGE - 1).tenant(), page.get(PAGE - 1).name()) : Mono.empty()));
    }

    private Mono<Void> consume(Pipelines.Triggered trigger) {
        TopicPattern pattern = TopicPattern.of(trigger.topic());
        return pattern.isWildcard() ? consumeMatching(trigger, "") : consume(trigger, trigger.topic(), true);
    }

    /** A pattern trigger: the matching topics where its group has work, after {@code after}, a page at a time. */
    private Mono<Void> consumeMatching(Pipelines.Triggered trigger, String after) {
        return web.get().uri(uri -> uri.path("/internal/v1/tenants/{tenant}/topics").queryParam("pattern", "{pattern}")
                        .queryParam("group", "{group}").queryParam("after", "{after}").queryParam("limit", PAGE)
                        .build(trigger.tenant(), trigger.topic(), group(trigger.name()), after))
                .exchangeToMono(response -> answer(response, "the listing of the trigger's topics"))
                .flatMap(answer -> Flux.fromIterable(answer.path("topics"))
                        .flatMap(listed -> {
                            String topic = listed.path("topic").asString();
                            // A topic older than this version of the pipeline: its group starts at the head.
                            boolean latest = Instant.parse(listed.path("createdAt").asString()).isBefore(trigger.savedAt());
                            String key = trigger.tenant() + "/" + trigger.name() + "/" + topic;
                            return consume(trigger, topic, latest).doOnSuccess(done -> problems.remove(key))
                                    .onErrorResume(e -> {
                                        if (!e.toString().equals(problems.put(key, e.toString()))) {
                                            log.atWarn().addKeyValue("tenant", trigger.tenant())
                                                    .log("Trigger of pipeline {} (tenant {}) on {}, topic {}: {}", trigger.name(),
                                                            trigger.tenant(), trigger.topic(), topic, e.toString());
                                        }
                                        return Mono.empty();
                                    });
                        }, TOPIC_CONCURRENCY)
                        .then(answer.path("next").isString() ? consumeMatching(trigger, answer.path("next").asString()) : Mono.empty()));
    }

    /**
     * The trigger's group on {@code topic}, a batch at a time while batches come full, at most
     * {@value #MAX_BATCHES} per poll: a trigger topic that also carries the runs' own token events
     * ({@code output: "{trigger.topic}"}) is read as fast as they are written.
     */
    private Mono<Void> consume(Pipelines.Triggered trigger, String topic, boolean fromLatest) {
        return Mono.defer(() -> consumeBatch(trigger, topic, fromLatest))
                .repeat(MAX_BATCHES - 1L)
                .takeUntil(handled -> handled < BATCH)
                .then();
    }

    /** One poll of the trigger's group on {@code topic}: runs started, then the batch settled; how many events it held. */
    private Mono<Integer> consumeBatch(Pipelines.Triggered trigger, String topic, boolean fromLatest) {
        String path = "/internal/v1/tenants/{tenant}/topics/{topic}/groups/{group}";
        Map<String, Object> poll = Map.of("max", BATCH, "from", fromLatest ? "latest" : "earliest",
                "ackDeadlineMs", ACK_DEADLINE.toMillis());
        return web.post().uri(path + "/poll", trigger.tenant(), topic, group(trigger.name())).bodyValue(poll)
                .exchangeToMono(response -> answer(response, "the trigger's poll"))
                .flatMapMany(answer -> Flux.fromIterable(answer.path("events")))
                .concatMap(event -> handle(trigger, event).map(reason -> Map.entry(event, reason)))
                .collectList()
                .flatMap(handled -> settle(trigger, topic, path, handled).thenReturn(handled.size()));
    }

    private static Mono<JsonNode> answer(ClientResponse response, String what) {
        return response.statusCode().is2xxSuccessful()
                ? response.bodyToMono(JsonNode.class)
                : response.bodyToMono(String.class).defaultIfEmpty("").flatMap(body -> Mono.error(new IllegalStateException(
                        "delivery-service answered " + response.statusCode().value() + " to " + what + ": " + body)));
    }

    /** Starts the event's run, or finds the one it started before; the reason it cannot, or empty text when it can. */
    private Mono<String> handle(Pipelines.Triggered trigger, JsonNode event) {
        // The version the sweep's page named: its definition is cached, not read again for every event.
        return pipelines.version(trigger.tenant(), trigger.name(), trigger.version())
                .map(definition -> new Pipelines.Pinned(trigger.name(), trigger.version(), definition)).flatMap(pinned -> {
            List<String> types = pinned.definition().trigger() == null ? null : pinned.definition().trigger().types();
            if (types != null && !types.contains(event.path("type").asString())) {
                return Mono.just("");
            }
            ObjectNode cause = ((ObjectNode) event.deepCopy());
            cause.remove("attempt");
            String output;
            try {
                if (pinned.definition().output() == null) {
                    return Mono.just("pipeline '" + pinned.name() + "' names no output topic");
                }
                output = Templates.outputTopic(pinned.definition().output(), cause);
            } catch (IllegalArgumentException e) {
                return Mono.just("pipeline '" + pinned.name() + "': " + e.getMessage());
            }
            return delivery.topicExists(trigger.tenant(), output, settings.publishTimeout()).flatMap(exists -> !exists
                    ? Mono.just("the output topic '" + output + "' matches no topic of the tenant")
                    : transitions.create(trigger.tenant(), pinned, output, cause, null, null).map(created -> {
                        if (!created.duplicate()) {
                            started.increment();
                            worker.wake();
                        }
                        return "";
                    }));
        });
    }

    /** Acks what was handled, nacks (with the reason) what could not start a run, per partition. */
    private Mono<Void> settle(Pipelines.Triggered trigger, String topic, String path, List<Map.Entry<JsonNode, String>> handled) {
        Map<Integer, List<Long>> acks = new LinkedHashMap<>();
        Map<String, List<Map.Entry<JsonNode, String>>> nacks = new LinkedHashMap<>();
        for (Map.Entry<JsonNode, String> h : handled) {
            int partition = h.getKey().path("partition").asInt();
            if (h.getValue().isEmpty()) {
                acks.computeIfAbsent(partition, p -> new ArrayList<>()).add(h.getKey().path("seq").asLong());
            } else {
                nacks.computeIfAbsent(partition + "/" + h.getValue(), k -> new ArrayList<>()).add(h);
            }
        }
        String group = group(trigger.name());
        Flux<Void> ack = Flux.fromIterable(acks.entrySet()).concatMap(a -> web.post()
                .uri(path + "/ack", trigger.tenant(), topic, group)
                .bodyValue(Map.of("seqs", a.getValue(), "partition", a.getKey()))
                .retrieve().toBodilessEntity().then());
        Flux<Void> nack = Flux.fromIterable(nacks.values()).concatMap(n -> {
            String reason = n.get(0).getValue();
            log.atWarn().addKeyValue("tenant", trigger.tenant())
                    .log("Trigger event(s) of pipeline {} (tenant {}) on {} start no run: {}", trigger.name(), trigger.tenant(),
                            topic, reason);
            return web.post().uri(path + "/nack", trigger.tenant(), topic, group)
                    .bodyValue(Map.of("seqs", n.stream().map(e -> e.getKey().path("seq").asLong()).toList(),
                            "partition", n.get(0).getKey().path("partition").asInt(), "delayMs", NACK_DELAY.toMillis(),
                            "reason", reason.length() > 500 ? reason.substring(0, 500) : reason))
                    .retrieve().toBodilessEntity().then();
        });
        return ack.thenMany(nack).then();
    }
}
