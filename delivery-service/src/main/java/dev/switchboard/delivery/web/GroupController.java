package dev.switchboard.delivery.web;

import dev.switchboard.delivery.group.ConsumerGroups;
import dev.switchboard.delivery.group.GroupNames;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import dev.switchboard.platform.problem.SwitchboardException;

import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Consumer groups for the gateway (and workflow): poll, ack, nack, seek, status, list, delete.
 * Requests are validated here, before anything is read or changed; a bad one is a 400 problem.
 */
@RestController
@RequestMapping("/internal/v1/tenants/{tenant}/topics/{topic}/groups")
class GroupController {

    static final int DEFAULT_MAX = 10;
    static final long DEFAULT_ACK_DEADLINE_MS = 30_000;
    static final long MAX_WAIT_MS = 30_000;
    static final int MAX_SEQS = 1000;
    /** Ack requests one poll may carry (one per partition of the last batch, typically). */
    static final int MAX_ACKS_IN_POLL = 64;

    private final ConsumerGroups groups;

    GroupController(ConsumerGroups groups) {
        this.groups = groups;
    }

    /**
     * @param max           events at most (default 10)
     * @param ackDeadlineMs how long each event is leased before it is delivered again (default 30 s)
     * @param waitMs        long-poll: how long to wait for events when there are none (default 0)
     * @param consumer      who polls; needed for {@code maxInFlight}
     * @param maxInFlight   live leases this consumer may hold at most
     * @param from          where a new group starts: {@code earliest} (default: the oldest retained event) or {@code latest}
     * @param orderedByKey  a new group keeps order per partitionkey; for an existing group, a different value is 409
     * @param ack           acks done before the poll, each an ack request's body (a consumer acks its last batch and
     *                      asks for the next in one round trip)
     */
    record PollRequest(@Min(1) @Max(1000) Integer max,
                       @Min(100) @Max(43_200_000) Long ackDeadlineMs,
                       @Min(0) @Max(MAX_WAIT_MS) Long waitMs,
                       @Pattern(regexp = GroupNames.CONSUMER_PATTERN) String consumer,
                       @Min(1) @Max(100_000) Integer maxInFlight,
                       @Pattern(regexp = "earliest|latest") String from,
                       Boolean orderedByKey,
                       @Size(max = MAX_ACKS_IN_POLL) List<@NotNull @Valid AckRequest> ack,
                       @JsonAnySetter Map<String, Object> unknown) implements KnownFields {

        @AssertTrue(message = "maxInFlight needs a consumer")
        public boolean isMaxInFlightWithConsumer() {
            return maxInFlight == null || consumer != null;
        }

        @AssertTrue(message = "ack holds at most " + MAX_SEQS + " seqs in all")
        public boolean isAckBounded() {
            return ack == null || ack.stream().filter(a -> a != null && a.seqs() != null).mapToInt(a -> a.seqs().size()).sum() <= MAX_SEQS;
        }

        @Override
        public void requireKnownFields() {
            KnownFields.super.requireKnownFields();
            if (ack != null) {
                ack.forEach(AckRequest::requireKnownFields);
            }
        }
    }

    record AckRequest(@NotNull @NotEmpty @Size(max = MAX_SEQS) List<@NotNull @PositiveOrZero Long> seqs,
                      @Min(0) Integer partition,
                      @JsonAnySetter Map<String, Object> unknown) implements KnownFields {
    }

    record NackRequest(@NotNull @NotEmpty @Size(max = MAX_SEQS) List<@NotNull @PositiveOrZero Long> seqs,
                       @Min(0) Integer partition,
                       @Min(0) @Max(86_400_000) Long delayMs,
                       @Size(max = 512) String reason,
                       @JsonAnySetter Map<String, Object> unknown) implements KnownFields {
    }

    record SeekRequest(@PositiveOrZero Long after, @Pattern(regexp = "head|earliest") String to, @Min(0) Integer partition,
                       @JsonAnySetter Map<String, Object> unknown) implements KnownFields {

        @AssertTrue(message = "give exactly one of after and to")
        public boolean isOneTarget() {
            return (after == null) != (to == null);
        }
    }

    /**
     * A request body that refuses fields it does not know: a misspelt {@code waitMS} would
     * otherwise be ignored without a word, and the poll would not wait.
     */
    interface KnownFields {

        /** What the body had beyond the record's own fields. */
        Map<String, Object> unknown();

        /** Refuses the request (400) when the body had a field the record does not know. */
        default void requireKnownFields() {
            if (unknown() == null || unknown().isEmpty()) {
                return;
            }
            String known = Arrays.stream(getClass().getRecordComponents()).map(RecordComponent::getName)
                    .filter(name -> !name.equals("unknown")).collect(Collectors.joining(", "));
            throw SwitchboardException.invalid("Unknown field(s) " + String.join(", ", new TreeSet<>(unknown().keySet()))
                    + "; this request takes " + known + ".");
        }
    }

    record PartitionStatusResponse(int partition, long committed, long head, long lag, long inFlight, long deadLettered) {
    }

    /** For a topic of several partitions, committed and head are sums over its partitions, so lag = head − committed still holds. */
    record StatusResponse(String group, String topic, boolean orderedByKey, Instant createdAt, long committed, long head, long lag,
                          long inFlight, long deadLettered, List<PartitionStatusResponse> partitions) {

        static StatusResponse of(ConsumerGroups.Status s) {
            long committed = 0, head = 0, lag = 0, inFlight = 0, dead = 0;
            for (ConsumerGroups.PartitionStatus p : s.partitions()) {
                committed += p.committed();
                head += p.head();
                lag += p.lag();
                inFlight += p.inFlight();
                dead += p.deadLettered();
            }
            return new StatusResponse(s.group(), s.topic(), s.orderedByKey(), s.createdAt(), committed, head, lag, inFlight, dead,
                    s.partitions().stream().map(p -> new PartitionStatusResponse(p.partition(), p.committed(), p.head(), p.lag(),
                            p.inFlight(), p.deadLettered())).toList());
        }
    }

    record GroupsResponse(List<ConsumerGroups.GroupInfo> groups) {
    }

    @PostMapping(value = "/{group}/poll", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<String>> poll(@PathVariable String tenant, @PathVariable String topic, @PathVariable String group,
                                      @Valid @RequestBody PollRequest body) {
        body.requireKnownFields();
        ConsumerGroups.PollOptions options = new ConsumerGroups.PollOptions(
                body.max() == null ? DEFAULT_MAX : body.max(),
                Duration.ofMillis(body.ackDeadlineMs() == null ? DEFAULT_ACK_DEADLINE_MS : body.ackDeadlineMs()),
                Duration.ofMillis(body.waitMs() == null ? 0 : body.waitMs()),
                body.consumer(), body.maxInFlight(), "latest".equals(body.from()), body.orderedByKey());
        List<AckRequest> acks = body.ack() == null ? List.of() : body.ack();
        return Flux.fromIterable(acks)
                .concatMap(a -> groups.ack(tenant, topic, group, a.partition() == null ? 0 : a.partition(), a.seqs()))
                .collectList()
                .flatMap(acked -> groups.poll(tenant, topic, group, options)
                        .map(events -> ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
                                .body(eventsJson(events, body.ack() == null ? null : acked))));
    }

    @PostMapping("/{group}/ack")
    Mono<ConsumerGroups.AckResult> ack(@PathVariable String tenant, @PathVariable String topic, @PathVariable String group,
                                       @Valid @RequestBody AckRequest body) {
        body.requireKnownFields();
        return groups.ack(tenant, topic, group, body.partition() == null ? 0 : body.partition(), body.seqs());
    }

    @PostMapping("/{group}/nack")
    Mono<ConsumerGroups.NackResult> nack(@PathVariable String tenant, @PathVariable String topic, @PathVariable String group,
                                         @Valid @RequestBody NackRequest body) {
        body.requireKnownFields();
        return groups.nack(tenant, topic, group, body.partition() == null ? 0 : body.partition(), body.seqs(),
                Duration.ofMillis(body.delayMs() == null ? 0 : body.delayMs()), body.reason());
    }

    @PostMapping("/{group}/seek")
    Mono<StatusResponse> seek(@PathVariable String tenant, @PathVariable String topic, @PathVariable String group,
                              @Valid @RequestBody SeekRequest body) {
        body.requireKnownFields();
        return groups.seek(tenant, topic, group, new ConsumerGroups.SeekTarget(body.after(), body.to(), body.partition()))
                .map(StatusResponse::of);
    }

    @GetMapping("/{group}")
    Mono<StatusResponse> status(@PathVariable String tenant, @PathVariable String topic, @PathVariable String group) {
        return groups.status(tenant, topic, group).map(StatusResponse::of);
    }

    @GetMapping
    Mono<GroupsResponse> list(@PathVariable String tenant, @PathVariable String topic,
                              @RequestParam(required = false) String after,
                              @RequestParam(defaultValue = "100") int limit) {
        if (limit < 1 || limit > 1000) {
            return Mono.error(SwitchboardException.invalid("limit must be between 1 and 1000."));
        }
        return groups.list(tenant, topic, after, limit).map(GroupsResponse::new);
    }

    @DeleteMapping("/{group}")
    Mono<ResponseEntity<Void>> delete(@PathVariable String tenant, @PathVariable String topic, @PathVariable String group) {
        return groups.delete(tenant, topic, group).thenReturn(ResponseEntity.status(HttpStatus.NO_CONTENT).<Void>build());
    }

    /** {@code {"events":[…]}}: each the stored CloudEvent with {@code attempt} (its delivery count) added. */
    /** {@code {"events":[…]}}, and {@code "acks":[…]} (one answer per ack request, in order) when the poll carried acks. */
    private static String eventsJson(List<ConsumerGroups.Leased> events, List<ConsumerGroups.AckResult> acks) {
        StringBuilder sb = new StringBuilder(16 + events.size() * 300);
        sb.append("{\"events\":[");
        for (int i = 0; i < events.size(); i++) {
            ConsumerGroups.Leased e = events.get(i);
            if (i > 0) {
                sb.append(',');
            }
            // The envelope is a JSON object written by us ({"specversion":…}): attempt goes first.
            sb.append("{\"attempt\":").append(e.attempt()).append(',').append(e.envelope(), 1, e.envelope().length());
        }
        sb.append(']');
        if (acks != null) {
            sb.append(",\"acks\":[");
            for (int i = 0; i < acks.size(); i++) {
                sb.append(i > 0 ? "," : "").append("{\"acked\":").append(acks.get(i).acked()).append(",\"ignored\":")
                        .append(acks.get(i).ignored()).append('}');
            }
            sb.append(']');
        }
        return sb.append('}').toString();
    }
}
