package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.Headers;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.stream.ResumePoints;
import dev.switchboard.contracts.stream.StreamLine;
import dev.switchboard.gateway.auth.Caller;
import dev.switchboard.gateway.auth.CredentialWatch;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.contracts.errors.ErrorCode;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The public REST edge of {@code PROTOCOL.md}: publish (single, batch, binary mode), history, and
 * Server-Sent Events. The tenant is the caller's; the topic is checked against what the caller may
 * do before anything is forwarded.
 *
 * <p>SSE: every event's {@code id:} is its resume point — the seq on a one-partition topic, a
 * {@code partition:seq} vector otherwise — so a browser's {@code EventSource} resumes with
 * {@code Last-Event-ID} by itself. The stream opens with an {@code event: position} carrying the
 * start point as its id (so even a reconnect before the first event loses nothing), reports
 * removed history as {@code event: gap}, and sends a comment every 15 s.
 */
@RestController
class EventsController {

    /** The last event of a stream whose credential stopped authenticating. */
    private static final ServerSentEvent<String> REVOKED = ServerSentEvent.builder(
                    "{\"code\":\"unauthenticated\",\"detail\":\"The credential this stream was opened with was revoked.\"}")
            .event("error").build();

    private final DeliveryClient delivery;
    private final CredentialWatch watch;

    EventsController(DeliveryClient delivery, CredentialWatch watch) {
        this.delivery = delivery;
        this.watch = watch;
    }

    @PostMapping("/v1/topics/{topic}/events")
    Mono<ResponseEntity<byte[]>> publish(@PathVariable String topic, @AuthenticationPrincipal Caller caller,
                                         @RequestHeader HttpHeaders headers, @RequestBody(required = false) byte[] body) {
        return Mono.defer(() -> {
            requireTopic(topic);
            if (!caller.mayPublish(topic)) {
                throw new SwitchboardException(ErrorCode.FORBIDDEN, "This credential may not publish to '" + topic + "' (scope publish).");
            }
            return delivery.publish(caller.tenant(), topic, headers, body == null ? new byte[0] : body);
        });
    }

    @GetMapping(value = "/v1/topics/{topic}/events", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<byte[]>> history(@PathVariable String topic, @AuthenticationPrincipal Caller caller,
                                         @RequestParam(defaultValue = "0") long after,
                                         @RequestParam(defaultValue = "100") int limit,
                                         @RequestParam(defaultValue = "0") int partition) {
        return Mono.defer(() -> {
            requireSubscribe(caller, topic);
            return delivery.history(caller.tenant(), topic, after, limit, partition);
        });
    }

    @GetMapping(value = "/v1/topics/{topic}/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    Flux<ServerSentEvent<String>> stream(@PathVariable String topic, @AuthenticationPrincipal Caller caller,
                                         @RequestParam(required = false) String after,
                                         @RequestHeader(value = Headers.LAST_EVENT_ID, required = false) String lastEventId,
                                         @RequestHeader(HttpHeaders.AUTHORIZATION) String authorization) {
        return Flux.defer(() -> {
            requireSubscribe(caller, topic);
            // A reconnecting EventSource sends Last-Event-ID: it wins over the URL it was first opened with.
            String from = lastEventId != null && !lastEventId.isBlank() ? lastEventId : after;
            Map<Integer, Long> position = new TreeMap<>();
            // A revoked key, a deleted tenant or a rotated-out secret ends the stream within about a second,
            // with a last event saying why (the browser's reconnect then gets the 401).
            AtomicBoolean revoked = new AtomicBoolean();
            Mono<Boolean> revocation = watch.revoked(caller, authorization).then(Mono.fromSupplier(() -> {
                revoked.set(true);
                return true;
            }));
            Flux<ServerSentEvent<String>> events = delivery.stream(caller.tenant(), topic, from).map(line -> toSse(line, position))
                    .takeUntilOther(revocation)
                    .concatWith(Mono.fromSupplier(() -> revoked.get() ? REVOKED : null));
            // A stream opened with a client JWT ends when the token does; the client reconnects with a fresh
            // one and Last-Event-ID, losing nothing.
            return caller instanceof Caller.Jwt jwt
                    ? events.take(Duration.ofMillis(Math.max(0, Duration.between(Instant.now(), jwt.expiresAt()).toMillis())))
                    : events;
        });
    }

    private static ServerSentEvent<String> toSse(StreamLine line, Map<Integer, Long> position) {
        if (line instanceof StreamLine.EventLine e) {
            position.put(e.partition(), e.seq());
            return ServerSentEvent.builder(e.envelope()).id(ResumePoints.format(position)).build();
        }
        if (line instanceof StreamLine.Gap g) {
            position.put(g.partition(), g.to());
            return ServerSentEvent.builder("{\"partition\":" + g.partition() + ",\"from\":" + g.from() + ",\"to\":" + g.to() + "}")
                    .event("gap").id(ResumePoints.format(position)).build();
        }
        if (line instanceof StreamLine.Position p) {
            position.putAll(p.positions());
            return ServerSentEvent.builder(p.format()).event("position").id(ResumePoints.format(position)).build();
        }
        return ServerSentEvent.<String>builder().comment("heartbeat").build();
    }

    private static void requireTopic(String topic) {
        if (!TopicNames.isValidTopicName(topic)) {
            throw SwitchboardException.invalid("Invalid topic name '" + topic + "': segments of [a-z0-9_-] joined by dots, at most 128 characters.");
        }
    }

    private static void requireSubscribe(Caller caller, String topic) {
        requireTopic(topic);
        if (!caller.maySubscribe(topic)) {
            throw new SwitchboardException(ErrorCode.FORBIDDEN, "This credential may not read '" + topic + "' (scope subscribe).");
        }
    }
}
