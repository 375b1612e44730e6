package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.gateway.auth.Caller;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Consumer groups on the public edge ({@code PROTOCOL.md}, "Consumer groups"): poll, ack, nack,
 * seek, status, list and delete, for callers that may read the topic (scope {@code subscribe}, or
 * a client JWT whose {@code subscribe} patterns match it). The tenant is the caller's; bodies are
 * validated by delivery-service, whose answers (problems included) are relayed as they are.
 */
@RestController
class GroupsController {

    /** delivery-service's longest long-poll ({@code waitMs} ≤ 30 s). */
    private static final Duration LONGEST_POLL = Duration.ofSeconds(30);
    private static final Pattern GROUP = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
    private static final int MAX_BODY = 64 * 1024;

    private final DeliveryClient delivery;

    GroupsController(DeliveryClient delivery) {
        this.delivery = delivery;
    }

    @PostMapping(value = "/v1/topics/{topic}/groups/{group}/{op:poll|ack|nack|seek}", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<byte[]>> operate(@PathVariable String topic, @PathVariable String group, @PathVariable String op,
                                         @AuthenticationPrincipal Caller caller, @RequestBody(required = false) byte[] body) {
        return Mono.defer(() -> {
            check(caller, topic, group);
            if (body == null || body.length == 0) {
                throw SwitchboardException.invalid("The body must be a JSON object (it may be {}).");
            }
            if (body.length > MAX_BODY) {
                throw new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE, "A consumer-group request is at most " + MAX_BODY + " bytes.");
            }
            return delivery.group(HttpMethod.POST, caller.tenant(), topic, group, op, null, body,
                    op.equals("poll") ? LONGEST_POLL : Duration.ZERO);
        });
    }

    @GetMapping(value = "/v1/topics/{topic}/groups/{group}", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<byte[]>> status(@PathVariable String topic, @PathVariable String group, @AuthenticationPrincipal Caller caller) {
        return Mono.defer(() -> {
            check(caller, topic, group);
            return delivery.group(HttpMethod.GET, caller.tenant(), topic, group, null, null, null, Duration.ZERO);
        });
    }

    @GetMapping(value = "/v1/topics/{topic}/groups", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<byte[]>> list(@PathVariable String topic, @AuthenticationPrincipal Caller caller, ServerWebExchange exchange) {
        return Mono.defer(() -> {
            check(caller, topic, null);
            // after and limit only; delivery validates them.
            StringBuilder query = new StringBuilder();
            for (String name : new String[]{"after", "limit"}) {
                String value = exchange.getRequest().getQueryParams().getFirst(name);
                if (value != null) {
                    query.append(query.isEmpty() ? "" : "&").append(name).append('=')
                            .append(java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8));
                }
            }
            return delivery.group(HttpMethod.GET, caller.tenant(), topic, null, null, query.isEmpty() ? null : query.toString(),
                    null, Duration.ZERO);
        });
    }

    @DeleteMapping("/v1/topics/{topic}/groups/{group}")
    Mono<ResponseEntity<byte[]>> delete(@PathVariable String topic, @PathVariable String group, @AuthenticationPrincipal Caller caller) {
        return Mono.defer(() -> {
            check(caller, topic, group);
            return delivery.group(HttpMethod.DELETE, caller.tenant(), topic, group, null, null, null, Duration.ZERO);
        });
    }

    private static void check(Caller caller, String topic, String group) {
        if (!TopicNames.isValidTopicName(topic)) {
            throw SwitchboardException.invalid("Invalid topic name '" + topic + "': segments of [a-z0-9_-] joined by dots, at most 128 characters.");
        }
        if (group != null && !GROUP.matcher(group).matches()) {
            throw SwitchboardException.invalid("Invalid group name: [a-z0-9][a-z0-9_-]*, at most 64 characters.");
        }
        if (!caller.maySubscribe(topic)) {
            throw new SwitchboardException(ErrorCode.FORBIDDEN, "This credential may not consume '" + topic + "' (scope subscribe).");
        }
    }
}
