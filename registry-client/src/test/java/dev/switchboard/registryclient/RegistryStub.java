package dev.switchboard.registryclient;

import dev.switchboard.contracts.registry.InternalApi;
import dev.switchboard.contracts.registry.KeyResolveRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.QueryStringDecoder;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A stand-in for registry-service's internal API on a real socket: in-memory tenants, keys, topics,
 * quotas and secrets, problem+json errors, and an NDJSON change feed the test pushes lines into.
 * It counts every request so tests can tell a cache hit from a miss.
 */
final class RegistryStub implements AutoCloseable {

    static final String TOKEN = "test-service-token";

    /** A response a test forces on one call instead of the normal answer. */
    record Forced(int status, String contentType, String body) {
        static Forced problem(int status, String code) {
            return new Forced(status, "application/problem+json", problemJson(status, code, "forced " + code));
        }
    }

    private final JsonMapper json = JsonMapper.builder().build();
    private final DisposableServer server;

    final Map<String, String> keys = new ConcurrentHashMap<>();
    final Map<String, String> topics = new ConcurrentHashMap<>();
    final Map<String, String> secrets = new ConcurrentHashMap<>();
    final Map<String, String> quotas = new ConcurrentHashMap<>();

    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final Map<String, Deque<Forced>> forcedOnce = new ConcurrentHashMap<>();
    private final Map<String, Forced> forcedAlways = new ConcurrentHashMap<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    volatile Duration delay = Duration.ZERO;
    volatile boolean hang;

    private final AtomicLong lastChangeId = new AtomicLong();
    private final List<ChangeRow> changeLog = new CopyOnWriteArrayList<>();
    private final List<Sinks.Many<String>> feeds = new CopyOnWriteArrayList<>();
    final List<Long> feedRequests = new CopyOnWriteArrayList<>();
    volatile boolean feedAvailable = true;
    private Disposable heartbeats = Disposables.disposed();
    volatile boolean silent;

    private record ChangeRow(long id, String line) {
    }

    /** What subscribers reported they applied, in arrival order: "subscriber appliedThrough ttlMs". */
    final List<String> appliedReports = new CopyOnWriteArrayList<>();
    /** The subscribers that said they leave. */
    final List<String> left = new CopyOnWriteArrayList<>();

    private Mono<Void> applied(HttpServerRequest req, HttpServerResponse res) {
        return req.receive().aggregate().asString().defaultIfEmpty("").flatMap(body -> {
            tools.jackson.databind.JsonNode report = tools.jackson.databind.json.JsonMapper.builder().build().readTree(body);
            appliedReports.add(req.param("subscriber") + " " + report.path("appliedThrough").asLong() + " " + report.path("ttlMs").asLong());
            return res.status(204).send().then();
        });
    }

    RegistryStub() {
        server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .route(routes -> routes
                        .post(InternalApi.RESOLVE_KEY, this::resolveKey)
                        .get(InternalApi.RESOLVE_TOPIC, (req, res) -> lookup(req, res, "resolve_topic",
                                req.param("tenant") + "/" + query(req, "name"), topics, "topic_not_found"))
                        .get(InternalApi.CLIENT_SECRETS, (req, res) -> lookup(req, res, "client_secrets",
                                req.param("tenant"), secrets, "not_found"))
                        .get(InternalApi.QUOTAS, (req, res) -> lookup(req, res, "quotas",
                                req.param("tenant"), quotas, "not_found"))
                        .get(InternalApi.CHANGES, this::changes)
                        .put(InternalApi.CHANGE_SUBSCRIBER, this::applied)
                        .delete(InternalApi.CHANGE_SUBSCRIBER, (req, res) -> {
                            left.add(req.param("subscriber"));
                            return res.status(204).send();
                        }))
                .bindNow();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    /** Forgets data, counters, forced answers and feed history; ends open feeds. */
    void reset() {
        keys.clear();
        topics.clear();
        secrets.clear();
        quotas.clear();
        hits.clear();
        forcedOnce.clear();
        forcedAlways.clear();
        authorizations.clear();
        appliedReports.clear();
        left.clear();
        delay = Duration.ZERO;
        hang = false;
        endFeeds();
        changeLog.clear();
        lastChangeId.set(0);
        feedRequests.clear();
        feedAvailable = true;
        heartbeats.dispose();
        silent = false;
    }

    // ---- data -------------------------------------------------------------------------------

    void key(String rawKey, String tenant, String keyId, String... scopes) {
        StringBuilder list = new StringBuilder();
        for (String scope : scopes) {
            list.append(list.isEmpty() ? "" : ",").append('"').append(scope).append('"');
        }
        keys.put(rawKey, "{\"tenant\":\"" + tenant + "\",\"keyId\":\"" + keyId + "\",\"scopes\":[" + list + "]}");
    }

    void topic(String tenant, String topic, String declaredBy, int partitions, String defaultTtl) {
        String ttl = defaultTtl == null ? "null" : "\"" + defaultTtl + "\"";
        topics.put(tenant + "/" + topic, "{\"tenant\":\"" + tenant + "\",\"topic\":\"" + topic + "\",\"declaredBy\":\"" + declaredBy + "\","
                + "\"settings\":{\"partitions\":" + partitions + ",\"retention\":\"P7D\",\"dedupWindow\":\"PT24H\",\"defaultTtl\":" + ttl + ","
                + "\"maxPayloadBytes\":65536,\"schemaVersions\":{\"min\":1,\"max\":3},\"maxLag\":100000,\"lagPolicy\":\"shed\","
                + "\"maxAttempts\":5,\"publishRate\":{\"perSecond\":1000,\"burst\":2000}}}");
    }

    void secrets(String tenant, String... values) {
        StringBuilder list = new StringBuilder();
        for (String value : values) {
            list.append(list.isEmpty() ? "" : ",").append('"').append(value).append('"');
        }
        secrets.put(tenant, "{\"tenant\":\"" + tenant + "\",\"secrets\":[" + list + "]}");
    }

    void quotas(String tenant, int publishPerSecond) {
        quotas.put(tenant, "{\"publishPerSecond\":" + publishPerSecond + ",\"burst\":2000,\"maxConnections\":10000,"
                + "\"maxSubscriptionsPerConnection\":100,\"maxPayloadBytes\":65536,\"unknownField\":true}");
    }

    /** Requests received for one call and id (the raw key, {@code tenant/topic} or the tenant). */
    int hits(String call, String id) {
        AtomicInteger count = hits.get(call + ":" + id);
        return count == null ? 0 : count.get();
    }

    void forceOnce(String call, Forced... responses) {
        forcedOnce.computeIfAbsent(call, c -> new ArrayDeque<>()).addAll(List.of(responses));
    }

    void forceAlways(String call, Forced response) {
        forcedAlways.put(call, response);
    }

    void stopForcing(String call) {
        forcedAlways.remove(call);
    }

    // ---- change feed ------------------------------------------------------------------------

    /** Appends a change to the log and sends it to every open feed; returns its id. */
    long push(String kind, String tenant, String ref) {
        long id = lastChangeId.incrementAndGet();
        String line = changeLine(id, kind, tenant, ref);
        changeLog.add(new ChangeRow(id, line));
        feeds.forEach(feed -> feed.tryEmitNext(line));
        return id;
    }

    /** From now on, a heartbeat line to every open feed at this interval, unless {@link #silent}. */
    void heartbeatEvery(Duration interval) {
        heartbeats.dispose();
        heartbeats = Flux.interval(interval).filter(tick -> !silent).subscribe(tick -> heartbeat());
    }

    /** Sends a heartbeat line to every open feed now. */
    void heartbeat() {
        String line = changeLine(lastChangeId.get(), "heartbeat", null, null);
        feeds.forEach(feed -> feed.tryEmitNext(line));
    }

    /** Ends every open feed cleanly, as a registry that shuts down would. */
    void endFeeds() {
        feeds.forEach(Sinks.Many::tryEmitComplete);
    }

    /** Breaks every open feed mid-stream. */
    void breakFeeds() {
        feeds.forEach(feed -> feed.tryEmitError(new IOException("feed broken by the test")));
    }

    int openFeeds() {
        return feeds.size();
    }

    private Mono<Void> changes(HttpServerRequest req, HttpServerResponse res) {
        authorizations.add(String.valueOf(req.requestHeaders().get("Authorization")));
        if (!authorized(req)) {
            return problem(res, 401, "unauthenticated");
        }
        long after = Long.parseLong(query(req, "after"));
        feedRequests.add(after);
        if (!feedAvailable) {
            return problem(res, 503, "unavailable");
        }
        Sinks.Many<String> sink = Sinks.many().unicast().onBackpressureBuffer();
        feeds.add(sink); // before the replay snapshot: a line pushed in between arrives twice, never not at all
        List<String> replay = changeLog.stream().filter(row -> row.id() > after).map(ChangeRow::line).toList();
        Flux<ByteBuf> body = Flux.fromIterable(replay)
                .concatWith(sink.asFlux())
                .map(line -> Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8))
                .doFinally(signal -> feeds.remove(sink));
        return res.status(200)
                .header("Content-Type", "application/x-ndjson")
                .send(body, buffer -> true)
                .then();
    }

    private static String changeLine(long id, String kind, String tenant, String ref) {
        return "{\"id\":" + id + ",\"kind\":\"" + kind + "\",\"tenant\":" + quoted(tenant) + ",\"ref\":" + quoted(ref)
                + ",\"at\":\"" + Instant.now() + "\"}";
    }

    // ---- lookups ----------------------------------------------------------------------------

    private Mono<Void> resolveKey(HttpServerRequest req, HttpServerResponse res) {
        return req.receive().aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("{}").flatMap(body -> {
            String raw = json.readValue(body, KeyResolveRequest.class).key();
            return lookup(req, res, "resolve_key", raw, keys, "unauthenticated");
        });
    }

    private Mono<Void> lookup(HttpServerRequest req, HttpServerResponse res, String call, String id,
                              Map<String, String> data, String missingCode) {
        hits.computeIfAbsent(call + ":" + id, k -> new AtomicInteger()).incrementAndGet();
        authorizations.add(String.valueOf(req.requestHeaders().get("Authorization")));
        if (hang) {
            return Mono.never();
        }
        Supplier<Mono<Void>> answer = () -> {
            if (!authorized(req)) {
                return problem(res, 401, "unauthenticated");
            }
            Forced forced = next(call);
            if (forced != null) {
                return send(res, forced.status(), forced.contentType(), forced.body());
            }
            String found = data.get(id);
            if (found == null) {
                return problem(res, "unauthenticated".equals(missingCode) ? 401 : 404, missingCode);
            }
            return send(res, 200, "application/json", found);
        };
        Duration wait = delay;
        return wait.isZero() ? answer.get() : Mono.delay(wait).then(Mono.defer(answer));
    }

    private Forced next(String call) {
        Deque<Forced> once = forcedOnce.get(call);
        if (once != null) {
            synchronized (once) {
                Forced forced = once.poll();
                if (forced != null) {
                    return forced;
                }
            }
        }
        return forcedAlways.get(call);
    }

    private static boolean authorized(HttpServerRequest req) {
        return ("Bearer " + TOKEN).equals(req.requestHeaders().get("Authorization"));
    }

    private static Mono<Void> problem(HttpServerResponse res, int status, String code) {
        return send(res, status, "application/problem+json", problemJson(status, code, "stub says " + code));
    }

    private static String problemJson(int status, String code, String detail) {
        return "{\"type\":\"urn:switchboard:problem:" + code + "\",\"title\":\"" + code + "\",\"status\":" + status
                + ",\"detail\":\"" + detail + "\",\"code\":\"" + code + "\"}";
    }

    private static Mono<Void> send(HttpServerResponse res, int status, String contentType, String body) {
        return res.status(status).header("Content-Type", contentType).sendString(Mono.just(body)).then();
    }

    private static String query(HttpServerRequest req, String name) {
        List<String> values = new QueryStringDecoder(req.uri()).parameters().get(name);
        return values == null || values.isEmpty() ? "" : values.get(0);
    }

    private static String quoted(String value) {
        return value == null ? "null" : "\"" + value + "\"";
    }

    @Override
    public void close() {
        heartbeats.dispose();
        endFeeds();
        server.disposeNow(Duration.ofSeconds(2));
    }
}
