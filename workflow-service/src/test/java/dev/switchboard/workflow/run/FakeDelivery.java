package dev.switchboard.workflow.run;

import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Stands in for delivery-service's internal publish API in this module's tests (the gateway's
 * tests run runs against the real one): it keeps what each topic received, in arrival order, stores
 * an event id once (as delivery's dedup does), answers {@code 404 topic_not_found} for topics it was
 * not told of, and can refuse publishes with {@code 429} to show the run waits and resends.
 */
final class FakeDelivery implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final DisposableServer server;
    private final Set<String> topics = ConcurrentHashMap.newKeySet();
    private final Map<String, List<JsonNode>> stored = new ConcurrentHashMap<>();
    private final Set<String> ids = ConcurrentHashMap.newKeySet();
    private final AtomicInteger throttle = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();

    FakeDelivery() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes
                        .post("/internal/v1/tenants/{tenant}/topics/{topic}/events", this::publish)
                        .get("/internal/v1/tenants/{tenant}/topics/{topic}/events", (req, res) -> topics.contains(key(req))
                                ? json(res, HttpResponseStatus.OK, "{\"events\":[],\"head\":0}")
                                : notFound(res, req.param("topic"))))
                .bindNow(Duration.ofSeconds(10));
    }

    String url() {
        return "http://127.0.0.1:" + server.port();
    }

    void declare(String tenant, String topic) {
        topics.add(tenant + "/" + topic);
    }

    /** The next {@code n} publishes get {@code 429 rate_limited}. */
    void throttleNext(int n) {
        throttle.set(n);
    }

    /** What the topic has stored, in order. */
    List<JsonNode> events(String tenant, String topic) {
        return List.copyOf(stored.getOrDefault(tenant + "/" + topic, List.of()));
    }

    List<JsonNode> events(String tenant, String topic, Predicate<JsonNode> which) {
        return events(tenant, topic).stream().filter(which).toList();
    }

    private static String key(HttpServerRequest req) {
        return req.param("tenant") + "/" + req.param("topic");
    }

    private Mono<Void> publish(HttpServerRequest req, HttpServerResponse res) {
        return req.receive().aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("").flatMap(body -> {
            requests.incrementAndGet();
            if (!topics.contains(key(req))) {
                return notFound(res, req.param("topic")).then();
            }
            if (throttle.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                refused.incrementAndGet();
                return res.status(429).header("Retry-After", "1").header("Content-Type", "application/problem+json")
                        .sendString(Mono.just("{\"code\":\"rate_limited\",\"status\":429,\"retryAfterMs\":30}")).then();
            }
            List<JsonNode> events = new ArrayList<>();
            JSON.readTree(body).forEach(events::add);
            synchronized (this) {
                List<JsonNode> list = stored.computeIfAbsent(key(req), k -> new CopyOnWriteArrayList<>());
                Set<String> seen = new HashSet<>();
                for (JsonNode event : events) {
                    String id = key(req) + "/" + event.path("id").asString();
                    if (ids.add(id) && seen.add(id)) {
                        list.add(event);
                    }
                }
            }
            return json(res, HttpResponseStatus.CREATED, "{\"results\":[]}").then();
        });
    }

    private static Mono<Void> json(HttpServerResponse res, HttpResponseStatus status, String body) {
        return res.status(status).header("Content-Type", "application/json").sendString(Mono.just(body)).then();
    }

    private static Mono<Void> notFound(HttpServerResponse res, String topic) {
        return res.status(404).header("Content-Type", "application/problem+json")
                .sendString(Mono.just("{\"code\":\"topic_not_found\",\"status\":404,\"detail\":\"No topic " + topic + "\"}")).then();
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
