package dev.switchboard.workflow.run;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.List;

/**
 * Publishes a run's events to delivery-service, as one all-or-nothing batch per call (the
 * service-token internal API, so the events are checked and stored like any other publish, under
 * the tenant's buckets). What delivery answers decides what happens next:
 * <ul>
 * <li>stored (201, or 200 for events stored before — their ids are fixed, so a repeat is harmless);</li>
 * <li>{@code 429} ({@code rate_limited}, {@code slow_down}) or {@code 503}, or no answer: tried again
 * after its {@code Retry-After} (or a growing backoff). While it waits the caller sends nothing
 * more — a model step stops reading its model's stream, so a throttled tenant's answers slow down
 * instead of piling up in memory;</li>
 * <li>any other refusal ({@link Refused}, e.g. {@code 404 topic_not_found}): trying again would not help.</li>
 * </ul>
 */
@Component
class DeliveryPublisher {

    static final MediaType BATCH = MediaType.parseMediaType("application/cloudevents-batch+json");
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(50);
    private static final Duration MAX_WAIT = Duration.ofSeconds(5);

    /** Delivery refused the events for good: what it said. */
    static final class Refused extends RuntimeException {
        private final int status;

        Refused(int status, String problem) {
            super("delivery-service refused the events with " + status + ": " + problem);
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    /** Delivery asked to wait, or could not be reached. */
    private static final class Transient extends RuntimeException {
        private final Duration retryAfter;

        Transient(String why, Duration retryAfter) {
            super(why, null, false, false);
            this.retryAfter = retryAfter;
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final Duration KNOWN_TOPIC_TTL = Duration.ofSeconds(10);

    /** Topics (tenant/topic) delivery-service said exist, for {@link #KNOWN_TOPIC_TTL}. */
    private final Cache<String, Boolean> knownTopics = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterWrite(KNOWN_TOPIC_TTL).build();

    private final WebClient web;

    DeliveryPublisher(ServiceClients clients) {
        this.web = clients.delivery();
    }

    /**
     * @param deadline how long to keep trying while delivery asks to wait; null: until the caller gives up
     */
    Mono<Void> publish(String tenant, String topic, List<? extends JsonNode> events, Duration deadline) {
        Mono<Void> once = Mono.defer(() -> web.post().uri("/internal/v1/tenants/{tenant}/topics/{topic}/events", tenant, topic)
                        .contentType(BATCH).bodyValue(events)
                        .exchangeToMono(DeliveryPublisher::outcome))
                .onErrorMap(WebClientRequestException.class, e -> new Transient("delivery-service unreachable: " + e.getMessage(), null));
        Mono<Void> retried = once.retryWhen(Retry.from(signals -> signals.concatMap(signal -> {
            if (!(signal.failure() instanceof Transient t)) {
                return Mono.error(signal.failure());
            }
            Duration backoff = FIRST_BACKOFF.multipliedBy(1L << Math.min(6, signal.totalRetriesInARow()));
            Duration wait = t.retryAfter != null ? t.retryAfter : backoff;
            return Mono.delay(wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait);
        })));
        return deadline == null ? retried : retried.timeout(deadline);
    }

    /**
     * Whether the tenant has the topic (declared, or matching a declared pattern), asked as a read of
     * one event. An unreachable delivery-service is an error, not a no. A yes is remembered for
     * {@link #KNOWN_TOPIC_TTL} (a trigger topic's events all ask about the same output topic); a no
     * is asked again each time, so a topic declared meanwhile counts at once.
     */
    Mono<Boolean> topicExists(String tenant, String topic, Duration timeout) {
        String key = tenant + '/' + topic;
        if (knownTopics.getIfPresent(key) != null) {
            return Mono.just(true);
        }
        return web.get().uri("/internal/v1/tenants/{tenant}/topics/{topic}/events?limit=1", tenant, topic)
                .exchangeToMono(response -> {
                    int status = response.statusCode().value();
                    if (status == 404 || response.statusCode().is2xxSuccessful()) {
                        if (status != 404) {
                            knownTopics.put(key, Boolean.TRUE);
                        }
                        return response.releaseBody().thenReturn(status != 404);
                    }
                    return response.releaseBody().then(Mono.error(new IllegalStateException(
                            "delivery-service answered " + status + " to a topic look-up")));
                })
                .timeout(timeout);
    }

    private static Mono<Void> outcome(ClientResponse response) {
        HttpStatusCode status = response.statusCode();
        if (status.is2xxSuccessful()) {
            return response.releaseBody();
        }
        if (status.value() == 429 || status.is5xxServerError()) {
            String header = response.headers().asHttpHeaders().getFirst(HttpHeaders.RETRY_AFTER);
            return response.bodyToMono(String.class).defaultIfEmpty("").flatMap(body -> Mono.error(
                    new Transient("delivery-service answered " + status.value(), retryAfter(body, header))));
        }
        return response.bodyToMono(String.class).defaultIfEmpty("")
                .flatMap(body -> Mono.error(new Refused(status.value(), body.length() > 500 ? body.substring(0, 500) : body)));
    }

    /** The problem's {@code retryAfterMs} (exact), else the {@code Retry-After} header (whole seconds), else none. */
    private static Duration retryAfter(String problem, String header) {
        try {
            JsonNode millis = JSON.readTree(problem).path("retryAfterMs");
            if (millis.isIntegralNumber()) {
                return Duration.ofMillis(Math.max(1, millis.asLong()));
            }
        } catch (JacksonException e) {
            // not a problem body: the header, if any
        }
        if (header == null) {
            return null;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(header.strip())));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
