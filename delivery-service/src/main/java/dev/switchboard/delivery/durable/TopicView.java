package dev.switchboard.delivery.durable;

import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.log.EventReader;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.List;

/**
 * A topic's events of one flow — a workflow run's {@code ai.*} events, which carry the run as
 * {@code correlationid} — read as a JSON-mode Durable Stream: each event (the whole CloudEvent) is
 * one message, offsets are the topic's seqs (partition 0, where a run's events are), and the stream
 * is closed once the flow's last event ({@code ai.completed} or {@code ai.failed}) has been read. The
 * offset handed out with that event carries {@link StreamOffsets#ENDED}, so a reader that resumes
 * from it is told at once that nothing more will come, without reading the topic again.
 */
@Component
class TopicView {

    static final String CONTENT_TYPE = "application/json";
    private static final List<String> LAST_TYPES = List.of("ai.completed", "ai.failed");

    private final StreamStore store;
    private final EventReader reader;
    private final DeliveryProperties properties;
    private final JsonMapper json;

    TopicView(StreamStore store, EventReader reader, DeliveryProperties properties, JsonMapper json) {
        this.store = store;
        this.reader = reader;
        this.properties = properties;
        this.json = json;
    }

    /** The topic's head (the view's tail offset). */
    Mono<Long> head(String tenant, String topic) {
        return reader.position(tenant, topic, 0).map(EventReader.Position::head);
    }

    /** The view as the answers need it: a JSON stream, closed or not, up to {@code head}. */
    static StreamRow row(String topic, long head, boolean ended) {
        return new StreamRow(topic, topic, CONTENT_TYPE, null, null, ended, null, 0, head, null, null, null, null, StreamRow.State.LIVE);
    }

    /** The flow's events after {@code after} (a view offset: {@link StreamOffsets#ENDED} set once the flow ended). */
    StreamReads.Source source(String tenant, String topic, String correlation) {
        return after -> after >= StreamOffsets.ENDED
                ? Mono.just(new StreamReads.Chunk(row(topic, after, true), List.of(), after, true))
                : head(tenant, topic).flatMap(head -> after >= head
                ? Mono.just(new StreamReads.Chunk(row(topic, head, false), List.of(), after, true))
                : store.read(tenant, topic, after, properties.pageSize(), StreamReads.MAX_CHUNK_CHARS)
                .map(rows -> chunk(topic, correlation, after, head, rows)));
    }

    private StreamReads.Chunk chunk(String topic, String correlation, long after, long head, List<StreamStore.Message> rows) {
        List<StreamStore.Message> mine = new ArrayList<>();
        long next = rows.isEmpty() ? after : rows.get(rows.size() - 1).seq();
        for (StreamStore.Message row : rows) {
            JsonNode event = parse(row.body());
            if (event == null || !correlation.equals(event.path("correlationid").asString(null))) {
                continue;
            }
            if (LAST_TYPES.contains(event.path("type").asString(""))) {
                // The flow's last event: the view ends here, whatever the topic holds after it.
                long end = StreamOffsets.ENDED + row.seq();
                mine.add(new StreamStore.Message(end, end, row.body()));
                return new StreamReads.Chunk(row(topic, head, true), mine, end, true);
            }
            mine.add(new StreamStore.Message(row.seq(), row.seq(), row.body()));
        }
        return new StreamReads.Chunk(row(topic, head, false), mine, next, next >= head);
    }

    private JsonNode parse(String envelope) {
        try {
            return json.readTree(envelope);
        } catch (JacksonException e) {
            return null;
        }
    }
}
