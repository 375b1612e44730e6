package dev.switchboard.gateway;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A real WebSocket client for tests (Reactor Netty): frames received go to a queue the test thread
 * polls with a timeout; it can stop reading (then TCP backpressure reaches the server) and be
 * dropped without a close handshake.
 */
final class WsClient implements AutoCloseable {

    static final JsonMapper JSON = JsonMapper.builder().build();
    static final Duration WAIT = Duration.ofSeconds(20);

    final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    final AtomicInteger pings = new AtomicInteger();
    private final Sinks.Many<WebSocketFrame> outbound = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Empty<Void> resume = Sinks.empty();
    private volatile boolean paused;
    private final Disposable connection;
    private long nextId = 100;

    private WsClient(String url, String origin, boolean handlePing, int receiveBuffer) {
        this(url, origin, handlePing, receiveBuffer, null);
    }

    private WsClient(String url, String origin, boolean handlePing, int receiveBuffer, String localAddress) {
        HttpClient http = HttpClient.create(ConnectionProvider.newConnection())
                .headers(h -> {
                    if (origin != null) {
                        h.set("Origin", origin);
                    }
                });
        if (receiveBuffer > 0) {
            http = http.option(ChannelOption.SO_RCVBUF, receiveBuffer);
        }
        if (localAddress != null) {
            http = http.bindAddress(() -> new java.net.InetSocketAddress(localAddress, 0));
        }
        connection = http
                .websocket(WebsocketClientSpec.builder().maxFramePayloadLength(8 * 1024 * 1024).handlePing(handlePing).build())
                .uri(url.replace("http://", "ws://") + "/v1/ws")
                .handle((in, out) -> {
                    in.receiveCloseStatus().subscribe(s -> closeCode.complete(s.code()), e -> { }, () -> closeCode.complete(-1));
                    Mono<Void> receive = in.aggregateFrames(8 * 1024 * 1024).receiveFrames()
                            .doOnNext(f -> {
                                if (f instanceof PingWebSocketFrame) {
                                    pings.incrementAndGet();
                                }
                            })
                            .filter(TextWebSocketFrame.class::isInstance)
                            .map(f -> ((TextWebSocketFrame) f).text())
                            .concatMap(text -> paused ? resume.asMono().thenReturn(text) : Mono.just(text), 0)
                            .doOnNext(text -> frames.add(JSON.readTree(text)))
                            .then();
                    Mono<Void> send = out.sendObject(outbound.asFlux()).then();
                    return Mono.when(receive, send);
                })
                .subscribe(x -> { }, e -> {
                    failure.complete(e);
                    closeCode.complete(-2);
                }, () -> closeCode.complete(-1));
    }

    static WsClient open(String gatewayUrl) {
        return new WsClient(gatewayUrl, null, false, 0);
    }

    /** A client connecting from {@code localAddress} (another loopback address, 127.0.0.2 and so on). */
    static WsClient from(String gatewayUrl, String localAddress) {
        return new WsClient(gatewayUrl, null, false, 0, localAddress);
    }

    static WsClient open(String gatewayUrl, String origin) {
        return new WsClient(gatewayUrl, origin, false, 0);
    }

    /** A client that sees server pings and never answers them. */
    static WsClient silent(String gatewayUrl) {
        return new WsClient(gatewayUrl, null, true, 0);
    }

    /** A client with a small TCP receive buffer, so stopping to read backs up to the server quickly. */
    static WsClient smallBuffer(String gatewayUrl) {
        return new WsClient(gatewayUrl, null, false, 4096);
    }

    static String jwt(String secret, String tenant, Instant exp, List<String> subscribe, List<String> publish) {
        return jwt(secret, tenant, "user-1", exp, subscribe, publish);
    }

    static String jwt(String secret, String tenant, String subject, Instant exp, List<String> subscribe, List<String> publish) {
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().subject(subject);
        if (tenant != null) {
            claims.claim("tid", tenant);
        }
        if (exp != null) {
            claims.expirationTime(Date.from(exp));
        }
        claims.claim("subscribe", subscribe).claim("publish", publish);
        SignedJWT token = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
        try {
            token.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return token.serialize();
    }

    static String jwt(String secret, String tenant, List<String> patterns) {
        return jwt(secret, tenant, Instant.now().plusSeconds(600), patterns, patterns);
    }

    /** Any frame as given: reserved bits, bytes that are not UTF-8 in a text frame. */
    void sendFrame(WebSocketFrame frame) {
        outbound.tryEmitNext(frame);
    }

    void sendRaw(String text) {
        outbound.tryEmitNext(new TextWebSocketFrame(text));
    }

    /** Sends {@code text} as one message of {@code pieces} fragments: a text frame, then continuations. */
    void sendFragmented(String text, int pieces) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int step = (bytes.length + pieces - 1) / pieces;
        for (int from = 0; from < bytes.length; from += step) {
            int to = Math.min(bytes.length, from + step);
            io.netty.buffer.ByteBuf part = io.netty.buffer.Unpooled.wrappedBuffer(bytes, from, to - from);
            boolean last = to == bytes.length;
            outbound.tryEmitNext(from == 0 ? new TextWebSocketFrame(last, 0, part) : new ContinuationWebSocketFrame(last, 0, part));
        }
    }

    long send(Map<String, Object> frame) {
        long id = nextId++;
        Map<String, Object> withId = new java.util.LinkedHashMap<>(frame);
        withId.putIfAbsent("id", id);
        sendRaw(JSON.writeValueAsString(withId));
        return ((Number) withId.get("id")).longValue();
    }

    /** Connects and waits for {@code connected}. */
    WsClient connect(String token) {
        long id = send(Map.of("op", "connect", "token", token));
        JsonNode connected = next(f -> true);
        assertThat(connected.path("op").asString()).as("reply to connect: %s", connected).isEqualTo("connected");
        assertThat(connected.path("id").asLong()).isEqualTo(id);
        return this;
    }

    /** Subscribes and waits for {@code subscribed}; returns it. */
    JsonNode subscribe(String topic, Object after) {
        Map<String, Object> frame = new java.util.LinkedHashMap<>(Map.of("op", "subscribe", "topic", topic));
        if (after != null) {
            frame.put("after", after);
        }
        long id = send(frame);
        JsonNode reply = next(f -> f.path("id").asLong(-1) == id);
        assertThat(reply.path("op").asString()).as("reply to subscribe: %s", reply).isEqualTo("subscribed");
        return reply;
    }

    /** The next frame matching {@code filter}; frames before it that do not match are dropped. */
    JsonNode next(Predicate<JsonNode> filter) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                JsonNode frame = frames.poll(100, TimeUnit.MILLISECONDS);
                if (frame != null && filter.test(frame)) {
                    return frame;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return fail("no matching frame within " + WAIT + "; close code " + closeCode.getNow(null));
    }

    JsonNode nextOp(String op) {
        return next(f -> f.path("op").asString().equals(op));
    }

    /** Takes frames until {@code stop} matches one (returned last) or the time runs out. */
    List<JsonNode> until(Predicate<JsonNode> stop, Duration within) {
        List<JsonNode> taken = new ArrayList<>();
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                JsonNode frame = frames.poll(100, TimeUnit.MILLISECONDS);
                if (frame != null) {
                    taken.add(frame);
                    if (stop.test(frame)) {
                        return taken;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String last = taken.isEmpty() ? "none" : taken.get(taken.size() - 1).toString();
        return fail("stop frame not seen within " + within + "; got " + taken.size() + " frames, the last "
                + last.substring(0, Math.min(200, last.length())) + "; close code " + closeCode.getNow(null)
                + "; failure " + failure.getNow(null));
    }

    int awaitClose() {
        return awaitClose(WAIT);
    }

    int awaitClose(Duration within) {
        try {
            return closeCode.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return fail("not closed within " + WAIT);
        }
    }

    void pause() {
        paused = true;
    }

    void unpause() {
        paused = false;
        resume.tryEmitEmpty();
    }

    /** Drops the connection without a close handshake. */
    void drop() {
        connection.dispose();
    }

    @Override
    public void close() {
        connection.dispose();
    }
}
