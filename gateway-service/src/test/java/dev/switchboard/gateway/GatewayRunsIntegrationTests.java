package dev.switchboard.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A run end to end, as a user sees it: a backend saves a pipeline and starts a run through the
 * gateway; workflow-service runs it (echo model) and publishes its tokens through the real
 * delivery-service; a browser's WebSocket receives them in order and the answer, and a second
 * socket that joins mid-answer with {@code after} gets the rest exactly once.
 */
class GatewayRunsIntegrationTests {

    static final String PIPELINE = """
            output: answers.lobby
            steps:
              - {id: ask, type: prompt, template: "  {{data.text}}  "}
              - {id: draft, type: model, input: ask, provider: echo, model: echo-1}
              - {id: clean, type: postprocess, input: draft, ops: [trim]}
            """;

    private static final JsonMapper JSON = JsonMapper.builder().build();
    static TestPlatform platform;
    static String secret;
    static TestPlatform.Key admin;
    static TestPlatform.Key publisher;
    static TestPlatform.Key reader;
    static TestPlatform.Key stranger;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1);
        secret = platform.createTenant("acme-runs");
        platform.createTenant("globex-runs");
        platform.declareTopic("acme-runs", "answers.*", Map.of());
        admin = platform.createKey("acme-runs", "admin");
        publisher = platform.createKey("acme-runs", "publish");
        reader = platform.createKey("acme-runs", "subscribe");
        stranger = platform.createKey("globex-runs", "admin", "publish", "subscribe");
        platform.gatewayClient(0).put().uri("/v1/pipelines/echo").header("Authorization", admin.bearer())
                .contentType(MediaType.parseMediaType("application/yaml")).bodyValue(PIPELINE)
                .exchange().expectStatus().isCreated().expectBody().returnResult();
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    WebTestClient gateway() {
        return platform.gatewayClient(0);
    }

    EntityExchangeResult<JsonNode> post(String bearer, String path, String body) {
        return gateway().post().uri(path).header("Authorization", bearer).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body).exchange().expectBody(JsonNode.class).returnResult();
    }

    EntityExchangeResult<JsonNode> get(String bearer, String path) {
        return gateway().get().uri(path).header("Authorization", bearer).exchange().expectBody(JsonNode.class).returnResult();
    }

    static boolean completed(JsonNode frame) {
        return frame.path("op").asString().equals("event") && frame.path("event").path("type").asString().equals("ai.completed");
    }

    static String tokens(List<JsonNode> frames) {
        return frames.stream().filter(f -> f.path("event").path("type").asString().equals("ai.token"))
                .map(f -> f.path("event").path("data").path("text").asString()).collect(Collectors.joining());
    }

    @Test
    void aRunsTokensStreamToABrowserInOrderAndALateSocketResumesExactly() {
        String jwt = WsClient.jwt(secret, "acme-runs", Instant.now().plusSeconds(600), List.of("answers.>"), List.of());
        String words = "Durable answers survive a dropped socket and resume where they left off";
        try (WsClient browser = WsClient.open(platform.gatewayUrl(0)).connect(jwt)) {
            browser.subscribe("answers.lobby", 0);
            EntityExchangeResult<JsonNode> started = post(publisher.bearer(), "/v1/pipelines/echo/runs",
                    "{\"data\":{\"text\":\"" + words + "\"}}");
            assertThat(started.getStatus().value()).as("%s", started.getResponseBody()).isEqualTo(201);
            String run = started.getResponseBody().path("run").asString();
            assertThat(started.getResponseHeaders().getLocation()).hasToString("/v1/runs/" + run);

            List<JsonNode> frames = browser.until(GatewayRunsIntegrationTests::completed, Duration.ofSeconds(30));
            List<JsonNode> events = frames.stream().filter(f -> f.path("op").asString().equals("event")).toList();
            assertThat(events).allSatisfy(f -> assertThat(f.path("event").path("correlationid").asString()).isEqualTo(run));
            assertThat(TestPlatform.eventSeqs(events)).isSorted().doesNotHaveDuplicates();
            assertThat(tokens(events).strip()).isEqualTo(words);
            JsonNode done = events.get(events.size() - 1).path("event").path("data");
            assertThat(done.path("answer").asString()).isEqualTo(words);
            assertThat(events.get(0).path("event").path("data").path("index").asInt()).isZero();

            // A socket that saw the first three events resumes after the third: the rest, exactly once.
            long third = events.get(2).path("event").path("seq").asLong();
            try (WsClient late = WsClient.open(platform.gatewayUrl(0)).connect(jwt)) {
                late.subscribe("answers.lobby", third);
                List<JsonNode> rest = late.until(GatewayRunsIntegrationTests::completed, Duration.ofSeconds(30)).stream()
                        .filter(f -> f.path("op").asString().equals("event")
                                && f.path("event").path("correlationid").asString().equals(run)).toList();
                assertThat(TestPlatform.eventSeqs(rest)).isEqualTo(TestPlatform.eventSeqs(events.subList(3, events.size())));
            }

            // The run as its reader sees it: completed, every step and attempt.
            JsonNode view = get(reader.bearer(), "/v1/runs/" + run).getResponseBody();
            assertThat(view.path("status").asString()).isEqualTo("completed");
            assertThat(view.path("answer").asString()).isEqualTo(words);
            assertThat(view.path("steps").findValuesAsString("status")).containsOnly("completed");
            JsonNode draft = view.path("steps").get(1).path("attempts").get(0);
            assertThat(draft.path("tokens").asInt())
                    .isEqualTo(events.stream().filter(f -> f.path("event").path("type").asString().equals("ai.token")).count());

            // An ended run cannot be cancelled: workflow-service's 409, relayed.
            EntityExchangeResult<JsonNode> cancel = post(publisher.bearer(), "/v1/runs/" + run + "/cancel", "");
            assertThat(cancel.getStatus().value()).isEqualTo(409);
            assertThat(cancel.getResponseBody().path("code").asString()).isEqualTo("conflict");
            // Another tenant does not find it.
            assertThat(get(stranger.bearer(), "/v1/runs/" + run).getStatus().value()).isEqualTo(404);
        }
    }

    @Test
    void aTriggerEventStartsOneRunHoweverOftenItIsDelivered() throws Exception {
        platform.declareTopic("acme-runs", "questions", Map.of());
        gateway().put().uri("/v1/pipelines/asked").header("Authorization", admin.bearer())
                .contentType(MediaType.parseMediaType("application/yaml")).bodyValue("""
                        trigger: {topic: questions, types: [chat.question]}
                        output: answers.triggered
                        steps:
                          - {id: ask, type: prompt, template: "Q: {{data.text}} (from {{trigger.source}})"}
                          - {id: say, type: model, input: ask, provider: echo, model: echo-1}
                        """).exchange().expectStatus().isCreated().expectBody().returnResult();
        WebTestClient delivery = WebTestClient.bindToServer().baseUrl(platform.deliveryUrl())
                .defaultHeader("Authorization", "Bearer " + TestPlatform.SERVICE_TOKEN).build();
        String group = "/internal/v1/tenants/acme-runs/topics/questions/groups/wf-asked";
        // The trigger's group starts at the events published after its first poll: wait for it to exist.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (delivery.get().uri(group).exchange().returnResult(Void.class).getStatus().value() != 200) {
            assertThat(System.nanoTime()).as("the trigger's consumer group to appear").isLessThan(deadline);
            Thread.sleep(100);
        }
        for (String event : List.of("{\"id\":\"q-1\",\"type\":\"chat.question\",\"source\":\"/rooms/7\",\"data\":{\"text\":\"Is it durable?\"}}",
                "{\"id\":\"n-1\",\"type\":\"chat.typing\",\"source\":\"/rooms/7\",\"data\":{}}")) {
            assertThat(post(publisher.bearer(), "/v1/topics/questions/events", event).getStatus().value()).isEqualTo(201);
        }
        JsonNode completed = awaitEvent("answers.triggered", "ai.completed", "causationid", "q-1");
        assertThat(completed.path("data").path("answer").asString()).isEqualTo("Q: Is it durable? (from /rooms/7)");
        String run = completed.path("data").path("run").asString();
        JsonNode view = get(reader.bearer(), "/v1/runs/" + run).getResponseBody();
        assertThat(view.path("causationid").asString()).isEqualTo("q-1");
        assertThat(view.path("pipeline").asString()).isEqualTo("asked");

        // Delivered again (the group sought back to the start): the run exists, nothing starts twice.
        delivery.post().uri(group + "/seek").contentType(MediaType.APPLICATION_JSON).bodyValue("{\"to\":\"earliest\"}")
                .exchange().expectStatus().is2xxSuccessful().expectBody().returnResult();
        deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (delivery.get().uri(group).exchange().expectBody(JsonNode.class).returnResult().getResponseBody().path("lag").asLong() > 0) {
            assertThat(System.nanoTime()).as("the redelivered triggers to be acked").isLessThan(deadline);
            Thread.sleep(100);
        }
        Thread.sleep(1_000);
        JsonNode history = get(reader.bearer(), "/v1/topics/answers.triggered/events?after=0&limit=1000").getResponseBody();
        List<JsonNode> done = new java.util.ArrayList<>();
        history.path("events").forEach(e -> {
            if (e.path("type").asString().equals("ai.completed")) {
                done.add(e);
            }
        });
        assertThat(done).as("one run, for the question only").hasSize(1);
        assertThat(done.get(0).path("causationid").asString()).isEqualTo("q-1");
    }

    @Test
    void aPatternTriggerAnswersTheFirstQuestionOfEveryNewTopicOnItAndNothingAskedBeforeThePipeline() throws Exception {
        platform.declareTopic("acme-runs", "chat.*", Map.of());
        String question = "{\"id\":\"%s\",\"type\":\"chat.question\",\"source\":\"/chats\",\"data\":{\"text\":\"%s\"}}";
        // A chat that existed before the pipeline, with a question nobody was there to answer.
        assertThat(post(publisher.bearer(), "/v1/topics/chat.old/events", question.formatted("old-1", "Too early?")).getStatus().value())
                .isEqualTo(201);
        gateway().put().uri("/v1/pipelines/chatty").header("Authorization", admin.bearer())
                .contentType(MediaType.parseMediaType("application/yaml")).bodyValue("""
                        trigger: {topic: "chat.*", types: [chat.question]}
                        output: "{trigger.topic}"
                        steps:
                          - {id: ask, type: prompt, template: "{{trigger.topic}}: {{data.text}}"}
                          - {id: say, type: model, input: ask, provider: echo, model: echo-1}
                        """).exchange().expectStatus().isCreated().expectBody().returnResult();

        // Chats opened after the pipeline: the question that created each topic is answered, on that topic.
        for (String chat : List.of("alice", "bob")) {
            assertThat(post(publisher.bearer(), "/v1/topics/chat." + chat + "/events", question.formatted(chat + "-1", "Hello from " + chat))
                    .getStatus().value()).isEqualTo(201);
        }
        for (String chat : List.of("alice", "bob")) {
            JsonNode completed = awaitEvent("chat." + chat, "ai.completed", "causationid", chat + "-1");
            assertThat(completed.path("data").path("answer").asString()).isEqualTo("chat." + chat + ": Hello from " + chat);
        }

        // The older chat: its group starts at its head when the pipeline first finds it, so a new question is answered.
        WebTestClient delivery = WebTestClient.bindToServer().baseUrl(platform.deliveryUrl())
                .defaultHeader("Authorization", "Bearer " + TestPlatform.SERVICE_TOKEN).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (delivery.get().uri("/internal/v1/tenants/acme-runs/topics/chat.old/groups/wf-chatty").exchange()
                .returnResult(Void.class).getStatus().value() != 200) {
            assertThat(System.nanoTime()).as("the trigger's group on chat.old to appear").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(post(publisher.bearer(), "/v1/topics/chat.old/events", question.formatted("old-2", "Now?")).getStatus().value())
                .isEqualTo(201);
        awaitEvent("chat.old", "ai.completed", "causationid", "old-2");
        // A later question on a chat with an answer: a run of its own. The runs' own events on the chats
        // (tokens, completions) match the pattern too and start nothing.
        assertThat(post(publisher.bearer(), "/v1/topics/chat.alice/events", question.formatted("alice-2", "Again")).getStatus().value())
                .isEqualTo(201);
        awaitEvent("chat.alice", "ai.completed", "causationid", "alice-2");
        Thread.sleep(1_500);
        Map<String, List<String>> answered = new java.util.TreeMap<>();
        for (String chat : List.of("alice", "bob", "old")) {
            answered.put(chat, new java.util.ArrayList<>());
            get(reader.bearer(), "/v1/topics/chat." + chat + "/events?after=0&limit=1000").getResponseBody().path("events").forEach(e -> {
                if (e.path("type").asString().equals("ai.completed")) {
                    answered.get(chat).add(e.path("causationid").asString());
                }
            });
        }
        assertThat(answered).isEqualTo(Map.of("alice", List.of("alice-1", "alice-2"), "bob", List.of("bob-1"), "old", List.of("old-2")));
    }

    @Test
    void aRunNobodyWatchesIsCancelledWhileAWatchedOneRunsToItsEnd() throws Exception {
        gateway().put().uri("/v1/pipelines/costly").header("Authorization", admin.bearer())
                .contentType(MediaType.parseMediaType("application/yaml")).bodyValue("""
                        cancelWhenUnwatched: PT3S
                        steps:
                          - {id: ask, type: prompt, template: "{{data.q}}"}
                          - {id: say, type: model, input: ask, provider: echo, model: echo-1}
                        """).exchange().expectStatus().isCreated().expectBody().returnResult();
        // 400 words at echo's 20 ms a token: about 8 s, longer than the 3 s limit.
        String words = "tokens cost money ".repeat(134).strip();
        String jwt = WsClient.jwt(secret, "acme-runs", Instant.now().plusSeconds(600), List.of("answers.>"), List.of());
        try (WsClient browser = WsClient.open(platform.gatewayUrl(0)).connect(jwt)) {
            browser.subscribe("answers.watched", null);
            // The gateway reports what its sockets watch every 2 s: let one report go out.
            Thread.sleep(2_500);
            String watched = post(publisher.bearer(), "/v1/pipelines/costly/runs",
                    "{\"data\":{\"q\":\"" + words + "\"},\"output\":\"answers.watched\"}").getResponseBody().path("run").asString();
            String unwatched = post(publisher.bearer(), "/v1/pipelines/costly/runs",
                    "{\"data\":{\"q\":\"" + words + "\"},\"output\":\"answers.unwatched\"}").getResponseBody().path("run").asString();

            JsonNode gone = awaitEnded(unwatched);
            assertThat(gone.path("status").asString()).as("%s", gone).isEqualTo("cancelled");
            assertThat(gone.path("error").asString()).contains("answers.unwatched", "cancelWhenUnwatched");
            // The run's end is committed first; its ai.failed leaves through the outbox just after.
            JsonNode failed = awaitEvent("answers.unwatched", "ai.failed", "correlationid", unwatched);
            assertThat(failed.path("data").path("error").asString()).isEqualTo("unwatched");
            long tokens = gone.path("steps").get(1).path("attempts").get(0).path("tokens").asLong();
            assertThat(tokens).as("the model call stopped well before its 400 tokens").isLessThan(390);

            List<JsonNode> frames = browser.until(GatewayRunsIntegrationTests::completed, Duration.ofSeconds(60));
            assertThat(frames.get(frames.size() - 1).path("event").path("correlationid").asString()).isEqualTo(watched);
            JsonNode done = awaitEnded(watched);
            assertThat(done.path("status").asString()).as("%s", done).isEqualTo("completed");
            assertThat(Duration.between(Instant.parse(done.path("createdAt").asString()), Instant.parse(done.path("finishedAt").asString())))
                    .as("it ran longer than the limit, watched all along").isGreaterThan(Duration.ofSeconds(3));
        }
    }

    JsonNode awaitEvent(String topic, String type, String field, String value) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode e : get(reader.bearer(), "/v1/topics/" + topic + "/events?after=0&limit=1000").getResponseBody().path("events")) {
                if (e.path("type").asString().equals(type) && e.path(field).asString().equals(value)) {
                    return e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no " + type + " with " + field + " " + value + " on " + topic);
    }

    JsonNode awaitEnded(String run) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode view = get(reader.bearer(), "/v1/runs/" + run).getResponseBody();
        while (view.path("status").asString().equals("running") && System.nanoTime() < deadline) {
            Thread.sleep(100);
            view = get(reader.bearer(), "/v1/runs/" + run).getResponseBody();
        }
        return view;
    }

    @Test
    void scopesDecideWhoStartsReadsAndCancels() {
        String jwt = WsClient.jwt(secret, "acme-runs", Instant.now().plusSeconds(600), List.of("answers.>"), List.of("answers.>"));
        EntityExchangeResult<JsonNode> byReader = post(reader.bearer(), "/v1/pipelines/echo/runs", "{}");
        assertThat(byReader.getStatus().value()).isEqualTo(403);
        assertThat(byReader.getResponseBody().path("detail").asString()).contains("scope publish or admin");
        assertThat(post("Bearer " + jwt, "/v1/pipelines/echo/runs", "{}").getStatus().value()).isEqualTo(403);
        assertThat(get("Bearer " + jwt, "/v1/runs/00000000-0000-0000-0000-000000000000").getStatus().value()).isEqualTo(403);
        assertThat(post(reader.bearer(), "/v1/runs/00000000-0000-0000-0000-000000000000/cancel", "").getStatus().value())
                .isEqualTo(403);
        assertThat(gateway().post().uri("/v1/pipelines/echo/runs").exchange().returnResult(Void.class).getStatus().value())
                .isEqualTo(401);

        EntityExchangeResult<JsonNode> byAdmin = post(admin.bearer(), "/v1/pipelines/echo/runs",
                "{\"data\":{\"text\":\"hi\"},\"output\":\"answers.scopes\"}");
        assertThat(byAdmin.getStatus().value()).isEqualTo(201);
        // workflow-service's refusals arrive unchanged.
        EntityExchangeResult<JsonNode> unknown = post(publisher.bearer(), "/v1/pipelines/nope/runs", "{}");
        assertThat(unknown.getStatus().value()).isEqualTo(404);
        assertThat(unknown.getResponseBody().path("code").asString()).isEqualTo("not_found");
        EntityExchangeResult<JsonNode> nowhere = post(publisher.bearer(), "/v1/pipelines/echo/runs", "{\"output\":\"elsewhere\"}");
        assertThat(nowhere.getStatus().value()).isEqualTo(404);
        assertThat(nowhere.getResponseBody().path("code").asString()).isEqualTo("topic_not_found");
        EntityExchangeResult<JsonNode> bad = post(publisher.bearer(), "/v1/pipelines/echo/runs", "{\"bogus\":1}");
        assertThat(bad.getStatus().value()).isEqualTo(400);
        assertThat(bad.getResponseHeaders().getContentType()).hasToString("application/problem+json");
    }

    /**
     * A run's output read as a Durable Stream ({@code /v1/stream/_runs/{run}}): over SSE, only this
     * run's events although another run writes to the same topic at the same time, in order, ending
     * by itself after {@code ai.completed}; read again, the same events and the stream closed; resumed
     * from its end, closed at once. Read-only, and only for credentials that may read the topic.
     */
    @Test
    void aRunsOutputIsReadableAsADurableStream() {
        String words = "Read by any Durable Streams client";
        // Both runs on a topic of their own (the other tests read answers.lobby from its start).
        String run = post(publisher.bearer(), "/v1/pipelines/echo/runs",
                "{\"output\":\"answers.ds-view\",\"data\":{\"text\":\"" + words + "\"}}").getResponseBody().path("run").asString();
        String other = post(publisher.bearer(), "/v1/pipelines/echo/runs",
                "{\"output\":\"answers.ds-view\",\"data\":{\"text\":\"another answer entirely\"}}").getResponseBody().path("run").asString();
        assertThat(other).isNotEqualTo(run);

        Flux<ServerSentEvent<String>> sse = WebClient.create(platform.gatewayUrl(0)).get()
                .uri("/v1/stream/_runs/{run}?offset=-1&live=sse", run).header("Authorization", reader.bearer())
                .retrieve().bodyToFlux(new ParameterizedTypeReference<ServerSentEvent<String>>() { });
        List<JsonNode> live = new ArrayList<>();
        List<JsonNode> controls = new ArrayList<>();
        StepVerifier.create(sse)
                .thenConsumeWhile(e -> {
                    JsonNode data = JSON.readTree(e.data());
                    if ("data".equals(e.event())) {
                        data.forEach(live::add);
                    } else {
                        controls.add(data);
                    }
                    return true;
                })
                .expectComplete()
                .verify(Duration.ofSeconds(30));
        assertThat(live).isNotEmpty().allSatisfy(e -> assertThat(e.path("correlationid").asString()).isEqualTo(run));
        assertThat(live.stream().map(e -> e.path("seq").asLong()).toList()).isSorted().doesNotHaveDuplicates();
        assertThat(live.get(live.size() - 1).path("type").asString()).isEqualTo("ai.completed");
        assertThat(live.stream().filter(e -> e.path("type").asString().equals("ai.token"))
                .map(e -> e.path("data").path("text").asString()).collect(Collectors.joining()).strip()).isEqualTo(words);
        JsonNode last = controls.get(controls.size() - 1);
        assertThat(last.path("streamClosed").asBoolean()).isTrue();
        String end = last.path("streamNextOffset").asString();

        EntityExchangeResult<byte[]> again = gateway().get().uri("/v1/stream/_runs/{run}", run).header("Authorization", reader.bearer())
                .exchange().expectStatus().isOk().expectHeader().contentType("application/json")
                .expectHeader().valueEquals("Stream-Closed", "true").expectHeader().valueEquals("Stream-Up-To-Date", "true")
                .expectHeader().valueEquals("Stream-Next-Offset", end)
                .expectBody().returnResult();
        assertThat(JSON.readTree(again.getResponseBody())).hasSize(live.size());
        gateway().get().uri("/v1/stream/_runs/{run}?offset={end}&live=long-poll", run, end).header("Authorization", reader.bearer())
                .exchange().expectStatus().isNoContent().expectHeader().valueEquals("Stream-Closed", "true");

        String browser = "Bearer " + WsClient.jwt(secret, "acme-runs", Instant.now().plusSeconds(600), List.of("answers.>"), List.of());
        gateway().get().uri("/v1/stream/_runs/{run}", run).header("Authorization", browser).exchange().expectStatus().isOk();
        String elsewhere = "Bearer " + WsClient.jwt(secret, "acme-runs", Instant.now().plusSeconds(600), List.of("other.>"), List.of());
        gateway().get().uri("/v1/stream/_runs/{run}", run).header("Authorization", elsewhere).exchange().expectStatus().isForbidden();
        gateway().post().uri("/v1/stream/_runs/{run}", run).header("Authorization", admin.bearer()).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange().expectStatus().isEqualTo(405).expectHeader().valueEquals("Allow", "GET, HEAD");
        gateway().get().uri("/v1/stream/_runs/{run}", run).header("Authorization", stranger.bearer()).exchange().expectStatus().isNotFound();
    }
}
