package dev.switchboard.delivery.durable;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriUtils;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The Durable Streams protocol for the gateway ({@code /v1/stream/{path}} there): HTTP in, the
 * protocol's status codes and headers out, our problem bodies on errors. The gateway has
 * authenticated the caller and vouches for the tenant in the path.
 */
@RestController
@RequestMapping("/internal/v1/tenants/{tenant}/streams")
class StreamController {

    private static final Pattern DECIMAL = Pattern.compile("0|[1-9][0-9]{0,15}");
    /** Producer epochs and seqs: non-negative integers up to 2^53 - 1 (JavaScript's safe integers). */
    private static final long MAX_SAFE_INTEGER = (1L << 53) - 1;
    private static final String NO_STORE = StreamAnswers.NO_STORE;
    /** Largest body a create or append takes. */
    private static final int MAX_BODY_BYTES = 8 * 1024 * 1024;

    private final DurableStreams streams;
    private final StreamReads reads;
    private final StreamAnswers answers;
    private final StreamSettings settings;

    StreamController(DurableStreams streams, StreamReads reads, StreamAnswers answers, StreamSettings settings) {
        this.streams = streams;
        this.reads = reads;
        this.answers = answers;
        this.settings = settings;
    }

    @PutMapping("/{*path}")
    Mono<Void> create(@PathVariable String tenant, ServerHttpRequest request, ServerHttpResponse response) {
        return Mono.defer(() -> {
            String path = path(tenant, request);
            HttpHeaders h = request.getHeaders();
            String contentType = h.getFirst(HttpHeaders.CONTENT_TYPE);
            if (contentType != null && contentType.isBlank()) {
                contentType = null;
            }
            if (contentType != null && !StreamContent.isValidType(contentType)) {
                throw SwitchboardException.invalid("Content-Type '" + contentType + "' is not a media type.");
            }
            Long ttl = ttl(h.getFirst(StreamHeaders.STREAM_TTL));
            Instant expiresAt = expiresAt(h.getFirst(StreamHeaders.STREAM_EXPIRES_AT));
            if (ttl != null && expiresAt != null) {
                throw SwitchboardException.invalid("Give Stream-TTL or Stream-Expires-At, not both.");
            }
            String forkedFrom = forkSource(h.getFirst(StreamHeaders.STREAM_FORKED_FROM));
            Long forkOffset = forkOffset(h.getFirst(StreamHeaders.STREAM_FORK_OFFSET), forkedFrom);
            long subOffset = subOffset(h.getFirst(StreamHeaders.STREAM_FORK_SUB_OFFSET), forkedFrom, forkOffset);
            StreamConfig config = new StreamConfig(contentType, ttl, expiresAt, closedFlag(h), forkedFrom, forkOffset, subOffset);
            return body(request)
                    .flatMap(body -> streams.create(tenant, path, config, body))
                    .flatMap(outcome -> {
                        StreamRow s = outcome.stream();
                        response.setStatusCode(outcome.created() ? HttpStatus.CREATED : HttpStatus.OK);
                        HttpHeaders out = response.getHeaders();
                        if (outcome.created()) {
                            // The gateway makes it absolute, from the URL the client used.
                            out.set(HttpHeaders.LOCATION, "/v1/stream/" + rawPath(request));
                        }
                        out.set(HttpHeaders.CONTENT_TYPE, s.contentType());
                        out.set(StreamHeaders.STREAM_NEXT_OFFSET, StreamOffsets.format(s.head()));
                        closedHeader(out, s.closed());
                        return response.setComplete();
                    });
        });
    }

    @PostMapping("/{*path}")
    Mono<Void> append(@PathVariable String tenant, ServerHttpRequest request, ServerHttpResponse response) {
        return Mono.defer(() -> {
            String path = path(tenant, request);
            HttpHeaders h = request.getHeaders();
            DurableStreams.AppendRequest append = new DurableStreams.AppendRequest(h.getFirst(HttpHeaders.CONTENT_TYPE),
                    h.getFirst(StreamHeaders.STREAM_SEQ), producer(h), closedFlag(h));
            return body(request)
                    .flatMap(body -> streams.append(tenant, path, append, body))
                    .flatMap(outcome -> {
                        StreamRow s = outcome.stream();
                        boolean producer = outcome.producer() != null;
                        // 200 for data a producer appended; 204 for a plain append, a close, and a producer's duplicate.
                        response.setStatusCode(outcome.appended() && producer ? HttpStatus.OK : HttpStatus.NO_CONTENT);
                        HttpHeaders out = response.getHeaders();
                        out.set(StreamHeaders.STREAM_NEXT_OFFSET, StreamOffsets.format(s.head()));
                        if (producer) {
                            out.set(StreamHeaders.PRODUCER_EPOCH, Long.toString(outcome.producer().epoch()));
                            out.set(StreamHeaders.PRODUCER_SEQ, Long.toString(outcome.producer().seq()));
                        }
                        closedHeader(out, s.closed());
                        return response.setComplete();
                    });
        });
    }

    @DeleteMapping("/{*path}")
    Mono<Void> delete(@PathVariable String tenant, ServerHttpRequest request, ServerHttpResponse response) {
        return Mono.defer(() -> streams.delete(tenant, path(tenant, request))
                .then(Mono.defer(() -> {
                    response.setStatusCode(HttpStatus.NO_CONTENT);
                    return response.setComplete();
                })));
    }

    @RequestMapping(path = "/{*path}", method = org.springframework.web.bind.annotation.RequestMethod.HEAD)
    Mono<Void> head(@PathVariable String tenant, ServerHttpRequest request, ServerHttpResponse response) {
        return Mono.defer(() -> streams.live(tenant, path(tenant, request)).flatMap(s -> {
            HttpHeaders out = response.getHeaders();
            out.set(HttpHeaders.CONTENT_TYPE, s.contentType());
            out.set(StreamHeaders.STREAM_NEXT_OFFSET, StreamOffsets.format(s.head()));
            out.setCacheControl(NO_STORE);
            expiryHeaders(out, s);
            closedHeader(out, s.closed());
            response.setStatusCode(HttpStatus.OK);
            return response.setComplete();
        }));
    }

    @GetMapping("/{*path}")
    Mono<Void> read(@PathVariable String tenant, ServerHttpRequest request, ServerHttpResponse response) {
        return Mono.defer(() -> {
            String path = path(tenant, request);
            ReadQuery query = ReadQuery.of(request.getQueryParams());
            return streams.live(tenant, path).flatMap(stream -> {
                long after = after(stream, query.offset());
                // Reads keep a stream with a TTL alive.
                Mono<Void> touched = streams.touch(tenant, stream);
                if (query.longPoll()) {
                    return touched.then(answers.longPoll(reads.next(tenant, path, stream.logKey(), after, settings.longPollTimeout()),
                            after, query.cursor(), response));
                }
                if (query.sse()) {
                    return touched.then(answers.sse(reads.follow(tenant, path, stream, after, StreamAnswers.SSE_MAX_AGE), stream,
                            query.cursor(), response));
                }
                return touched.then(answers.catchUp(reads.read(tenant, stream, after), stream.logKey().substring(1), after,
                        query.fromNow(), request, response));
            });
        });
    }

    /** The seq a read starts after: the stream's beginning ({@code -1} or none), its tail ({@code now}), or an offset in it. */
    private static long after(StreamRow stream, String offset) {
        if (offset == null || offset.equals(StreamOffsets.BEGINNING)) {
            return stream.baseSeq();
        }
        if (offset.equals(StreamOffsets.NOW)) {
            return stream.head();
        }
        long seq = StreamOffsets.parse(offset);
        if (seq < 0) {
            throw SwitchboardException.invalid("'" + offset + "' is not an offset of this server (use one it returned, -1 or now).");
        }
        if (seq < stream.baseSeq()) {
            throw DurableStreams.gone();
        }
        if (seq > stream.head()) {
            throw SwitchboardException.invalid("The offset is past the stream's tail.");
        }
        return seq;
    }

    private static Mono<byte[]> body(ServerHttpRequest request) {
        return DataBufferUtils.join(request.getBody(), MAX_BODY_BYTES)
                .map(buffer -> {
                    byte[] bytes = new byte[buffer.readableByteCount()];
                    buffer.read(bytes);
                    DataBufferUtils.release(buffer);
                    return bytes;
                })
                .defaultIfEmpty(new byte[0])
                .onErrorMap(DataBufferLimitException.class, e -> new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE,
                        "A request body is at most " + MAX_BODY_BYTES + " bytes."));
    }

    private static String path(String tenant, ServerHttpRequest request) {
        if (!TopicNames.isValidTenantId(tenant)) {
            throw SwitchboardException.invalid("Invalid tenant id.");
        }
        String path = UriUtils.decode(rawPath(request), StandardCharsets.UTF_8);
        if (path.isEmpty() || path.length() > 1024) {
            throw SwitchboardException.invalid("A stream path is 1 to 1024 characters.");
        }
        return path;
    }

    /** The stream path as the request encoded it. */
    private static String rawPath(ServerHttpRequest request) {
        String raw = request.getPath().pathWithinApplication().value();
        int at = raw.indexOf("/streams/");
        return at < 0 ? "" : raw.substring(at + "/streams/".length());
    }

    /** A fork's source, given as the path the client uses ({@code /v1/stream/…}) or as the bare stream path. */
    private static String forkSource(String header) {
        if (header == null) {
            return null;
        }
        String source = header.startsWith("/v1/stream/") ? header.substring("/v1/stream/".length()) : header;
        source = UriUtils.decode(source, StandardCharsets.UTF_8);
        if (source.isEmpty() || source.length() > 1024) {
            throw SwitchboardException.invalid("Stream-Forked-From names no stream.");
        }
        return source;
    }

    private static Long forkOffset(String header, String forkedFrom) {
        if (header == null) {
            return null;
        }
        if (forkedFrom == null) {
            throw SwitchboardException.invalid("Stream-Fork-Offset goes with Stream-Forked-From.");
        }
        long seq = StreamOffsets.parse(header);
        if (seq < 0) {
            throw SwitchboardException.invalid("Stream-Fork-Offset is not an offset of the source stream.");
        }
        return seq;
    }

    private static long subOffset(String header, String forkedFrom, Long forkOffset) {
        if (header == null) {
            return 0;
        }
        if (forkedFrom == null) {
            throw SwitchboardException.invalid("Stream-Fork-Sub-Offset goes with Stream-Forked-From.");
        }
        if (!DECIMAL.matcher(header).matches()) {
            throw SwitchboardException.invalid("Stream-Fork-Sub-Offset is a whole number, without sign or leading zeros.");
        }
        long n = Long.parseLong(header);
        if (n > 0 && forkOffset == null) {
            throw SwitchboardException.invalid("Stream-Fork-Sub-Offset needs Stream-Fork-Offset: the append it cuts starts there.");
        }
        return n;
    }

    private static Long ttl(String value) {
        if (value == null) {
            return null;
        }
        if (!DECIMAL.matcher(value).matches()) {
            throw SwitchboardException.invalid("Stream-TTL is a whole number of seconds in decimal, without sign or leading zeros.");
        }
        return Long.parseLong(value);
    }

    private static Instant expiresAt(String value) {
        if (value == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw SwitchboardException.invalid("Stream-Expires-At is an RFC 3339 timestamp.");
        }
    }

    private static boolean closedFlag(HttpHeaders h) {
        String value = h.getFirst(StreamHeaders.STREAM_CLOSED);
        return value != null && value.trim().toLowerCase(Locale.ROOT).equals("true");
    }

    private static DurableStreams.ProducerClaim producer(HttpHeaders h) {
        String id = h.getFirst(StreamHeaders.PRODUCER_ID);
        String epoch = h.getFirst(StreamHeaders.PRODUCER_EPOCH);
        String seq = h.getFirst(StreamHeaders.PRODUCER_SEQ);
        if (id == null && epoch == null && seq == null) {
            return null;
        }
        if (id == null || epoch == null || seq == null) {
            throw SwitchboardException.invalid("Producer-Id, Producer-Epoch and Producer-Seq come together.");
        }
        if (id.isEmpty()) {
            throw SwitchboardException.invalid("Producer-Id is empty.");
        }
        return new DurableStreams.ProducerClaim(id, safeInteger(epoch, "Producer-Epoch"), safeInteger(seq, "Producer-Seq"));
    }

    private static long safeInteger(String value, String header) {
        if (!DECIMAL.matcher(value).matches() || Long.parseLong(value) > MAX_SAFE_INTEGER) {
            throw SwitchboardException.invalid(header + " is a non-negative integer up to 2^53 - 1.");
        }
        return Long.parseLong(value);
    }

    static void closedHeader(HttpHeaders out, boolean closed) {
        if (closed) {
            out.set(StreamHeaders.STREAM_CLOSED, "true");
        }
    }

    private static void expiryHeaders(HttpHeaders out, StreamRow s) {
        if (s.ttlSeconds() != null) {
            out.set(StreamHeaders.STREAM_TTL, Long.toString(s.ttlSeconds()));
        } else if (s.expiresAt() != null) {
            out.set(StreamHeaders.STREAM_EXPIRES_AT, s.expiresAt().toString());
        }
    }
}
