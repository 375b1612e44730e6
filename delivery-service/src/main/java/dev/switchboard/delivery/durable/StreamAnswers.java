package dev.switchboard.delivery.durable;

import dev.switchboard.delivery.stream.Stopping;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The protocol's answers to reads, whatever is read (a stream, or a topic seen as one): catch-up,
 * long-poll and SSE, with their headers and framing. Live answers end when this instance stops.
 */
@Component
class StreamAnswers {

    static final String CATCH_UP_CACHE = "private, max-age=60, stale-while-revalidate=300";
    static final String NO_STORE = "no-store";
    /** SSE answers end after about this long so that clients reconnect and CDNs can collapse them (§8.2). */
    static final Duration SSE_MAX_AGE = Duration.ofSeconds(60);

    private final Stopping stopping;
    private final Duration keepAlive;

    StreamAnswers(Stopping stopping, StreamSettings settings) {
        this.stopping = stopping;
        this.keepAlive = settings.sseKeepAlive();
    }

    /** A catch-up read's answer: the chunk, its ETag ({@code etagKey}, the range, closed or not) and a 304 when the client has it. */
    Mono<Void> catchUp(Mono<StreamReads.Chunk> read, String etagKey, long after, boolean fromNow, ServerHttpRequest request,
                       ServerHttpResponse response) {
        return read.flatMap(chunk -> {
            HttpHeaders out = response.getHeaders();
            chunkHeaders(out, chunk);
            if (fromNow) {
                out.setCacheControl(NO_STORE);
            } else {
                String etag = "\"" + etagKey + ":" + after + ":" + chunk.next() + (chunk.closedAtEnd() ? ":c" : "") + "\"";
                out.setETag(etag);
                out.setCacheControl(CATCH_UP_CACHE);
                if (etag.equals(request.getHeaders().getFirst(HttpHeaders.IF_NONE_MATCH))) {
                    response.setStatusCode(HttpStatus.NOT_MODIFIED);
                    return response.setComplete();
                }
            }
            return write(response, HttpStatus.OK, chunk.stream(), chunk.messages());
        });
    }

    /**
     * A long-poll's answer: the chunk that came ({@code 200}), or {@code 204} when the stream is
     * closed where the reader is, or when nothing came in time ({@code next} empty).
     */
    Mono<Void> longPoll(Mono<StreamReads.Chunk> arrival, long after, String cursor, ServerHttpResponse response) {
        return arrival
                .takeUntilOther(stopping.signal())
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .flatMap(next -> {
                    HttpHeaders out = response.getHeaders();
                    out.set(StreamHeaders.STREAM_CURSOR, StreamCursor.next(cursor, Instant.now()));
                    if (next.isEmpty()) {
                        // Nothing came in time (or the stream went away): the reader is up to date where it asked.
                        out.set(StreamHeaders.STREAM_NEXT_OFFSET, StreamOffsets.format(after));
                        out.set(StreamHeaders.STREAM_UP_TO_DATE, "true");
                        out.setCacheControl(NO_STORE);
                        response.setStatusCode(HttpStatus.NO_CONTENT);
                        return response.setComplete();
                    }
                    StreamReads.Chunk chunk = next.get();
                    chunkHeaders(out, chunk);
                    if (chunk.messages().isEmpty()) {
                        // Closed at this offset: nothing more will come.
                        out.setCacheControl(NO_STORE);
                        response.setStatusCode(HttpStatus.NO_CONTENT);
                        return response.setComplete();
                    }
                    out.setCacheControl(CATCH_UP_CACHE);
                    return write(response, HttpStatus.OK, chunk.stream(), chunk.messages());
                });
    }

    /** An SSE answer: a data event per append unit of every chunk, each followed by a control event. */
    Mono<Void> sse(Flux<StreamReads.Chunk> chunks, StreamRow stream, String cursor, ServerHttpResponse response) {
        boolean base64 = !StreamContent.isText(stream.contentType());
        HttpHeaders out = response.getHeaders();
        out.set(HttpHeaders.CONTENT_TYPE, "text/event-stream");
        out.setCacheControl("no-cache");
        if (base64) {
            out.set(StreamHeaders.STREAM_SSE_DATA_ENCODING, "base64");
        }
        String[] lastCursor = {cursor};
        // One write (and flush) per append unit, its data event with its control event: a reader never gets a pair cut in two.
        Flux<String> events = chunks
                .takeUntilOther(stopping.signal())
                .concatMapIterable(chunk -> {
                    List<String> writes = new ArrayList<>();
                    List<List<StreamStore.Message>> units = units(chunk.messages());
                    if (units.isEmpty()) {
                        StringBuilder sb = new StringBuilder();
                        control(sb, chunk.next(), chunk.upToDate(), chunk.closedAtEnd(), lastCursor);
                        writes.add(sb.toString());
                    }
                    for (int i = 0; i < units.size(); i++) {
                        StringBuilder sb = new StringBuilder();
                        List<StreamStore.Message> unit = units.get(i);
                        boolean last = i == units.size() - 1;
                        byte[] data = StreamContent.body(chunk.stream().json(), texts(unit));
                        String text = base64 ? Base64.getEncoder().encodeToString(data) : new String(data, StandardCharsets.UTF_8);
                        sb.append("event: data\n");
                        // Every line of the payload its own data: line, so no payload can start an event of its own.
                        for (String line : text.split("\r\n|\r|\n", -1)) {
                            sb.append("data:").append(line).append('\n');
                        }
                        sb.append('\n');
                        control(sb, unit.get(unit.size() - 1).seq(), last && chunk.upToDate(), last && chunk.closedAtEnd(), lastCursor);
                        writes.add(sb.toString());
                    }
                    return writes;
                });
        response.setStatusCode(HttpStatus.OK);
        // A comment line while the stream is quiet, so proxies with an idle timeout keep the answer open (readers ignore comments).
        Flux<String> comments = Flux.interval(keepAlive, keepAlive).onBackpressureDrop().map(tick -> ": keep-alive\n\n");
        Flux<String> answer = events.publish(shared -> Flux.merge(shared, comments.takeUntilOther(shared.then(Mono.just(Boolean.TRUE)))));
        return response.writeAndFlushWith(answer.map(e -> Mono.just(response.bufferFactory().wrap(e.getBytes(StandardCharsets.UTF_8)))));
    }

    /** A control event: where the reader stands, and whether it is caught up or the stream is closed (then no cursor). */
    private static void control(StringBuilder sb, long next, boolean upToDate, boolean closed, String[] cursor) {
        sb.append("event: control\ndata:{\"streamNextOffset\":\"").append(StreamOffsets.format(next)).append('"');
        if (closed) {
            sb.append(",\"streamClosed\":true");
        } else {
            cursor[0] = StreamCursor.next(cursor[0], Instant.now());
            sb.append(",\"streamCursor\":\"").append(cursor[0]).append('"');
        }
        if (upToDate) {
            sb.append(",\"upToDate\":true");
        }
        sb.append("}\n\n");
    }

    /** Messages grouped by the append they came in: SSE sends one data event per append. */
    private static List<List<StreamStore.Message>> units(List<StreamStore.Message> messages) {
        List<List<StreamStore.Message>> units = new ArrayList<>();
        for (StreamStore.Message m : messages) {
            if (units.isEmpty() || units.get(units.size() - 1).get(0).unit() != m.unit()) {
                units.add(new ArrayList<>());
            }
            units.get(units.size() - 1).add(m);
        }
        return units;
    }

    private static void chunkHeaders(HttpHeaders out, StreamReads.Chunk chunk) {
        out.set(HttpHeaders.CONTENT_TYPE, chunk.stream().contentType());
        out.set(StreamHeaders.STREAM_NEXT_OFFSET, StreamOffsets.format(chunk.next()));
        if (chunk.upToDate()) {
            out.set(StreamHeaders.STREAM_UP_TO_DATE, "true");
        }
        StreamController.closedHeader(out, chunk.closedAtEnd());
    }

    private static Mono<Void> write(ServerHttpResponse response, HttpStatus status, StreamRow stream, List<StreamStore.Message> messages) {
        byte[] body = StreamContent.body(stream.json(), texts(messages));
        response.setStatusCode(status);
        response.getHeaders().setContentLength(body.length);
        return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
    }

    private static List<String> texts(List<StreamStore.Message> messages) {
        return messages.stream().map(StreamStore.Message::body).toList();
    }

}
