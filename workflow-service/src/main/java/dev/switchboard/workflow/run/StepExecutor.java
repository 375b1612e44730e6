package dev.switchboard.workflow.run;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.workflow.model.ModelProvider;
import dev.switchboard.workflow.model.ModelProviders;
import dev.switchboard.workflow.pipeline.JsonSchemas;
import dev.switchboard.workflow.pipeline.Op;
import dev.switchboard.workflow.pipeline.PipelineDefinition;
import dev.switchboard.workflow.pipeline.Pipelines;
import dev.switchboard.workflow.pipeline.Step;
import dev.switchboard.workflow.pipeline.StepGraph;
import dev.switchboard.workflow.pipeline.Templates;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one attempt of one step and says what it produced. It decides nothing about the run — that
 * is {@link RunTransitions}' — and writes nothing to the database: its only effects outside are a
 * model step's {@code ai.token} events (published in order, each batch stored before the next is
 * read from the model), a webhook's call, and a judge's model call.
 */
@Component
class StepExecutor {

    /** Tokens that arrive while a batch is being stored go together in the next one, at most this many. */
    static final int MAX_TOKEN_BATCH = 64;
    private static final Duration TOKEN_LINGER = Duration.ofMillis(2);
    private static final int MAX_JSON_STARTS = 64;
    private static final Pattern FIRST_NUMBER = Pattern.compile("\\d{1,4}");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Reads the first JSON value of a text and ignores what follows it (prose after a model's JSON). */
    private static final JsonMapper LEADING_JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    /** A step's result, and the events its completion must publish (through the outbox, exactly once). */
    record Result(JsonNode output, List<Outgoing> events, Handoff handoff) {
        static Result of(JsonNode output) {
            return new Result(output, List.of(), null);
        }
    }

    /** An event for the outbox. */
    record Outgoing(String topic, JsonNode event) {
    }

    /** A run a handoff step starts, created in the transaction that completes the step. */
    record Handoff(Pipelines.Pinned pinned, String outputTopic, JsonNode trigger) {
    }

    /** A failure that another attempt cannot mend (a provider gone from the configuration): the step fails at once. */
    static final class Permanent extends RuntimeException {
        Permanent(String message) {
            super(message, null, false, false);
        }
    }

    /** Redaction patterns compiled once (each was validated when its pipeline was saved). */
    private final Cache<String, Pattern> redactions = Caffeine.newBuilder().maximumSize(1_000).build();
    private final Pipelines pipelines;
    private final ModelProviders providers;
    private final DeliveryPublisher publisher;
    private final JsonSchemas schemas;
    private final WebClient web;

    StepExecutor(Pipelines pipelines, ModelProviders providers, DeliveryPublisher publisher, JsonSchemas schemas,
                 WebClient.Builder web) {
        this.pipelines = pipelines;
        this.providers = providers;
        this.publisher = publisher;
        this.schemas = schemas;
        this.web = web.clone().build();
    }

    /**
     * @param tokens counts the tokens this attempt has sent to be stored, for the lease renewals that record them
     */
    Mono<Result> execute(RunState run, Step step, RunRepository.Leased leased, AtomicInteger tokens) {
        return Mono.defer(() -> {
            if (step instanceof Step.Prompt p) {
                return Mono.just(Result.of(StringNode.valueOf(Templates.render(p.template(), run.trigger(), run.outputs()))));
            } else if (step instanceof Step.Model m) {
                return model(run, m, leased, tokens);
            } else if (step instanceof Step.Fanout f) {
                return Mono.just(Result.of(run.output(f.input())));
            } else if (step instanceof Step.Aggregate a) {
                return aggregate(run, a, tokens);
            } else if (step instanceof Step.Postprocess p) {
                return postprocess(run, p, leased);
            } else if (step instanceof Step.Handoff h) {
                return handoff(run, h);
            }
            Step.Emit e = (Step.Emit) step;
            JsonNode value = run.output(e.input());
            return Mono.just(new Result(value, List.of(new Outgoing(e.topic(), run.events().emitted(e.id(), value))), null));
        });
    }

    /**
     * Streams the model's answer to the run's output topic as {@code ai.token} events, in order. A
     * later attempt first retracts the one before it when that one may have streamed tokens (it
     * said so, or its worker died before saying), so a client can drop them.
     */
    private Mono<Result> model(RunState run, Step.Model step, RunRepository.Leased leased, AtomicInteger tokens) {
        ModelProvider provider = providers.get(step.provider());
        if (provider == null) {
            return Mono.error(new Permanent("provider '" + step.provider() + "' is not configured on this service any more."));
        }
        String prompt = Templates.text(run.output(inputOf(run.definition(), step)));
        Map<String, Object> parameters = step.parameters() == null ? Map.of() : step.parameters();
        Mono<Void> retract = leased.attempt() > 1 && (leased.tookOver() || leased.prevTokens() != 0)
                ? publisher.publish(run.tenant(), run.outputTopic(), List.of(run.events().retracted(step.id(), leased.attempt() - 1)), null)
                : Mono.empty();
        StringBuilder answer = new StringBuilder();
        AtomicInteger index = new AtomicInteger();
        Flux<Void> streamed = provider.stream(step.model(), prompt, parameters)
                .map(text -> {
                    answer.append(text);
                    return run.events().token(step.id(), leased.attempt(), index.getAndIncrement(), text);
                })
                // Fair backpressure: while a batch is being stored nothing more is asked of the model's stream.
                .bufferTimeout(MAX_TOKEN_BATCH, TOKEN_LINGER, true)
                // A batch counts once it is sent (it may be stored whatever happens next, so a later attempt
                // retracts it), and a model failure lets the batch in flight finish rather than cutting it off.
                .concatMapDelayError(batch -> {
                    tokens.addAndGet(batch.size());
                    return publisher.publish(run.tenant(), run.outputTopic(), batch, null);
                }, false, 1);
        return retract.thenMany(streamed).then(Mono.fromCallable(() -> Result.of(StringNode.valueOf(answer.toString()))));
    }

    /**
     * Resolves the pipeline a handoff starts (its latest version) and the run's trigger: an event
     * whose id is fixed by this run and step (so the run is created once, however often the step is
     * retried), whose data is the step's input, and whose {@code causationid} is this run's trigger —
     * the causation chain. The new run's answers go to its own pipeline's output, else to this run's.
     * The step's output says which run it started.
     */
    private Mono<Result> handoff(RunState run, Step.Handoff step) {
        return pipelines.latest(run.tenant(), step.pipeline())
                .onErrorMap(e -> e instanceof SwitchboardException s && s.code() == ErrorCode.NOT_FOUND,
                        e -> new Permanent("the handoff's pipeline '" + step.pipeline() + "' does not exist."))
                .map(pinned -> {
                    ObjectNode trigger = JSON.createObjectNode()
                            .put("specversion", "1.0")
                            .put("id", run.run() + "." + step.id())
                            .put("type", "switchboard.run.handoff")
                            .put("source", "/v1/runs/" + run.run())
                            .put("time", Instant.now().toString())
                            .put("causationid", run.row().causationId())
                            .put("correlationid", run.run().toString());
                    trigger.set("data", run.output(step.input()));
                    String output = run.outputTopic();
                    if (pinned.definition().output() != null) {
                        try {
                            output = Templates.outputTopic(pinned.definition().output(), trigger);
                        } catch (IllegalArgumentException e) {
                            throw new Permanent("pipeline '" + step.pipeline() + "': " + e.getMessage());
                        }
                    }
                    ObjectNode started = JSON.createObjectNode().put("pipeline", pinned.name()).put("version", pinned.version())
                            .put("causationid", trigger.path("id").asString()).put("output", output);
                    return new Result(started, List.of(), new Handoff(pinned, output, trigger));
                });
    }

    /** A model step's input: its own {@code input}, or its fanout's. */
    private static String inputOf(PipelineDefinition definition, Step.Model step) {
        if (step.input() != null) {
            return step.input();
        }
        return definition.steps().stream().filter(s -> s instanceof Step.Fanout f && f.steps().contains(step.id()))
                .map(StepGraph::input).findFirst().orElseThrow();
    }

    private Mono<Result> aggregate(RunState run, Step.Aggregate step, AtomicInteger tokens) {
        List<String> done = step.inputs().stream().filter(run::completed).toList();
        return switch (step.strategy()) {
            case "first" -> Mono.just(Result.of(run.output(done.stream()
                    .min(Comparator.comparing(run::finishedAt)).orElseThrow())));
            case "all" -> {
                ArrayNode all = JSON.createArrayNode();
                done.forEach(id -> all.add(run.output(id)));
                yield Mono.just(Result.of(all));
            }
            case "vote" -> Mono.just(Result.of(vote(run, done)));
            case "judge" -> judge(run, step, done, tokens);
            default -> Mono.error(new Permanent("unknown strategy " + step.strategy()));
        };
    }

    /** The answer most inputs agree on (compared without case and extra white space); a tie goes to the earliest input listed. */
    private static JsonNode vote(RunState run, List<String> inputs) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<String, JsonNode> firstOf = new LinkedHashMap<>();
        for (String id : inputs) {
            JsonNode output = run.output(id);
            String key = Templates.text(output).strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
            counts.merge(key, 1, Integer::sum);
            firstOf.putIfAbsent(key, output);
        }
        String winner = null;
        for (Map.Entry<String, Integer> entry : counts.entrySet()) {
            if (winner == null || entry.getValue() > counts.get(winner)) {
                winner = entry.getKey();
            }
        }
        return firstOf.get(winner);
    }

    /** Asks the judge model which candidate is best; its answer's first number picks it. */
    private Mono<Result> judge(RunState run, Step.Aggregate step, List<String> inputs, AtomicInteger tokens) {
        ModelProvider judge = providers.get(step.judge().provider());
        if (judge == null) {
            return Mono.error(new Permanent("provider '" + step.judge().provider() + "' is not configured on this service any more."));
        }
        StringBuilder prompt = new StringBuilder("Pick the best of these ").append(inputs.size())
                .append(" answers. Reply with its number only.\n");
        for (int i = 0; i < inputs.size(); i++) {
            prompt.append('\n').append(i + 1).append(". ").append(Templates.text(run.output(inputs.get(i))));
        }
        return judge.stream(step.judge().model(), prompt.toString(), Map.of())
                .doOnNext(t -> tokens.incrementAndGet())
                .reduce(new StringBuilder(), StringBuilder::append)
                .map(verdict -> {
                    Matcher number = FIRST_NUMBER.matcher(verdict);
                    int pick = number.find() ? Integer.parseInt(number.group()) : 0;
                    if (pick < 1 || pick > inputs.size()) {
                        throw new IllegalStateException("the judge answered no candidate's number (1 to " + inputs.size()
                                + "): " + abbreviate(verdict.toString()));
                    }
                    return Result.of(run.output(inputs.get(pick - 1)));
                });
    }

    private Mono<Result> postprocess(RunState run, Step.Postprocess step, RunRepository.Leased leased) {
        Mono<JsonNode> value = Mono.just(run.output(step.input()));
        for (Op op : step.ops()) {
            value = value.flatMap(v -> apply(op, v, run, step, leased));
        }
        return value.map(Result::of);
    }

    private Mono<JsonNode> apply(Op op, JsonNode value, RunState run, Step.Postprocess step, RunRepository.Leased leased) {
        if (op instanceof Op.Trim) {
            return Mono.just(StringNode.valueOf(Templates.text(value).strip()));
        } else if (op instanceof Op.Redact r) {
            return Mono.just(StringNode.valueOf(redactions.get(r.pattern(), Pattern::compile).matcher(Templates.text(value))
                    .replaceAll(Matcher.quoteReplacement(r.replacement()))));
        } else if (op instanceof Op.Json j) {
            return Mono.fromCallable(() -> {
                JsonNode extracted = firstJson(Templates.text(value));
                String mismatch = schemas.mismatch(j.schema(), extracted);
                if (mismatch != null) {
                    throw new IllegalStateException("the extracted JSON does not match the schema: " + mismatch);
                }
                return extracted;
            });
        }
        return webhook((Op.Webhook) op, value, run, step, leased);
    }

    /** The first JSON object or array in the text (models like to wrap it in prose or a code fence). */
    static JsonNode firstJson(String text) {
        int tried = 0;
        for (int at = 0; at < text.length() && tried < MAX_JSON_STARTS; at++) {
            char c = text.charAt(at);
            if (c != '{' && c != '[') {
                continue;
            }
            tried++;
            try (JsonParser parser = LEADING_JSON.createParser(text.substring(at))) {
                JsonNode node = LEADING_JSON.readTree(parser);
                if (node != null && node.isContainer()) {
                    return node;
                }
            } catch (JacksonException e) {
                // not JSON from here: try the next brace
            }
        }
        throw new IllegalStateException("the text holds no JSON object or array: " + abbreviate(text));
    }

    /**
     * POSTs {@code {"run","step","attempt","input"}} to the webhook; its answer is the new value: the
     * {@code output} of a JSON object answer, else the whole body as text. The {@code Idempotency-Key}
     * is the same for every attempt of the step, so the receiver can recognise a retried call.
     */
    private Mono<JsonNode> webhook(Op.Webhook hook, JsonNode value, RunState run, Step.Postprocess step,
                                   RunRepository.Leased leased) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("run", run.run().toString());
        body.put("step", step.id());
        body.put("attempt", leased.attempt());
        body.put("input", value);
        return web.post().uri(hook.url()).contentType(MediaType.APPLICATION_JSON)
                .header("Idempotency-Key", run.run() + "." + step.id())
                .bodyValue(body)
                .exchangeToMono(response -> response.bodyToMono(String.class).defaultIfEmpty("").map(text -> {
                    if (!response.statusCode().is2xxSuccessful()) {
                        throw new IllegalStateException("the webhook answered " + response.statusCode().value() + ": " + abbreviate(text));
                    }
                    boolean json = response.headers().contentType().map(t -> t.isCompatibleWith(MediaType.APPLICATION_JSON)).orElse(false);
                    if (json) {
                        JsonNode answer = JSON.readTree(text);
                        if (answer.isObject() && answer.has("output")) {
                            return answer.get("output");
                        }
                    }
                    return (JsonNode) StringNode.valueOf(text);
                }))
                .timeout(hook.timeout(), Mono.error(() -> new IllegalStateException(
                        "the webhook did not answer within " + hook.timeout() + ".")));
    }

    static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
