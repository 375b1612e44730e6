package dev.switchboard.workflow.run;

import dev.switchboard.testsupport.TestDatabase;
import dev.switchboard.workflow.WorkflowApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs of pipelines on real PostgreSQL, their model calls to a real OpenAI-compatible HTTP server
 * that streams SSE (and the built-in echo provider), their events to a stand-in of delivery's
 * publish API that keeps what it got. What a user sees: the events on the output topic, in
 * order, and {@code GET /runs/{id}}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=" + WorkflowApplication.CONFIG_NAME,
                "switchboard.workflow.service-token=test-service-token",
                "switchboard.workflow.runs.poll-interval=50ms",
                "switchboard.workflow.runs.lease=1500ms",
                "switchboard.workflow.echo.token-interval=1ms"})
class RunIntegrationTests {

    static final String SCHEMA = "workflow_runs";
    static final FakeDelivery delivery = new FakeDelivery();
    static final FakeOpenAi openAi = new FakeOpenAi();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, SCHEMA);
        registry.add("switchboard.workflow.delivery-url", delivery::url);
        registry.add("switchboard.workflow.providers.fake.base-url", openAi::baseUrl);
        registry.add("switchboard.workflow.providers.fake.api-key", () -> "sk-test-secret");
    }

    @AfterAll
    static void stop() {
        delivery.close();
        openAi.close();
    }

    @LocalServerPort
    int port;

    WebTestClient client() {
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(30))
                .defaultHeader("Authorization", "Bearer test-service-token").build();
    }

    static String tenant() {
        String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);
        delivery.declare(tenant, "answers");
        return tenant;
    }

    void pipeline(String tenant, String name, String yaml) {
        client().put().uri("/internal/v1/tenants/{t}/pipelines/{n}", tenant, name)
                .contentType(MediaType.parseMediaType("application/yaml")).bodyValue(yaml)
                .exchange().expectStatus().isCreated().expectBody().returnResult();
    }

    JsonNode start(String tenant, String name, String body, int status) {
        return client().post().uri("/internal/v1/tenants/{t}/pipelines/{n}/runs", tenant, name)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isEqualTo(status).expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    JsonNode run(String tenant, String run) {
        return client().get().uri("/internal/v1/tenants/{t}/runs/{r}", tenant, run)
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    /** Polls the run until it has ended. */
    JsonNode ended(String tenant, String run) {
        return await(() -> run(tenant, run), r -> !r.path("status").asString().equals("running"), Duration.ofSeconds(30),
                "run " + run + " to end");
    }

    static <T> T await(Supplier<T> read, Predicate<T> done, Duration within, String what) {
        long deadline = System.nanoTime() + within.toNanos();
        T value = read.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            value = read.get();
        }
        assertThat(done.test(value)).as("waited %s for %s; last: %s", within, what, value).isTrue();
        return value;
    }

    static List<JsonNode> ofRun(String tenant, String topic, String run) {
        return delivery.events(tenant, topic, e -> e.path("correlationid").asString().equals(run));
    }

    /** The run's events on "answers" once the last one is of {@code type}. */
    static List<JsonNode> endedWith(String tenant, String run, String type) {
        return await(() -> ofRun(tenant, "answers", run),
                e -> !e.isEmpty() && e.get(e.size() - 1).path("type").asString().equals(type), Duration.ofSeconds(10),
                "the run's " + type);
    }

    static String types(List<JsonNode> events) {
        return events.stream().map(e -> e.path("type").asString() + (e.path("type").asString().equals("ai.token")
                ? "(" + e.path("data").path("step").asString() + e.path("data").path("attempt").asInt() + ")" : ""))
                .collect(Collectors.joining(" "));
    }

    static String text(List<JsonNode> events, String step, int attempt) {
        return events.stream().filter(e -> e.path("type").asString().equals("ai.token")
                        && e.path("data").path("step").asString().equals(step) && e.path("data").path("attempt").asInt() == attempt)
                .map(e -> e.path("data").path("text").asString()).collect(Collectors.joining());
    }

    static JsonNode step(JsonNode run, String id) {
        for (JsonNode step : run.path("steps")) {
            if (step.path("id").asString().equals(id)) {
                return step;
            }
        }
        throw new AssertionError("no step " + id + " in " + run);
    }

    @Test
    void aFanoutToTwoModelsIsAggregatedPostprocessedAndStreamedInOrder() {
        String tenant = tenant();
        openAi.script("the world", FakeOpenAi.Script.answer(Duration.ofMillis(5), "Bonjour ", "le ", "monde"));
        pipeline(tenant, "both", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "Say hello to {{data.who}}"}
                  - {id: fan, type: fanout, input: ask, steps: [echoed, hosted]}
                  - {id: echoed, type: model, provider: echo, model: echo-1}
                  - {id: hosted, type: model, provider: fake, model: gpt-test, parameters: {temperature: 0.2, maxTokens: 50}}
                  - {id: all, type: aggregate, inputs: [echoed, hosted], strategy: all}
                  - id: clean
                    type: postprocess
                    input: all
                    ops: [{op: json, schema: {type: array, minItems: 2, items: {type: string}}}]
                """);
        JsonNode started = start(tenant, "both", "{\"data\":{\"who\":\"the world\"}}", 201);
        String runId = started.path("run").asString();
        assertThat(started.path("output").asString()).isEqualTo("answers");
        assertThat(started.path("version").asInt()).isEqualTo(1);

        JsonNode run = ended(tenant, runId);
        assertThat(run.path("status").asString()).as("%s", run).isEqualTo("completed");
        assertThat(run.path("answer").toString()).isEqualTo("[\"Say hello to the world\",\"Bonjour le monde\"]");
        assertThat(step(run, "hosted").path("attempts").get(0).path("tokens").asInt()).isEqualTo(3);
        assertThat(step(run, "echoed").path("attempts").get(0).path("outcome").asString()).isEqualTo("completed");
        assertThat(step(run, "clean").path("output").isArray()).isTrue();

        List<JsonNode> events = endedWith(tenant, runId, "ai.completed");
        assertThat(text(events, "echoed", 1)).isEqualTo("Say hello to the world");
        assertThat(text(events, "hosted", 1)).isEqualTo("Bonjour le monde");
        // Each step's tokens in index order; everything carries the run and its cause; one ai.completed, last.
        for (String s : List.of("echoed", "hosted")) {
            List<Integer> indexes = events.stream().filter(e -> e.path("data").path("step").asString().equals(s))
                    .map(e -> e.path("data").path("index").asInt()).toList();
            assertThat(indexes).isSorted().doesNotHaveDuplicates().startsWith(0);
        }
        assertThat(events).allSatisfy(e -> {
            assertThat(e.path("causationid").asString()).isEqualTo(started.path("causationid").asString());
            assertThat(e.path("partitionkey").asString()).isEqualTo(runId);
        });
        assertThat(events.stream().filter(e -> e.path("type").asString().equals("ai.completed"))).hasSize(1);
        assertThat(events.get(events.size() - 1).path("data").path("answer").toString()).isEqualTo(run.path("answer").toString());

        // The model got the prompt and the step's parameters; the provider's key went to it and nowhere else.
        JsonNode request = openAi.requests.stream().filter(r -> r.toString().contains("Say hello to the world")).findFirst().orElseThrow();
        assertThat(request.path("model").asString()).isEqualTo("gpt-test");
        assertThat(request.path("stream").asBoolean()).isTrue();
        assertThat(request.path("temperature").asDouble()).isEqualTo(0.2);
        assertThat(run.toString()).doesNotContain("sk-test-secret");
    }

    @Test
    void anAttemptThatFailsAfterStreamingIsRetractedAndTheRetryWins() {
        String tenant = tenant();
        openAi.script("why?", FakeOpenAi.Script.dropAfter(2, "wrong ", "answer ", "here"),
                FakeOpenAi.Script.answer(Duration.ofMillis(2), "right ", "answer"));
        pipeline(tenant, "retry", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "{{data.q}}"}
                  - {id: draft, type: model, input: ask, provider: fake, model: m, retry: {attempts: 3, backoff: PT0.1S}}
                """);
        String runId = start(tenant, "retry", "{\"data\":{\"q\":\"why?\"}}", 201).path("run").asString();
        JsonNode run = ended(tenant, runId);
        assertThat(run.path("status").asString()).as("%s", run).isEqualTo("completed");
        assertThat(run.path("answer").asString()).isEqualTo("right answer");
        JsonNode attempts = step(run, "draft").path("attempts");
        assertThat(attempts).as("%s", run).hasSize(2);
        assertThat(attempts.get(0).path("outcome").asString()).isEqualTo("failed");
        assertThat(attempts.get(0).path("error").asString()).isNotEmpty();
        // The model sent two tokens before the connection broke; the second may still have been waiting
        // for its batch when the failure came (then it is dropped with the attempt, never published).
        int streamed = attempts.get(0).path("tokens").asInt();
        assertThat(streamed).isBetween(1, 2);
        assertThat(attempts.get(1).path("outcome").asString()).isEqualTo("completed");

        List<JsonNode> events = endedWith(tenant, runId, "ai.completed");
        assertThat(types(events)).isEqualTo("ai.token(draft1) ".repeat(streamed)
                + "ai.retracted ai.token(draft2) ai.token(draft2) ai.completed");
        JsonNode retracted = events.get(streamed).path("data");
        assertThat(retracted.path("step").asString()).isEqualTo("draft");
        assertThat(retracted.path("attempt").asInt()).isEqualTo(1);
        assertThat(text(events, "draft", 2)).isEqualTo("right answer");
    }

    @Test
    void aStalledModelTimesOutItsAttemptsIsStoppedAndTheRunFails() {
        String tenant = tenant();
        int cancelledBefore = openAi.cancelled.get();
        openAi.script("stalled?", FakeOpenAi.Script.stallAfter(1, "thinking ", "more"), FakeOpenAi.Script.stallAfter(1, "still ", "more"));
        pipeline(tenant, "stall", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "{{data.q}}"}
                  - {id: draft, type: model, input: ask, provider: fake, model: m, timeout: PT0.6S, retry: {attempts: 2, backoff: PT0.1S}}
                """);
        String runId = start(tenant, "stall", "{\"data\":{\"q\":\"stalled?\"}}", 201).path("run").asString();
        JsonNode run = ended(tenant, runId);
        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("error").asString()).contains("step 'draft' failed after 2 attempts", "timed out after PT0.6S");
        assertThat(step(run, "draft").path("attempts")).extracting(a -> a.path("outcome").asString()).containsExactly("timeout", "timeout");
        List<JsonNode> events = endedWith(tenant, runId, "ai.failed");
        assertThat(types(events)).isEqualTo("ai.token(draft1) ai.retracted ai.token(draft2) ai.retracted ai.failed");
        assertThat(events.get(events.size() - 1).path("data").path("error").asString()).isEqualTo("step_failed");
        // The timed-out calls were really stopped: the model server saw both streams cancelled.
        await(openAi.cancelled::get, n -> n >= cancelledBefore + 2, Duration.ofSeconds(5), "the model calls to be cancelled");
    }

    @Test
    void aRunIsStartedOncePerIdHoweverOftenAndConcurrentlyItIsAsked() {
        String tenant = tenant();
        pipeline(tenant, "once", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "{{data.q}}"}
                """);
        String body = "{\"id\":\"request-42\",\"data\":{\"q\":\"once\"}}";
        List<JsonNode> answers = Flux.range(0, 8).flatMap(i -> client().post()
                        .uri("/internal/v1/tenants/{t}/pipelines/once/runs", tenant).contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(body).exchange().returnResult(JsonNode.class).getResponseBody())
                .collectList().block(Duration.ofSeconds(30));
        assertThat(answers).hasSize(8);
        assertThat(answers.stream().map(a -> a.path("run").asString()).distinct()).hasSize(1);
        assertThat(answers.stream().filter(a -> !a.path("duplicate").asBoolean())).hasSize(1);
        assertThat(answers.get(0).path("causationid").asString()).isEqualTo("request-42");
        String runId = answers.get(0).path("run").asString();
        assertThat(ended(tenant, runId).path("answer").asString()).isEqualTo("once");
        JsonNode again = start(tenant, "once", body, 200);
        assertThat(again.path("run").asString()).isEqualTo(runId);
        assertThat(again.path("duplicate").asBoolean()).isTrue();
        await(() -> ofRun(tenant, "answers", runId), e -> e.size() == 1, Duration.ofSeconds(5), "one ai.completed");
    }

    @Test
    void cancellingStopsTheModelCallAndEndsTheRun() {
        String tenant = tenant();
        String[] many = new String[400];
        java.util.Arrays.fill(many, "word ");
        openAi.script("go on", new FakeOpenAi.Script(List.of(many), -1, false, Duration.ofMillis(10)));
        int cancelledBefore = openAi.cancelled.get();
        pipeline(tenant, "long", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "{{data.q}}"}
                  - {id: draft, type: model, input: ask, provider: fake, model: m}
                """);
        String runId = start(tenant, "long", "{\"data\":{\"q\":\"go on\"}}", 201).path("run").asString();
        await(() -> ofRun(tenant, "answers", runId).size(), n -> n >= 5, Duration.ofSeconds(10), "some tokens");
        JsonNode cancelled = client().post().uri("/internal/v1/tenants/{t}/runs/{r}/cancel", tenant, runId).exchange()
                .expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
        assertThat(cancelled.path("status").asString()).isEqualTo("cancelled");
        assertThat(step(cancelled, "draft").path("status").asString()).isEqualTo("cancelled");
        await(openAi.cancelled::get, n -> n > cancelledBefore, Duration.ofSeconds(5), "the model call to be cancelled");
        List<JsonNode> events = await(() -> ofRun(tenant, "answers", runId),
                e -> e.get(e.size() - 1).path("type").asString().equals("ai.failed"), Duration.ofSeconds(5), "ai.failed");
        assertThat(events.get(events.size() - 1).path("data").path("error").asString()).isEqualTo("cancelled");
        int after = events.size();
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        assertThat(ofRun(tenant, "answers", runId)).as("nothing after ai.failed").hasSize(after);
        assertThat(after).isLessThan(100);
        client().post().uri("/internal/v1/tenants/{t}/runs/{r}/cancel", tenant, runId).exchange()
                .expectStatus().isEqualTo(409).expectBody(JsonNode.class)
                .value(p -> assertThat(p.path("code").asString()).isEqualTo("conflict"));
    }

    @Test
    void aHandoffStartsTheNextPipelineOnceAndKeepsTheCausationChain() {
        String tenant = tenant();
        delivery.declare(tenant, "audit");
        pipeline(tenant, "second", """
                steps:
                  - {id: reply, type: prompt, template: "Second agent got: {{data}}"}
                  - {id: say, type: model, input: reply, provider: echo, model: echo-1}
                """);
        pipeline(tenant, "first", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "Please handle {{data.task}}"}
                  - {id: log, type: emit, input: ask, topic: audit}
                  - {id: pass, type: handoff, input: ask, pipeline: second}
                """);
        JsonNode started = start(tenant, "first", "{\"id\":\"job-7\",\"data\":{\"task\":\"the invoice\"}}", 201);
        String first = started.path("run").asString();
        JsonNode parent = ended(tenant, first);
        assertThat(parent.path("status").asString()).as("%s", parent).isEqualTo("completed");
        JsonNode handoff = step(parent, "pass").path("output");
        String child = handoff.path("run").asString();
        assertThat(handoff.path("pipeline").asString()).isEqualTo("second");
        assertThat(handoff.path("causationid").asString()).isEqualTo(first + ".pass");

        JsonNode second = ended(tenant, child);
        assertThat(second.path("status").asString()).as("%s", second).isEqualTo("completed");
        assertThat(second.path("answer").asString()).isEqualTo("Second agent got: Please handle the invoice");
        assertThat(second.path("parent").path("run").asString()).isEqualTo(first);
        assertThat(second.path("parent").path("step").asString()).isEqualTo("pass");
        assertThat(second.path("causationid").asString()).isEqualTo(first + ".pass");
        assertThat(second.path("output").asString()).as("no output of its own: the first run's").isEqualTo("answers");
        List<JsonNode> childEvents = endedWith(tenant, child, "ai.completed");
        assertThat(childEvents).allSatisfy(e -> assertThat(e.path("causationid").asString()).isEqualTo(first + ".pass"));

        List<JsonNode> audit = delivery.events(tenant, "audit");
        assertThat(audit).hasSize(1);
        assertThat(audit.get(0).path("type").asString()).isEqualTo("ai.emitted");
        assertThat(audit.get(0).path("data").path("output").asString()).isEqualTo("Please handle the invoice");
        assertThat(audit.get(0).path("causationid").asString()).isEqualTo("job-7");
    }

    @Test
    void aThrottledTenantsTokensWaitAndArriveInOrder() {
        String tenant = tenant();
        pipeline(tenant, "slow", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "{{data.q}}"}
                  - {id: draft, type: model, input: ask, provider: echo, model: echo-1}
                """);
        delivery.throttleNext(4);
        int refusedBefore = delivery.refused.get();
        String text = "one two three four five six seven eight nine ten";
        String runId = start(tenant, "slow", "{\"data\":{\"q\":\"" + text + "\"}}", 201).path("run").asString();
        JsonNode run = ended(tenant, runId);
        assertThat(run.path("status").asString()).isEqualTo("completed");
        assertThat(delivery.refused.get() - refusedBefore).isEqualTo(4);
        List<JsonNode> events = endedWith(tenant, runId, "ai.completed");
        assertThat(text(events, "draft", 1)).isEqualTo(text);
        assertThat(events.stream().filter(e -> e.path("type").asString().equals("ai.token"))
                .map(e -> e.path("data").path("index").asInt()).toList()).isEqualTo(java.util.stream.IntStream.range(0, 10).boxed().toList());
    }

    @Test
    void voteAndFirstPickOneAnswerAndFirstSkipsTheSlowerModel() {
        String tenant = tenant();
        openAi.script("fast one", FakeOpenAi.Script.answer(Duration.ofMillis(300), "slow ", "answer ", "that ", "loses"));
        pipeline(tenant, "race", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "{{data.q}}"}
                  - {id: fan, type: fanout, input: ask, steps: [quick, slow]}
                  - {id: quick, type: model, provider: echo, model: echo-1}
                  - {id: slow, type: model, provider: fake, model: m}
                  - {id: winner, type: aggregate, inputs: [quick, slow], strategy: first}
                """);
        String race = start(tenant, "race", "{\"data\":{\"q\":\"fast one\"}}", 201).path("run").asString();
        JsonNode run = ended(tenant, race);
        assertThat(run.path("status").asString()).as("%s", run).isEqualTo("completed");
        assertThat(run.path("answer").asString()).isEqualTo("fast one");
        assertThat(step(run, "slow").path("status").asString()).isEqualTo("skipped");

        openAi.script("Lyon", FakeOpenAi.Script.answer(Duration.ofMillis(1), "Paris"), FakeOpenAi.Script.answer(Duration.ofMillis(1), "paris "));
        pipeline(tenant, "vote", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "Lyon"}
                  - {id: fan, type: fanout, input: ask, steps: [a, b, c]}
                  - {id: a, type: model, provider: echo, model: echo-1}
                  - {id: b, type: model, provider: fake, model: m}
                  - {id: c, type: model, provider: fake, model: m}
                  - {id: pick, type: aggregate, inputs: [a, b, c], strategy: vote}
                """);
        JsonNode voted = ended(tenant, start(tenant, "vote", "{}", 201).path("run").asString());
        assertThat(voted.path("status").asString()).as("%s", voted).isEqualTo("completed");
        assertThat(voted.path("answer").asString().strip().toLowerCase()).as("two of three say Paris, however they write it: %s", voted)
                .isEqualTo("paris");
    }

    @Test
    void postprocessTrimsRedactsAndRefusesJsonThatDoesNotMatchItsSchema() {
        String tenant = tenant();
        pipeline(tenant, "clean", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "  call me at 555-1234 or 555-9876  "}
                  - {id: tidy, type: postprocess, input: ask, ops: [trim, {op: redact, pattern: "\\\\d{3}-\\\\d{4}", replacement: "[phone]"}]}
                """);
        JsonNode tidy = ended(tenant, start(tenant, "clean", "{}", 201).path("run").asString());
        assertThat(tidy.path("answer").asString()).isEqualTo("call me at [phone] or [phone]");

        pipeline(tenant, "strict", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "Here you go: {\\"total\\": \\"12\\"} thanks"}
                  - id: parse
                    type: postprocess
                    input: ask
                    retry: {attempts: 1}
                    ops: [{op: json, schema: {type: object, properties: {total: {type: number}}, required: [total]}}]
                """);
        JsonNode strict = ended(tenant, start(tenant, "strict", "{}", 201).path("run").asString());
        assertThat(strict.path("status").asString()).isEqualTo("failed");
        assertThat(strict.path("error").asString()).contains("step 'parse' failed after 1 attempt", "does not match the schema");

        pipeline(tenant, "lenient", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "Here you go: {\\"total\\": 12} thanks"}
                  - {id: parse, type: postprocess, input: ask, ops: [{op: json, schema: {type: object, required: [total]}}]}
                """);
        JsonNode lenient = ended(tenant, start(tenant, "lenient", "{}", 201).path("run").asString());
        assertThat(lenient.path("answer").toString()).isEqualTo("{\"total\":12}");
    }

    @Test
    void aJudgeModelPicksTheAnswer() {
        String tenant = tenant();
        openAi.script("Pick the best", FakeOpenAi.Script.answer(Duration.ofMillis(1), "The best is ", "2", "."));
        pipeline(tenant, "judged", """
                output: answers
                steps:
                  - {id: ask, type: prompt, template: "Name a colour"}
                  - {id: fan, type: fanout, input: ask, steps: [a, b]}
                  - {id: a, type: model, provider: echo, model: echo-1}
                  - {id: b, type: model, provider: echo, model: echo-1, parameters: {maxTokens: 2}}
                  - {id: pick, type: aggregate, inputs: [a, b], strategy: judge, judge: {provider: fake, model: judge-1}}
                """);
        JsonNode run = ended(tenant, start(tenant, "judged", "{}", 201).path("run").asString());
        assertThat(run.path("status").asString()).as("%s", run).isEqualTo("completed");
        assertThat(run.path("answer").asString()).isEqualTo("Name a ");
        JsonNode asked = openAi.requests.stream().filter(r -> r.path("model").asString().equals("judge-1")).findFirst().orElseThrow();
        assertThat(asked.path("messages").toString()).contains("1. Name a colour", "2. Name a ");
    }

    @Test
    void aWebhookIsCalledWithOneIdempotencyKeyForEveryAttemptAndItsAnswerIsTaken() {
        String tenant = tenant();
        List<String> keys = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<JsonNode> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        reactor.netty.DisposableServer hook = reactor.netty.http.server.HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/hook", (req, res) -> req.receive().aggregate().asString().flatMap(body -> {
                    keys.add(req.requestHeaders().get("Idempotency-Key"));
                    bodies.add(tools.jackson.databind.json.JsonMapper.builder().build().readTree(body));
                    return calls.incrementAndGet() == 1
                            ? res.status(500).sendString(reactor.core.publisher.Mono.just("try again")).then()
                            : res.header("Content-Type", "application/json")
                                    .sendString(reactor.core.publisher.Mono.just("{\"output\":\"checked: ok\"}")).then();
                })))
                .bindNow();
        try {
            pipeline(tenant, "hooked", """
                    output: answers
                    steps:
                      - {id: ask, type: prompt, template: "check {{data.q}}"}
                      - id: check
                        type: postprocess
                        input: ask
                        retry: {attempts: 2, backoff: PT0.1S}
                        ops: [{op: webhook, url: "http://127.0.0.1:%d/hook", timeout: PT5S}]
                    """.formatted(hook.port()));
            JsonNode run = ended(tenant, start(tenant, "hooked", "{\"data\":{\"q\":\"this\"}}", 201).path("run").asString());
            assertThat(run.path("status").asString()).as("%s", run).isEqualTo("completed");
            assertThat(run.path("answer").asString()).isEqualTo("checked: ok");
            assertThat(step(run, "check").path("attempts").get(0).path("error").asString()).contains("500", "try again");
            assertThat(keys).hasSize(2).containsOnly(run.path("run").asString() + ".check");
            assertThat(bodies.get(0).path("input").asString()).isEqualTo("check this");
            assertThat(bodies).extracting(b -> b.path("attempt").asInt()).containsExactly(1, 2);
        } finally {
            hook.disposeNow();
        }
    }

    @Test
    void badRunRequestsAreRefusedAndStartNothing() {
        String tenant = tenant();
        pipeline(tenant, "p", """
                steps:
                  - {id: ask, type: prompt, template: "{{data.q}}"}
                """);
        Map<String, String> refused = Map.of(
                "{\"data\":{},\"extra\":1}", "Unknown field 'extra'",
                "{\"output\":\"Not A Topic\"}", "'output' must be a topic name",
                "{\"output\":\"answers\",\"id\":\"has space\"}", "'id' must be",
                "{\"output\":\"answers\",\"id\":7}", "'id' must be",
                "[1]", "must be a JSON object",
                "{\"data\":", "not valid JSON",
                "{\"data\":{}}", "names no output topic");
        refused.forEach((body, detail) -> assertThat(start(tenant, "p", body, 400).path("detail").asString()).as(body).contains(detail));
        assertThat(start(tenant, "p", "{\"output\":\"nowhere\"}", 404).path("code").asString()).isEqualTo("topic_not_found");
        assertThat(start(tenant, "missing", "{\"output\":\"answers\"}", 404).path("code").asString()).isEqualTo("not_found");
        client().get().uri("/internal/v1/tenants/{t}/runs/{r}", tenant, UUID.randomUUID()).exchange().expectStatus().isNotFound().expectBody().returnResult();
        client().get().uri("/internal/v1/tenants/{t}/runs/not-a-run", tenant).exchange().expectStatus().isNotFound().expectBody().returnResult();
        client().post().uri("/internal/v1/tenants/{t}/runs/{r}/cancel", tenant, UUID.randomUUID()).exchange().expectStatus().isNotFound().expectBody().returnResult();

        // Another tenant's run is not there for this one.
        String other = tenant();
        AtomicReference<String> run = new AtomicReference<>(start(tenant, "p", "{\"output\":\"answers\"}", 201).path("run").asString());
        client().get().uri("/internal/v1/tenants/{t}/runs/{r}", other, run.get()).exchange().expectStatus().isNotFound().expectBody().returnResult();
        client().post().uri("/internal/v1/tenants/{t}/runs/{r}/cancel", other, run.get()).exchange().expectStatus().isNotFound().expectBody().returnResult();
    }
}
