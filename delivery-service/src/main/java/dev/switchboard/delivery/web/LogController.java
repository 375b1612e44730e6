package dev.switchboard.delivery.web;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.stream.ResumePoints;
import dev.switchboard.contracts.stream.StreamLine;
import dev.switchboard.delivery.log.EventReader;
import dev.switchboard.delivery.log.LogItem;
import dev.switchboard.delivery.stream.LogStreams;
import dev.switchboard.delivery.stream.Stopping;
import dev.switchboard.delivery.topic.TopicLookup;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads of the log for the gateway: a bounded history page, and a live NDJSON stream.
 *
 * <p>Stream lines are {@link StreamLine}s: first the position the stream starts from in every
 * partition, then events, gaps where retention already removed what follows the resume point,
 * and a heartbeat every 15 s so callers can tell a quiet topic from a dead connection.
 */
@RestController
@RequestMapping("/internal/v1/tenants/{tenant}/topics/{topic}")
class LogController {

    static final MediaType NDJSON = MediaType.parseMediaType("application/x-ndjson");
    private static final Duration HEARTBEAT = Duration.ofSeconds(15);
    private static final int MAX_LIMIT = 1000;

    private final TopicLookup topics;
    private final EventReader reader;
    private final LogStreams streams;
    private final Stopping stopping;

    LogController(TopicLookup topics, EventReader reader, LogStreams streams, Stopping stopping) {
        this.stopping = stopping;
        this.topics = topics;
        this.reader = reader;
        this.streams = streams;
    }

    @GetMapping(value = "/events", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<String>> history(@PathVariable String tenant, @PathVariable String topic,
                                         @RequestParam(defaultValue = "0") long after,
                                         @RequestParam(defaultValue = "100") int limit,
                                         @RequestParam(defaultValue = "0") int partition) {
        if (after < 0) {
            return Mono.error(SwitchboardException.invalid("after must be >= 0."));
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            return Mono.error(SwitchboardException.invalid("limit must be between 1 and " + MAX_LIMIT + "."));
        }
        return resolve(tenant, topic).flatMap(resolved -> {
            if (partition < 0 || partition >= resolved.settings().partitions()) {
                return Mono.error(SwitchboardException.invalid("Partition " + partition + " does not exist (the topic has "
                        + resolved.settings().partitions() + ")."));
            }
            return reader.page(tenant, topic, partition, after, limit)
                    .zipWith(reader.position(tenant, topic, partition))
                    .map(t -> ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(historyJson(t.getT1(), t.getT2())));
        });
    }

    @GetMapping(value = "/stream")
    Mono<Void> stream(@PathVariable String tenant, @PathVariable String topic,
                      @RequestParam(required = false) String after, ServerHttpResponse response) {
        return resolve(tenant, topic)
                .flatMap(resolved -> startPositions(tenant, topic, resolved.settings().partitions(), after))
                .flatMap(start -> {
                    response.getHeaders().setContentType(NDJSON);
                    Flux<String> lines = Flux.concat(
                            Mono.just(new StreamLine.Position(start).format()),
                            Flux.merge(streams.topic(tenant, topic, start).map(item -> line(item).format()),
                                    Flux.interval(HEARTBEAT, HEARTBEAT).onBackpressureDrop().map(t -> StreamLine.Heartbeat.INSTANCE.format()))
                                    // The heartbeats never end by themselves: the stream ends when this instance stops.
                                    .takeUntilOther(stopping.signal()));
                    return response.writeAndFlushWith(lines.map(line -> Mono.just(buffer(response, line))));
                });
    }

    private Mono<ResolvedTopic> resolve(String tenant, String topic) {
        if (!TopicNames.isValidTenantId(tenant)) {
            return Mono.error(SwitchboardException.invalid("Invalid tenant id."));
        }
        if (!TopicNames.isValidTopicName(topic)) {
            return Mono.error(SwitchboardException.invalid("Invalid topic name '" + topic + "'."));
        }
        return topics.resolve(tenant, topic);
    }

    /** No resume point: from the current heads (new events only). */
    private Mono<Map<Integer, Long>> startPositions(String tenant, String topic, int partitions, String after) {
        if (after != null && !after.isBlank()) {
            return Mono.fromCallable(() -> {
                try {
                    return ResumePoints.parse(after, partitions);
                } catch (IllegalArgumentException e) {
                    throw SwitchboardException.invalid(e.getMessage());
                }
            });
        }
        return reader.heads(tenant, topic)
                .collectMap(EventReader.PartitionHead::partition, EventReader.PartitionHead::head)
                .map(heads -> {
                    Map<Integer, Long> start = new TreeMap<>();
                    for (int p = 0; p < partitions; p++) {
                        start.put(p, heads.getOrDefault(p, 0L));
                    }
                    return start;
                });
    }

    private static String historyJson(EventReader.Page page, EventReader.Position position) {
        StringBuilder sb = new StringBuilder(256 + page.items().size() * 256);
        sb.append("{\"events\":[");
        boolean first = true;
        String gap = null;
        for (LogItem item : page.items()) {
            if (item instanceof LogItem.Event e) {
                if (!first) {
                    sb.append(',');
                }
                sb.append(e.envelope());
                first = false;
            } else if (item instanceof LogItem.Gap g) {
                gap = "{\"from\":" + g.from() + ",\"to\":" + g.to() + "}";
            }
        }
        sb.append("],\"head\":").append(position.head()).append(",\"first\":").append(position.firstSeq());
        if (gap != null) {
            sb.append(",\"gap\":").append(gap);
        }
        return sb.append('}').toString();
    }

    private static StreamLine line(LogItem item) {
        if (item instanceof LogItem.Event e) {
            return new StreamLine.EventLine(e.partition(), e.seq(), e.envelope());
        }
        LogItem.Gap g = (LogItem.Gap) item;
        return new StreamLine.Gap(g.partition(), g.from(), g.to());
    }

    private static DataBuffer buffer(ServerHttpResponse response, String line) {
        return response.bufferFactory().wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
