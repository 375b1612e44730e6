package dev.switchboard.delivery.durable;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.delivery.topic.TopicLookup;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.util.List;


/**
 * One flow of a topic read through the Durable Streams protocol ({@link TopicView}), for the
 * gateway's {@code /v1/stream/_runs/{run}}: catch-up, long-poll and SSE, read-only.
 */
@RestController
@RequestMapping("/internal/v1/tenants/{tenant}/topics/{topic}/durable-stream")
class TopicViewController {

    private final TopicLookup topics;
    private final TopicView view;
    private final StreamReads reads;
    private final StreamAnswers answers;
    private final StreamSettings settings;

    TopicViewController(TopicLookup topics, TopicView view, StreamReads reads, StreamAnswers answers, StreamSettings settings) {
        this.topics = topics;
        this.view = view;
        this.reads = reads;
        this.answers = answers;
        this.settings = settings;
    }

    @RequestMapping(method = RequestMethod.HEAD)
    Mono<Void> head(@PathVariable String tenant, @PathVariable String topic, ServerHttpRequest request, ServerHttpResponse response) {
        return resolve(tenant, topic, request.getQueryParams()).then(view.head(tenant, topic)).flatMap(head -> {
            HttpHeaders out = response.getHeaders();
            out.set(HttpHeaders.CONTENT_TYPE, TopicView.CONTENT_TYPE);
            out.set(StreamHeaders.STREAM_NEXT_OFFSET, StreamOffsets.format(head));
            out.setCacheControl(StreamAnswers.NO_STORE);
            response.setStatusCode(HttpStatus.OK);
            return response.setComplete();
        });
    }

    @GetMapping
    Mono<Void> read(@PathVariable String tenant, @PathVariable String topic, ServerHttpRequest request, ServerHttpResponse response) {
        MultiValueMap<String, String> query = request.getQueryParams();
        return resolve(tenant, topic, query).flatMap(correlation -> view.head(tenant, topic).flatMap(head -> {
            ReadQuery read = ReadQuery.of(query);
            long after = after(read.offset(), head);
            StreamReads.Source source = view.source(tenant, topic, correlation);
            if (read.longPoll()) {
                return answers.longPoll(reads.next(tenant, topic, after, settings.longPollTimeout(), source), after, read.cursor(), response);
            }
            if (read.sse()) {
                return answers.sse(reads.follow(tenant, topic, after, StreamAnswers.SSE_MAX_AGE, source),
                        TopicView.row(topic, head, false), read.cursor(), response);
            }
            return answers.catchUp(source.after(after), topic + ":" + correlation, after, read.fromNow(), request, response);
        }));
    }

    /** The topic exists (404 otherwise) and the flow is named; answers the flow's correlation id. */
    private Mono<String> resolve(String tenant, String topic, MultiValueMap<String, String> query) {
        return Mono.defer(() -> {
            if (!TopicNames.isValidTenantId(tenant) || !TopicNames.isValidTopicName(topic)) {
                throw SwitchboardException.invalid("Invalid tenant or topic name.");
            }
            String correlation = correlation(query);
            if (correlation == null || correlation.isBlank()) {
                throw SwitchboardException.invalid("Name the flow to read: correlation.");
            }
            return topics.resolve(tenant, topic).thenReturn(correlation);
        });
    }

    private static String correlation(MultiValueMap<String, String> query) {
        List<String> values = query.get("correlation");
        return values == null || values.size() != 1 ? null : values.get(0);
    }

    private static long after(String offset, long head) {
        if (offset == null || offset.equals(StreamOffsets.BEGINNING)) {
            return 0;
        }
        if (offset.equals(StreamOffsets.NOW)) {
            return head;
        }
        long value = StreamOffsets.parseView(offset);
        if (value < 0) {
            throw SwitchboardException.invalid("'" + offset + "' is not an offset of this server (use one it returned, -1 or now).");
        }
        if (value % StreamOffsets.ENDED > head) {
            throw SwitchboardException.invalid("The offset is past the stream's tail.");
        }
        return value;
    }
}
