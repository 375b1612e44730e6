package dev.switchboard.delivery.durable;

import dev.switchboard.delivery.config.DeliveryProperties;
import dev.switchboard.delivery.stream.HeadNotifier;
import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Reads of a stream: one bounded chunk (catch-up), a wait for the next chunk (long-poll), and a
 * chunk whenever there is one (SSE). Like the log's live streams, waiting is a loop of bounded
 * reads from a cursor, woken by the NOTIFY of a new head from any instance or by the poll timer
 * (which covers a lost notification), so what a reader gets is always what is committed, in order.
 */
@Component
class StreamReads {

    /** Most row text one chunk carries (past its first message): about 1 MiB of JSON, ¾ MiB of bytes. */
    static final long MAX_CHUNK_CHARS = 1 << 20;

    private final StreamStore store;
    private final DurableStreams streams;
    private final HeadNotifier notifier;
    private final DeliveryProperties properties;

    StreamReads(StreamStore store, DurableStreams streams, HeadNotifier notifier, DeliveryProperties properties) {
        this.store = store;
        this.streams = streams;
        this.notifier = notifier;
        this.properties = properties;
    }

    /**
     * One read: the messages after {@code after} and where the next read starts.
     *
     * @param stream   the stream as it stood when the read began (its head is what "up to date" is measured against)
     * @param upToDate everything the stream held when the read began is in this chunk (or before it)
     */
    record Chunk(StreamRow stream, List<StreamStore.Message> messages, long next, boolean upToDate) {
        boolean closedAtEnd() {
            return upToDate && stream.closed();
        }
    }

    Mono<Chunk> read(String tenant, StreamRow stream, long after) {
        if (after >= stream.head()) {
            return Mono.just(new Chunk(stream, List.of(), after, true));
        }
        return store.read(tenant, stream.logKey(), after, properties.pageSize(), MAX_CHUNK_CHARS)
                .map(messages -> {
                    long next = messages.isEmpty() ? after : messages.get(messages.size() - 1).seq();
                    return new Chunk(stream, messages, next, next >= stream.head());
                });
    }

    /** Reads the chunk after a cursor; empty when what is read is gone (deleted, expired, made anew). */
    @FunctionalInterface
    interface Source {
        Mono<Chunk> after(long cursor);
    }

    /** A stream as a {@link Source}: each read first checks that it is still the same live stream. */
    private Source stream(String tenant, String path, String logKey) {
        return cursor -> current(tenant, path, logKey).flatMap(s -> read(tenant, s, cursor));
    }

    /**
     * The next chunk after {@code after}: at once if there is data (or the stream is closed there),
     * else when some arrives; empty when {@code timeout} passes first or the stream goes away.
     */
    Mono<Chunk> next(String tenant, String path, String logKey, long after, Duration timeout) {
        return next(tenant, logKey, after, timeout, stream(tenant, path, logKey));
    }

    /** The same for any source whose appends announce heads of partition 0 of {@code logKey}. */
    Mono<Chunk> next(String tenant, String logKey, long after, Duration timeout, Source source) {
        return wakeups(tenant, logKey, after)
                .concatMap(wake -> source.after(after).map(Optional::of).defaultIfEmpty(Optional.empty()), 1)
                .filter(c -> c.isEmpty() || !c.get().messages().isEmpty() || c.get().closedAtEnd())
                .next()
                .flatMap(c -> c.map(Mono::just).orElseGet(Mono::empty))
                .timeout(timeout, Mono.empty());
    }

    /**
     * Chunks from {@code after} on, for as long as {@code maxAge}: the first read whatever it holds
     * (so a reader learns it is up to date), then every read that brings messages. Ends once the
     * stream is closed and read to its end, or deleted, or expired.
     */
    Flux<Chunk> follow(String tenant, String path, StreamRow start, long after, Duration maxAge) {
        Source later = stream(tenant, path, start.logKey());
        return Flux.defer(() -> {
            // The first read uses the stream as the request found it; every later one looks again (closed, deleted).
            boolean[] first = {true};
            return follow(tenant, start.logKey(), after, maxAge, cursor -> {
                boolean isFirst = first[0];
                first[0] = false;
                return isFirst ? read(tenant, start, cursor) : later.after(cursor);
            });
        });
    }

    /** The same for any source whose appends announce heads of partition 0 of {@code logKey}. */
    Flux<Chunk> follow(String tenant, String logKey, long after, Duration maxAge, Source source) {
        return Flux.defer(() -> {
            long[] cursor = {after};
            boolean[] first = {true};
            return wakeups(tenant, logKey, after)
                    .concatMap(wake -> source.after(cursor[0]).map(Optional::of).defaultIfEmpty(Optional.empty()), 1)
                    .takeWhile(Optional::isPresent)
                    .map(Optional::get)
                    .filter(c -> {
                        boolean emit = first[0] || !c.messages().isEmpty() || c.closedAtEnd();
                        first[0] = false;
                        cursor[0] = c.next();
                        return emit;
                    })
                    // A chunk that ends a closed stream is the last one.
                    .takeUntil(Chunk::closedAtEnd)
                    .take(maxAge);
        });
    }

    /** The stream if it is still the same live stream (not deleted, expired or made anew). */
    private Mono<StreamRow> current(String tenant, String path, String logKey) {
        return streams.live(tenant, path).onErrorResume(SwitchboardException.class, e -> Mono.empty())
                .filter(s -> s.logKey().equals(logKey));
    }

    /** Now, then on every head this stream's appends announce (any instance), and on the poll timer. */
    private Flux<Long> wakeups(String tenant, String logKey, long after) {
        return Flux.merge(
                        notifier.heads()
                                .filter(h -> h.partition() == 0 && h.topic().equals(logKey) && h.tenant().equals(tenant))
                                .map(HeadNotifier.Head::head),
                        Mono.just(after),
                        Flux.interval(properties.pollInterval()).map(t -> after))
                .onBackpressureLatest();
    }
}
