package dev.switchboard.standalone;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.switchboard.testsupport.History;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A WebSocket subscriber to one single-partition topic that resumes by itself, as a user's client
 * does from the protocol alone: it remembers the seq of the last event it saw; when its socket
 * closes or fails (a gateway restart: {@code reconnect}, then close 1012) it connects again after a
 * short jittered delay and subscribes with {@code after} = that seq; when the gateway ends its
 * subscription with an {@code error} frame naming the topic (the event log unavailable while
 * delivery restarts) it subscribes again the same way. Every event must carry seq = last + 1;
 * anything else is kept as a fault.
 */
final class ResumingSubscriber {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http;
    private final URI url;
    private final String token;
    private final String topic;
    private final History history;
    private final String name;
    private volatile long last;
    private volatile boolean stopped;
    private volatile WebSocket socket;
    /** Sockets opened (the first one included). */
    final AtomicInteger connects = new AtomicInteger();
    /** Subscriptions the gateway ended with an error frame, each followed by a new subscribe. */
    final AtomicInteger resubscribes = new AtomicInteger();
    /** Gaps, repeats and anything else the protocol does not allow. */
    final List<String> faults = Collections.synchronizedList(new ArrayList<>());

    ResumingSubscriber(HttpClient http, int gatewayPort, String token, String topic) {
        this(http, gatewayPort, token, topic, null, null);
    }

    /** One that also records every event it is handed in {@code history}, as subscriber {@code name}. */
    ResumingSubscriber(HttpClient http, int gatewayPort, String token, String topic, History history, String name) {
        this.http = http;
        this.url = URI.create("ws://127.0.0.1:" + gatewayPort + "/v1/ws");
        this.token = token;
        this.topic = topic;
        this.history = history;
        this.name = name;
        if (history != null) {
            history.subscriber(name);
        }
    }

    /** An HS256 client JWT of {@code tenant} that may subscribe to {@code patterns}, for an hour. */
    static String jwt(String clientSecret, String tenant, String subject, List<String> patterns) {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(subject).claim("tid", tenant)
                .expirationTime(Date.from(Instant.now().plusSeconds(3600)))
                .claim("subscribe", patterns).claim("publish", List.of()).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(new MACSigner(clientSecret.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    /** The seq of the last event seen. */
    long last() {
        return last;
    }

    void start() {
        open();
    }

    void stop() {
        stopped = true;
        WebSocket s = socket;
        if (s != null) {
            s.abort();
        }
    }

    private void open() {
        if (stopped) {
            return;
        }
        Connection connection = new Connection();
        http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5)).buildAsync(url, connection)
                .whenComplete((ws, error) -> {
                    if (error != null) {
                        connection.ended();
                    }
                });
    }

    private void later(Runnable action) {
        long delay = 200 + ThreadLocalRandom.current().nextLong(400);
        CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS).execute(() -> {
            if (!stopped) {
                action.run();
            }
        });
    }

    /** One socket: its frames, and one reconnect when it ends however it ends. */
    private final class Connection implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();
        private final AtomicBoolean ended = new AtomicBoolean();
        private volatile WebSocket ws;
        /** The last send: a WebSocket takes one text at a time. */
        private CompletableFuture<?> sending = CompletableFuture.completedFuture(null);

        @Override
        public void onOpen(WebSocket webSocket) {
            ws = webSocket;
            socket = webSocket;
            connects.incrementAndGet();
            send("{\"op\":\"connect\",\"id\":1,\"token\":\"" + token + "\"}");
            webSocket.request(1);
        }

        private synchronized void send(String frame) {
            WebSocket s = ws;
            sending = sending.handle((r, e) -> null)
                    .thenCompose(x -> s.isOutputClosed() ? CompletableFuture.completedFuture(null) : s.sendText(frame, true));
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean lastPart) {
            text.append(data);
            if (lastPart) {
                String frame = text.toString();
                text.setLength(0);
                try {
                    handle(JSON.readTree(frame));
                } catch (RuntimeException e) {
                    faults.add("unreadable frame " + frame + ": " + e);
                }
            }
            webSocket.request(1);
            return null;
        }

        private void handle(JsonNode frame) {
            switch (frame.path("op").asString()) {
                case "connected" -> subscribe();
                case "event" -> {
                    long seq = frame.path("event").path("seq").asLong();
                    if (history != null) {
                        history.see(name, frame.path("event").path("id").asString(), seq);
                    }
                    if (seq != last + 1) {
                        faults.add("seq " + seq + " after " + last);
                    }
                    last = Math.max(last, seq);
                }
                case "error" -> {
                    if (frame.has("topic")) {
                        resubscribes.incrementAndGet();
                        later(this::subscribe);
                    } else {
                        faults.add("error frame " + frame);
                    }
                }
                default -> {
                    // subscribed, reconnect (the close follows), pong: nothing to do.
                }
            }
        }

        private void subscribe() {
            send("{\"op\":\"subscribe\",\"id\":2,\"topic\":\"" + topic + "\",\"after\":" + last + "}");
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            ended();
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            ended();
        }

        void ended() {
            if (ended.compareAndSet(false, true)) {
                later(ResumingSubscriber.this::open);
            }
        }
    }
}
