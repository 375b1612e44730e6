package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.errors.Headers;
import dev.switchboard.contracts.stream.StreamLine;
import dev.switchboard.gateway.config.GatewayProperties;
import dev.switchboard.platform.metrics.LiveStages;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.Locale;

/**
 * The gateway's calls to delivery-service, authenticated with the service token. Publish and
 * history answers are relayed as they are (status, problem bodies and {@code Retry-After}
 * included); streams are read line by line with Reactor's demand, so a slow reader slows the
 * upstream instead of filling memory. An unreachable delivery becomes {@code 503 unavailable}.
 */
@Component
public class DeliveryClient {

    private static final Logger log = LoggerFactory.getLogger(DeliveryClient.class);
    private static final MediaType NDJSON = MediaType.parseMediaType("application/x-ndjson");
    /** A stream line carries one event (its data at most 1 MiB) and its envelope: far below this. */
    private static final int MAX_LINE_BYTES = 8 * 1024 * 1024;
    /** Live-path stage: a publish forwarded to delivery-service until its answer (committed) is back. */
    public static final String STAGE_PUBLISH = "gateway.publish";

    private final WebClient web;
    private final GatewayProperties properties;
    private final JsonMapper json;
    private final LiveStages stages;

    DeliveryClient(WebClient.Builder builder, GatewayProperties properties, JsonMapper json,
                   ObjectProvider<ReactorResourceFactory> resources, MeterRegistry meters) {
        this.web = UpstreamHttp.client(builder, "delivery", 500, properties.deliveryUrl(), properties.serviceToken(),
                properties.connectTimeout(), resources.getIfAvailable());
        this.properties = properties;
        this.json = json;
        this.stages = new LiveStages(meters);
    }

    /** The gateway's stages of the live path: publish round trip, upstream arrival, socket writes. */
    public LiveStages stages() {
        return stages;
    }

    /** Forwards a publish: the body, its content type and the CloudEvents/trace headers. Not retried: producers retry with their ids. */
    public Mono<ResponseEntity<byte[]>> publish(String tenant, String topic, HttpHeaders inbound, byte[] body) {
        return Mono.defer(() -> {
            long start = System.nanoTime();
            return forward(tenant, topic, inbound, body).doOnNext(answer -> {
                if (answer.getStatusCode().is2xxSuccessful()) {
                    stages.since(STAGE_PUBLISH, start);
                }
            });
        });
    }

    private Mono<ResponseEntity<byte[]>> forward(String tenant, String topic, HttpHeaders inbound, byte[] body) {
        return web.post().uri("/internal/v1/tenants/{tenant}/topics/{topic}/events", tenant, topic)
                .headers(out -> inbound.forEach((name, values) -> {
                    String lower = name.toLowerCase(Locale.ROOT);
                    if (lower.startsWith(Headers.CE_PREFIX) || lower.equals(HttpHeaders.CONTENT_TYPE.toLowerCase(Locale.ROOT))
                            || lower.equals(Headers.TRACEPARENT)) {
                        out.put(name, values);
                    }
                }))
                .bodyValue(body)
                .exchangeToMono(UpstreamHttp::relay)
                .timeout(properties.requestTimeout())
                .onErrorMap(DeliveryClient::unavailable);
    }

    /** A history page, relayed; retried once on a connection failure (reads are safe to repeat). */
    Mono<ResponseEntity<byte[]>> history(String tenant, String topic, long after, int limit, int partition) {
        return web.get().uri(b -> b.path("/internal/v1/tenants/{tenant}/topics/{topic}/events")
                        .queryParam("after", after).queryParam("limit", limit).queryParam("partition", partition)
                        .build(tenant, topic))
                .exchangeToMono(UpstreamHttp::relay)
                .retryWhen(Retry.backoff(1, Duration.ofMillis(100)).filter(WebClientRequestException.class::isInstance))
                .timeout(properties.requestTimeout())
                .onErrorMap(DeliveryClient::unavailable);
    }

    /**
     * A consumer-group call ({@code op}: poll, ack, nack, seek; or null with {@code method} GET or
     * DELETE for status, list and delete), relayed. Not retried: a poll whose answer was lost has
     * leased its events, and a retry would lease others; those come back after their ack deadline.
     * A poll may wait up to {@code longPoll} upstream, on top of the usual request timeout.
     */
    Mono<ResponseEntity<byte[]>> group(org.springframework.http.HttpMethod method, String tenant, String topic, String group,
                                       String op, String query, byte[] body, Duration longPoll) {
        StringBuilder path = new StringBuilder("/internal/v1/tenants/{tenant}/topics/{topic}/groups");
        java.util.List<String> vars = new java.util.ArrayList<>(java.util.List.of(tenant, topic));
        if (group != null) {
            path.append("/{group}");
            vars.add(group);
        }
        if (op != null) {
            path.append('/').append(op);
        }
        WebClient.RequestBodySpec request = web.method(method).uri(b -> {
            b.path(path.toString());
            if (query != null) {
                b.query(query);
            }
            return b.build(vars.toArray());
        });
        WebClient.RequestHeadersSpec<?> withBody = body == null ? request
                : request.contentType(MediaType.APPLICATION_JSON).bodyValue(body);
        return withBody.exchangeToMono(UpstreamHttp::relay)
                .timeout(properties.requestTimeout().plus(longPoll))
                .onErrorMap(DeliveryClient::unavailable);
    }

    /** The live stream; fails with the upstream's problem (e.g. topic_not_found) before the first line. */
    public Flux<StreamLine> stream(String tenant, String topic, String after) {
        return web.get().uri(b -> {
                    b.path("/internal/v1/tenants/{tenant}/topics/{topic}/stream");
                    if (after != null) {
                        b.queryParam("after", after);
                    }
                    return b.build(tenant, topic);
                })
                .accept(NDJSON)
                .exchangeToFlux(response -> response.statusCode().is2xxSuccessful()
                        ? NdjsonLines.of(response.bodyToFlux(DataBuffer.class), MAX_LINE_BYTES)
                        : response.bodyToMono(byte[].class).defaultIfEmpty(new byte[0])
                                .flatMapMany(body -> Flux.error(problem(response, body))))
                // Delivery speaks at least every heartbeat: a stream silent for longer is a dead (half-open, stalled)
                // connection, which TCP would take hours to notice. Failing it here makes the upstream reopen it.
                .timeout(properties.upstreamSilence())
                .filter(line -> !line.isBlank())
                .map(StreamLine::parse)
                .onErrorMap(DeliveryClient::unavailable);
    }

    /** An upstream problem body as our own exception, keeping its code and detail. */
    private SwitchboardException problem(ClientResponse response, byte[] body) {
        try {
            JsonNode node = json.readTree(body);
            ErrorCode code = ErrorCode.fromCode(node.path("code").asString("")).orElse(ErrorCode.UNAVAILABLE);
            if (code == ErrorCode.UNAUTHENTICATED) {
                log.warn("delivery-service rejected this gateway's service token: check SWITCHBOARD_SERVICE_TOKEN");
                return new SwitchboardException(ErrorCode.UNAVAILABLE, "The event log is unavailable; retry shortly.");
            }
            return new SwitchboardException(code, node.path("detail").asString(code.title()));
        } catch (RuntimeException e) {
            return new SwitchboardException(ErrorCode.UNAVAILABLE, "The event log answered " + response.statusCode().value() + ".");
        }
    }

    private static Throwable unavailable(Throwable e) {
        return UpstreamHttp.unavailable(e, "The event log", "delivery-service");
    }
}
