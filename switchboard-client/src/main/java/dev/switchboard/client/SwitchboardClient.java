package dev.switchboard.client;

import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.contracts.envelope.Uuid7;
import dev.switchboard.contracts.errors.Headers;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The Java client of a Switchboard gateway's {@code /v1} for backends: publish with retries that
 * reuse the event id, and consume a consumer group with a handler. Thread-safe; make one per
 * gateway URL and credential and {@link #close()} it at the end. No Spring needed.
 *
 * <p>Every call has a per-attempt response timeout ({@code requestTimeout}), a {@link RetryPolicy}
 * for transient failures (connection errors, response timeouts, {@code 5xx}, {@code 429} whose
 * {@code retryAfterMs}/{@code Retry-After} is waited out) and an overall {@code callTimeout}
 * (a {@link java.util.concurrent.TimeoutException} when it passes). Other {@code 4xx} fail at once
 * with a {@link SwitchboardException} carrying the problem's {@code code}, {@code status} and
 * {@code detail}.
 */
public final class SwitchboardClient implements AutoCloseable {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_CONNECTIONS = 64;
    /** The gateway's limit on events in one batch. */
    public static final int MAX_BATCH = 1000;

    private static final String JSON = "application/json";

    private final ConnectionProvider connections;
    private final Http http;
    private final JsonMapper json;
    private final RetryPolicy retryPolicy;
    private final Duration requestTimeout;
    private final Duration callTimeout;

    private SwitchboardClient(Builder b) {
        this.connections = ConnectionProvider.builder("switchboard-client")
                .maxConnections(b.maxConnections)
                // Below any server or balancer idle timeout, so a pooled connection is rarely found closed.
                .maxIdleTime(Duration.ofSeconds(20))
                .pendingAcquireTimeout(b.callTimeout)
                .build();
        HttpClient client = HttpClient.create(connections)
                .baseUrl(stripSlash(b.baseUrl))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, b.connectTimeout.toMillis()))
                .headers(h -> {
                    if (b.apiKey != null) {
                        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + b.apiKey);
                    }
                    h.set(HttpHeaderNames.ACCEPT, JSON + ", " + Headers.PROBLEM_JSON);
                    h.set(HttpHeaderNames.USER_AGENT, "switchboard-client-java");
                });
        this.json = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
        this.http = new Http(client, json);
        this.retryPolicy = b.retryPolicy;
        this.requestTimeout = b.requestTimeout;
        this.callTimeout = b.callTimeout;
    }

    public static Builder builder(String baseUrl) {
        return new Builder(baseUrl);
    }

    /**
     * Publishes one event. When it has no {@code id} the client gives it a UUIDv7 now, before the
     * first attempt, so every retry — and every re-subscription of the returned Mono — sends the
     * same id, and the platform answers a retry whose first attempt was stored with
     * {@code duplicate = true} and the original seq instead of storing a second event.
     */
    public Mono<PublishResult> publish(String topic, Event event) {
        Event withId = withId(Objects.requireNonNull(event, "event"));
        String body = json.writeValueAsString(withId);
        return call("publish", HttpMethod.POST, eventsPath(topic), Headers.CLOUDEVENTS_JSON, body)
                .map(text -> json.readValue(text, PublishResult.class));
    }

    /**
     * Publishes up to {@value #MAX_BATCH} events as one batch, all or nothing; the results come in
     * the order of {@code events}. Ids are given as in {@link #publish}, once, before the first
     * attempt.
     */
    public Mono<List<PublishResult>> publishBatch(String topic, List<Event> events) {
        Objects.requireNonNull(events, "events");
        if (events.isEmpty() || events.size() > MAX_BATCH) {
            return Mono.error(new IllegalArgumentException("a batch holds 1 to " + MAX_BATCH + " events, not " + events.size()));
        }
        List<Event> withIds = events.stream().map(SwitchboardClient::withId).toList();
        String body = json.writeValueAsString(withIds);
        return call("publish batch", HttpMethod.POST, eventsPath(topic), Headers.CLOUDEVENTS_BATCH_JSON, body)
                .map(text -> json.readValue(text, BatchResults.class).results());
    }

    /**
     * Starts consuming {@code group} of {@code topic}: see {@link SwitchboardConsumer}. The returned
     * consumer is already running; stop it with {@link SwitchboardConsumer#stop()}.
     */
    public SwitchboardConsumer consume(String topic, String group, Function<Event, Mono<Void>> handler,
                                       ConsumerOptions options) {
        return SwitchboardConsumer.start(this, topic, group, handler, options);
    }

    /** {@link #consume(String, String, Function, ConsumerOptions)} with {@link ConsumerOptions#defaults()}. */
    public SwitchboardConsumer consume(String topic, String group, Function<Event, Mono<Void>> handler) {
        return consume(topic, group, handler, ConsumerOptions.defaults());
    }

    /** The group's position and lag. */
    public Mono<GroupStatus> groupStatus(String topic, String group) {
        return call("group status", HttpMethod.GET, groupPath(topic, group), null, null)
                .map(text -> json.readValue(text, GroupStatus.class));
    }

    /**
     * Moves the group so that it next delivers the events after {@code after} in {@code partition}
     * (as attempt 1): controlled replay. Drops the group's leases.
     */
    public Mono<GroupStatus> seek(String topic, String group, int partition, long after) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("after", after);
        body.put("partition", partition);
        return call("seek", HttpMethod.POST, groupPath(topic, group) + "/seek", JSON, json.writeValueAsString(body))
                .map(text -> json.readValue(text, GroupStatus.class));
    }

    /** Closes the connection pool; calls still running fail. */
    @Override
    public void close() {
        connections.dispose();
    }

    // --- the group calls the consumer makes ---

    /** One poll: no retry here (the consumer's loop backs off and polls again); its timeout covers {@code waitMs}. */
    Mono<Polled> poll(String topic, String group, Map<String, Object> body, Duration wait) {
        return http.exchange(HttpMethod.POST, groupPath(topic, group) + "/poll", JSON, json.writeValueAsString(body),
                        requestTimeout.plus(wait))
                .map(text -> json.readValue(text, Polled.class));
    }

    /** Acks go by seq and count however late they come, so they are retried like a publish. */
    Mono<JsonNode> ack(String topic, String group, int partition, List<Long> seqs) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("seqs", seqs);
        body.put("partition", partition);
        return call("ack", HttpMethod.POST, groupPath(topic, group) + "/ack", JSON, json.writeValueAsString(body))
                .map(json::readTree);
    }

    Mono<JsonNode> nack(String topic, String group, int partition, List<Long> seqs, Duration delay, String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("seqs", seqs);
        body.put("partition", partition);
        body.put("delayMs", delay.toMillis());
        if (reason != null) {
            body.put("reason", reason);
        }
        return call("nack", HttpMethod.POST, groupPath(topic, group) + "/nack", JSON, json.writeValueAsString(body))
                .map(json::readTree);
    }

    RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    private Mono<String> call(String what, HttpMethod method, String path, String contentType, String body) {
        return Mono.defer(() -> http.exchange(method, path, contentType, body, requestTimeout))
                .retryWhen(Http.retry(retryPolicy, what))
                .timeout(callTimeout);
    }

    private static Event withId(Event event) {
        if (event.id() != null && !event.id().isEmpty()) {
            return event;
        }
        return event.toBuilder().id(Uuid7.next().toString()).build();
    }

    private static String eventsPath(String topic) {
        return "/v1/topics/" + segment(topic) + "/events";
    }

    private static String groupPath(String topic, String group) {
        return "/v1/topics/" + segment(topic) + "/groups/" + segment(group);
    }

    private static String segment(String name) {
        Objects.requireNonNull(name, "topic and group names are required");
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    record BatchResults(List<PublishResult> results) {
        BatchResults {
            results = results == null ? List.of() : List.copyOf(results);
        }
    }

    /** A poll's answer: its events, and one answer per ack body the poll carried (none if it carried none). */
    record Polled(List<Event> events, List<AckAnswer> acks) {
        Polled {
            events = events == null ? List.of() : new ArrayList<>(events);
            acks = acks == null ? List.of() : List.copyOf(acks);
        }
    }

    /** What an ack did: the seqs acked, and those ignored (not pending for the group: already acked, or never delivered). */
    record AckAnswer(List<Long> acked, List<Long> ignored) {
    }

    /** Settings of a {@link SwitchboardClient}; only the base URL is required. */
    public static final class Builder {
        private final String baseUrl;
        private String apiKey;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
        private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;

        private Builder(String baseUrl) {
            this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
            if (!baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
                throw new IllegalArgumentException("baseUrl must be an http(s) URL: " + baseUrl);
            }
        }

        /** The API key ({@code sb_…}) or client JWT sent as {@code Authorization: Bearer …}. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** How long opening a TCP connection may take (default 5 s). */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = positive(connectTimeout, "connectTimeout");
            return this;
        }

        /** How long one attempt waits for its response (default 10 s; a poll adds its {@code waitMs}). */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = positive(requestTimeout, "requestTimeout");
            return this;
        }

        /** How long one call may take with all its retries and waits (default 60 s). */
        public Builder callTimeout(Duration callTimeout) {
            this.callTimeout = positive(callTimeout, "callTimeout");
            return this;
        }

        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
            return this;
        }

        /** Connections to the gateway at most (default 64); more concurrent calls wait for one. */
        public Builder maxConnections(int maxConnections) {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1");
            }
            this.maxConnections = maxConnections;
            return this;
        }

        public SwitchboardClient build() {
            return new SwitchboardClient(this);
        }

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return d;
        }
    }
}
