package dev.switchboard.workflow.run;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible server for the tests: {@code POST /v1/chat/completions} with
 * {@code "stream": true} answers Server-Sent Events of chat completion chunks, one per token, then
 * {@code data: [DONE]} — real HTTP, really streamed. Each call takes the next behaviour scripted for
 * a text its prompt contains (so tests running one after another never take each other's):
 * answer, answer some tokens and then drop the connection, or stall after some tokens.
 */
final class FakeOpenAi implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** What one call does: stream {@code tokens}; then, if {@code cutAfter} ≥ 0, stop after that many — dropping the connection or stalling. */
    record Script(List<String> tokens, int cutAfter, boolean stall, Duration pace) {
        static Script answer(Duration pace, String... tokens) {
            return new Script(List.of(tokens), -1, false, pace);
        }

        static Script dropAfter(int n, String... tokens) {
            return new Script(List.of(tokens), n, false, Duration.ofMillis(5));
        }

        static Script stallAfter(int n, String... tokens) {
            return new Script(List.of(tokens), n, true, Duration.ofMillis(5));
        }
    }

    private final DisposableServer server;
    private final Map<String, Queue<Script>> scripts = new ConcurrentHashMap<>();
    private final Script fallback = Script.answer(Duration.ofMillis(2), "fake ", "answer");
    final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    final AtomicInteger cancelled = new AtomicInteger();

    FakeOpenAi() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post("/v1/chat/completions", this::complete))
                .bindNow(Duration.ofSeconds(10));
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.port() + "/v1";
    }

    /** What the next calls whose prompt contains {@code key} do, in order; after them, a short answer. */
    void script(String key, Script... next) {
        scripts.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>()).addAll(List.of(next));
    }

    private Mono<Void> complete(HttpServerRequest req, HttpServerResponse res) {
        return req.receive().aggregate().asString(StandardCharsets.UTF_8).flatMap(body -> {
            JsonNode request = JSON.readTree(body);
            requests.add(request);
            String prompt = request.path("messages").toString();
            Script script = scripts.entrySet().stream().filter(e -> prompt.contains(e.getKey())).findFirst()
                    .map(e -> e.getValue().poll()).orElse(null);
            Script s = script == null ? fallback : script;
            String model = request.path("model").asString();
            int count = s.cutAfter() >= 0 ? Math.min(s.cutAfter(), s.tokens().size()) : s.tokens().size();
            Flux<String> chunks = Flux.fromIterable(s.tokens().subList(0, count))
                    .delayElements(s.pace())
                    .map(token -> "data: " + chunk(model, token, null) + "\n\n");
            if (s.cutAfter() < 0) {
                chunks = chunks.concatWith(Flux.just("data: " + chunk(model, "", "stop") + "\n\n", "data: [DONE]\n\n"));
            } else if (s.stall()) {
                chunks = chunks.concatWith(Flux.never());
            } else {
                // Dropping the connection mid-answer, before the body's last chunk: the client sees a broken stream.
                chunks = chunks.concatWith(Flux.defer(() -> {
                    res.withConnection(c -> c.channel().close());
                    return Flux.<String>never();
                }));
            }
            Flux<String> sent = chunks.doOnCancel(cancelled::incrementAndGet);
            return res.header("Content-Type", "text/event-stream").sendString(sent).then();
        });
    }

    private static String chunk(String model, String token, String finish) {
        var choice = JSON.createObjectNode().put("index", 0);
        choice.set("delta", token.isEmpty() ? JSON.createObjectNode() : JSON.createObjectNode().put("content", token));
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        var chunk = JSON.createObjectNode().put("id", "chatcmpl-1").put("object", "chat.completion.chunk")
                .put("created", 1_700_000_000L).put("model", model);
        chunk.putArray("choices").add(choice);
        return chunk.toString();
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
