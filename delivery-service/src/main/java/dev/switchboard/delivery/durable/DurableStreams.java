package dev.switchboard.delivery.durable;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.delivery.limit.PublishLimiter;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Durable Streams on the log: create (and fork), append, close, delete, and which stream a path
 * names. Every change is one transaction that locks the stream's row first, so appends to one
 * stream — with the {@code Stream-Seq} and producer checks that go with them ({@code PROTOCOL.md}
 * §5.2.1) — are serialised across every delivery instance (and group-committed within one,
 * {@link #append}), and a producer's state commits with the data it admits: a retry after a crash
 * is never appended twice. Appends take the tenant's publish
 * tokens as events do, one per message, and a message is at most the tenant's {@code maxPayloadBytes}.
 *
 * <p>A fork copies the rows it shares with its source into its own log, with their seqs, so its
 * offsets are its source's up to the fork point and its own after it, and nothing a source does
 * later (appends, closing, deletion, expiry) reaches it. Copying costs the rows once, at the fork.
 */
@Service
class DurableStreams {

    private final StreamStore store;
    private final TransactionalOperator tx;
    private final JsonMapper json;
    private final RegistryClient registry;
    private final PublishLimiter limiter;
    private final StreamSettings settings;
    private final MeterRegistry meters;
    private final DistributionSummary batchSizes;

    DurableStreams(StreamStore store, TransactionalOperator tx, JsonMapper json, RegistryClient registry, PublishLimiter limiter,
                   StreamSettings settings, MeterRegistry meters) {
        this.settings = settings;
        this.meters = meters;
        this.batchSizes = DistributionSummary.builder("switchboard.delivery.streams.batch.appends")
                .description("Appends to one Durable Stream carried by one transaction (group commit)")
                .register(meters);
        this.store = store;
        this.tx = tx;
        this.json = json;
        this.registry = registry;
        this.limiter = limiter;
    }

    /** An idempotent producer's headers on an append. */
    record ProducerClaim(String id, long epoch, long seq) {
    }

    /** What an append asks for besides its body; {@code contentType} null when not sent. */
    record AppendRequest(String contentType, String writerSeq, ProducerClaim producer, boolean close) {
    }

    /**
     * @param created   false: the stream existed with this configuration (idempotent {@code 200})
     * @param duplicate the producer had already appended this seq: nothing was appended ({@code 204})
     * @param producer  the producer's state to echo, or null
     * @param appended  an append that added messages (not a close alone, not a duplicate)
     */
    record Outcome(StreamRow stream, boolean created, boolean duplicate, ProducerClaim producer, boolean appended) {
        Outcome(StreamRow stream, boolean created, boolean duplicate, ProducerClaim producer) {
            this(stream, created, duplicate, producer, false);
        }
    }

    /**
     * The live stream at {@code path}. Fails with 404 when there is none (never made, deleted,
     * expired), 410 when it was deleted while forks of it live.
     */
    Mono<StreamRow> live(String tenant, String path) {
        Instant now = Instant.now();
        return store.find(tenant, path)
                .switchIfEmpty(Mono.error(DurableStreams::noSuchStream))
                .flatMap(row -> check(tenant, row, now));
    }

    private Mono<StreamRow> check(String tenant, StreamRow row, Instant now) {
        if (row.live(now)) {
            return Mono.just(row);
        }
        if (row.state() == StreamRow.State.SOFT_DELETED) {
            return store.referenced(tenant, row.logKey(), now).flatMap(held -> held ? Mono.error(gone())
                    : store.release(tenant, row.logKey()).then(Mono.error(noSuchStream())));
        }
        return Mono.error(noSuchStream());
    }

    /** Renews a read stream's TTL (reads keep a stream with a TTL alive; HEAD does not). */
    Mono<Void> touch(String tenant, StreamRow row) {
        return store.touch(tenant, row, Instant.now());
    }

    Mono<Outcome> create(String tenant, String path, StreamConfig config, byte[] body) {
        return quotas(tenant).flatMap(quotas -> tx.transactional(store.insertPlaceholder(tenant, path)
                .then(store.lock(tenant, path))
                .flatMap(existing -> {
                    Instant now = Instant.now();
                    if (existing.live(now)) {
                        if (!config.matches(existing)) {
                            return Mono.error(SwitchboardException.conflict(
                                    "A stream exists at this path with another configuration (content type, TTL, expiry, closed or fork)."));
                        }
                        return Mono.just(new Outcome(existing, false, false, null));
                    }
                    Mono<Boolean> held = existing.state() == StreamRow.State.SOFT_DELETED
                            ? store.referenced(tenant, existing.logKey(), now) : Mono.just(false);
                    return held.flatMap(h -> h
                            ? Mono.error(SwitchboardException.conflict("The stream at this path was deleted and its forks still live."))
                            : source(tenant, config, now).flatMap(source -> make(tenant, path, config, body, quotas, existing, source, now)));
                })));
    }

    private Mono<Outcome> make(String tenant, String path, StreamConfig config, byte[] body, TenantQuotas quotas, StreamRow previous,
                               Source source, Instant now) {
        StreamRow from = source.row();
        String contentType = config.contentType() != null ? config.contentType() : from != null ? from.contentType() : StreamContent.DEFAULT_TYPE;
        if (from != null && !StreamContent.essence(contentType).equals(StreamContent.essence(from.contentType()))) {
            return Mono.error(SwitchboardException.conflict("A fork has its source's content type, " + from.contentType() + "."));
        }
        boolean jsonMode = StreamContent.isJson(contentType);
        List<String> messages = StreamContent.messages(json, jsonMode, body, true);
        requireSizes(messages, quotas, jsonMode);
        // A fork asking for no expiry of its own has its source's: a fresh TTL window, or the same end.
        Long ttl = config.ttlSeconds();
        Instant expiresAt = config.expiresAt();
        if (from != null && ttl == null && expiresAt == null) {
            ttl = from.ttlSeconds();
            expiresAt = from.ttlSeconds() == null ? from.expiresAt() : null;
        }
        if (ttl != null) {
            expiresAt = now.plusSeconds(ttl);
        }
        // A stream made again at a used path starts after its predecessor's seqs; a fork shares its source's.
        long base = from == null ? previous.head() : from.baseSeq();
        long head = from == null ? base : source.at();
        StreamRow fresh = new StreamRow(path, StreamStore.newLogKey(), contentType, ttl, expiresAt, false, null, base, head,
                config.forkedFrom(), from == null ? null : from.logKey(), from == null ? null : source.at(),
                from == null ? null : config.subOffset(), StreamRow.State.LIVE);
        if (!messages.isEmpty()) {
            limiter.acquire(tenant, fresh.logKey(), quotas, null, messages.size());
        }
        // An expired stream it replaces was still counted (the retention sweep had not retired it yet).
        Mono<Void> counted = previous.state() == StreamRow.State.LIVE ? Mono.empty()
                : store.countCreated(tenant, settings.maxPerTenant()).flatMap(ok -> ok ? Mono.<Void>empty()
                : Mono.error(new SwitchboardException(ErrorCode.FORBIDDEN, "The tenant has " + settings.maxPerTenant()
                + " streams, as many as it may; delete some first.")));
        Mono<Long> shared = from == null ? Mono.just(head)
                : store.copy(tenant, from.logKey(), fresh.logKey(), from.baseSeq(), head)
                .then(source.prefix() == null ? Mono.just(head) : store.append(tenant, fresh.logKey(), head, source.prefix()));
        return counted.then(store.create(tenant, fresh))
                .then(shared)
                .flatMap(at -> store.append(tenant, fresh.logKey(), at, messages))
                .flatMap(newHead -> store.update(tenant, path, null, config.closed(), now)
                        .thenReturn(new Outcome(fresh.withHead(newHead, null, config.closed()), true, false, null, !messages.isEmpty())))
                .doOnSuccess(outcome -> {
                    count(tenant, "switchboard.delivery.streams.created", "Durable Streams created (forks included)", 1);
                    count(tenant, APPENDED, APPENDED_DESCRIPTION, messages.size());
                });
    }

    /**
     * The source of a fork, the seq it is forked at, and the messages of the sub-offset prefix (the
     * fork's first own append), or null.
     */
    private record Source(StreamRow row, long at, List<String> prefix) {
        static final Source NONE = new Source(null, 0, null);
    }

    private Mono<Source> source(String tenant, StreamConfig config, Instant now) {
        if (config.forkedFrom() == null) {
            return Mono.just(Source.NONE);
        }
        return store.lock(tenant, config.forkedFrom())
                .switchIfEmpty(Mono.error(() -> SwitchboardException.notFound("The stream to fork does not exist.")))
                .flatMap(row -> check(tenant, row, now)
                        .onErrorMap(e -> e instanceof SwitchboardException s && s.getBody().getStatus() == HttpStatus.GONE.value(),
                                e -> SwitchboardException.conflict("The stream to fork was deleted.")))
                .flatMap(row -> {
                    long at = config.forkOffset() != null ? config.forkOffset() : row.head();
                    if (at < row.baseSeq() || at > row.head()) {
                        return Mono.error(SwitchboardException.invalid("Stream-Fork-Offset is not within the source stream."));
                    }
                    if (config.subOffset() == 0) {
                        return Mono.just(new Source(row, at, null));
                    }
                    return prefix(tenant, row, at, config.subOffset()).map(prefix -> new Source(row, at, prefix));
                });
    }

    /** The first {@code n} bytes (or, JSON, messages) of the source's append unit after {@code at}. */
    private Mono<List<String>> prefix(String tenant, StreamRow source, long at, long n) {
        long upTo = source.json() ? at + n : at + 1;
        if (upTo > source.head()) {
            return Mono.error(SwitchboardException.invalid("Stream-Fork-Sub-Offset goes past the source's append at the fork offset."));
        }
        return store.rows(tenant, source.logKey(), at, upTo).map(rows -> {
            if (rows.isEmpty() || rows.stream().anyMatch(r -> r.unit() != rows.get(0).unit())) {
                throw SwitchboardException.invalid("Stream-Fork-Sub-Offset goes past the source's append at the fork offset.");
            }
            if (source.json()) {
                return rows.stream().map(StreamStore.Message::body).toList();
            }
            byte[] bytes = Base64.getDecoder().decode(rows.get(0).body());
            if (n > bytes.length) {
                throw SwitchboardException.invalid("Stream-Fork-Sub-Offset is past the end of the source's append at the fork offset.");
            }
            return List.of(Base64.getEncoder().encodeToString(Arrays.copyOf(bytes, (int) n)));
        });
    }

    /** At most this many appends wait on one instance (beyond what is committing); past it, 503. */
    static final int MAX_QUEUED_APPENDS = 20_000;
    /** At most this many appends to one stream go in one transaction. */
    static final int MAX_BATCH = 500;

    /** Appends waiting for their stream's next transaction, per stream; a lane runs one transaction at a time. */
    private final Map<LaneKey, Lane> lanes = new ConcurrentHashMap<>();
    private final AtomicInteger queued = new AtomicInteger();

    private record LaneKey(String tenant, String path) {
    }

    private record Pending(AppendRequest request, byte[] body, TenantQuotas quotas, MonoSink<Outcome> sink) {
        boolean closeOnly() {
            return body.length == 0 && request.close();
        }
    }

    private static final class Lane {
        final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
        final AtomicBoolean running = new AtomicBoolean();
    }

    /**
     * An append. Appends to one stream that arrive while its previous transaction commits go
     * together in the next one (group commit): one row lock, one write, one commit for all of them,
     * each checked in arrival order against the state the ones before it left (producers, writer
     * seq, closed). Each is answered only once its transaction has committed; one refused in a batch
     * changes nothing, and the others go on.
     */
    Mono<Outcome> append(String tenant, String path, AppendRequest request, byte[] body) {
        if (body.length == 0 && !request.close()) {
            return Mono.error(SwitchboardException.invalid("An append needs a body (or Stream-Closed: true to close)."));
        }
        if (body.length > 0 && request.contentType() == null) {
            return Mono.error(SwitchboardException.invalid("An append needs a Content-Type."));
        }
        return quotas(tenant).flatMap(quotas -> Mono.<Outcome>create(sink -> {
            if (queued.incrementAndGet() > MAX_QUEUED_APPENDS) {
                queued.decrementAndGet();
                sink.error(SwitchboardException.retryLater(ErrorCode.UNAVAILABLE, "Too many appends are waiting here; retry shortly.",
                        Duration.ofSeconds(1)));
                return;
            }
            LaneKey key = new LaneKey(tenant, path);
            Pending pending = new Pending(request, body, quotas, sink);
            // Queued inside the map's atomic step for the key, so a lane being removed as empty never takes it along.
            lanes.compute(key, (k, lane) -> {
                Lane l = lane == null ? new Lane() : lane;
                l.queue.add(pending);
                return l;
            });
            drain(key);
        }));
    }

    private void drain(LaneKey key) {
        Lane lane = lanes.get(key);
        if (lane == null || !lane.running.compareAndSet(false, true)) {
            return;
        }
        List<Pending> batch = new ArrayList<>();
        Pending next;
        while (batch.size() < MAX_BATCH && (next = lane.queue.poll()) != null) {
            batch.add(next);
        }
        if (batch.isEmpty()) {
            lane.running.set(false);
            // A lane left empty goes (atomically with appends queueing on it); one that got an append meanwhile is drained.
            Lane kept = lanes.compute(key, (k, l) -> l == lane && l.queue.isEmpty() && !l.running.get() ? null : l);
            if (kept != null) {
                drain(key);
            }
            return;
        }
        queued.addAndGet(-batch.size());
        batchSizes.record(batch.size());
        // The batch's transaction runs on its own: the requests it answers cannot cancel what the others wait for.
        tx.transactional(commit(key.tenant(), key.path(), batch))
                .subscribe(done -> answer(key.tenant(), batch, done, null),
                        e -> {
                            answer(key.tenant(), batch, null, e);
                            release(key, lane);
                        },
                        () -> release(key, lane));
    }

    private void release(LaneKey key, Lane lane) {
        lane.running.set(false);
        drain(key);
    }

    /** What a batch's transaction decided: each append's outcome or refusal, in order, and how many messages it appended. */
    private record Committed(List<Object> results, int appended) {
    }

    /** Answers each append of a committed batch — or, when the transaction failed, every one with its failure. */
    private void answer(String tenant, List<Pending> batch, Committed done, Throwable failure) {
        for (int i = 0; i < batch.size(); i++) {
            MonoSink<Outcome> sink = batch.get(i).sink();
            Object result = done == null ? failure : done.results().get(i);
            if (result instanceof Outcome outcome) {
                sink.success(outcome);
            } else {
                sink.error((Throwable) result);
            }
        }
        if (done != null) {
            count(tenant, APPENDED, APPENDED_DESCRIPTION, done.appended());
        }
    }

    /** One transaction: the stream locked, each append checked in order and answered (an {@link Outcome} or an error), the whole written once. */
    private Mono<Committed> commit(String tenant, String path, List<Pending> batch) {
        return store.lock(tenant, path)
                .switchIfEmpty(Mono.error(DurableStreams::noSuchStream))
                .flatMap(row -> check(tenant, row, Instant.now()))
                .flatMap(row -> store.producers(tenant, row.logKey(), batch.stream().map(p -> p.request().producer())
                                .filter(java.util.Objects::nonNull).map(ProducerClaim::id).distinct().toList())
                        .flatMap(producers -> {
                            Instant now = Instant.now();
                            Batch state = new Batch(row, new HashMap<>(producers));
                            List<Object> results = new ArrayList<>(batch.size());
                            for (Pending p : batch) {
                                try {
                                    results.add(state.apply(tenant, p));
                                } catch (SwitchboardException e) {
                                    results.add(e);
                                }
                            }
                            Committed done = new Committed(results, state.bodies.size());
                            if (!state.changed()) {
                                return Mono.just(done);
                            }
                            return store.write(tenant, new StreamStore.BatchWrite(path, row.logKey(), row.head(), state.head, state.bodies,
                                            state.units, state.writerSeq, state.closed, state.touched, now))
                                    .thenReturn(done);
                        }));
    }

    /** The stream's state as a batch's appends leave it, one after the other. */
    private final class Batch {
        final StreamRow row;
        final Map<String, StreamStore.Producer> producers;
        final Map<String, StreamStore.Producer> touched = new HashMap<>();
        final List<String> bodies = new ArrayList<>();
        final List<String> units = new ArrayList<>();
        long head;
        String writerSeq;
        boolean closed;
        boolean changed;

        Batch(StreamRow row, Map<String, StreamStore.Producer> producers) {
            this.row = row;
            this.producers = producers;
            this.head = row.head();
            this.writerSeq = row.writerSeq();
            this.closed = row.closed();
        }

        boolean changed() {
            return changed;
        }

        /** One append against the state so far: its outcome, or a refusal (thrown) that changes nothing. */
        Outcome apply(String tenant, Pending p) {
            AppendRequest request = p.request();
            Check check = producerCheck(producers.get(request.producer() == null ? "" : request.producer().id()), request.producer());
            StreamRow now = row.withHead(head, writerSeq, closed);
            if (check.duplicate()) {
                return new Outcome(now, false, true, check.echo());
            }
            if (closed) {
                // Closing a closed stream again changes nothing and succeeds; anything else is refused.
                if (p.closeOnly() && request.producer() == null) {
                    return new Outcome(now, false, false, null);
                }
                throw closed(head);
            }
            if (!p.closeOnly() && !StreamContent.essence(request.contentType()).equals(StreamContent.essence(row.contentType()))) {
                throw SwitchboardException.conflict("The stream's content type is " + row.contentType() + ".");
            }
            if (check.failure() != null) {
                throw check.failure();
            }
            if (request.writerSeq() != null && writerSeq != null && request.writerSeq().compareTo(writerSeq) <= 0) {
                throw SwitchboardException.conflict("Stream-Seq '" + request.writerSeq() + "' is not after the last one appended ('"
                        + writerSeq + "').");
            }
            List<String> messages = p.closeOnly() ? List.of() : StreamContent.messages(json, row.json(), p.body(), false);
            requireSizes(messages, p.quotas(), row.json());
            if (!messages.isEmpty()) {
                limiter.acquire(tenant, row.logKey(), p.quotas(), null, messages.size());
            }
            String unit = Long.toString(head + 1);
            for (String m : messages) {
                bodies.add(m);
                units.add(unit);
            }
            head += messages.size();
            if (request.writerSeq() != null) {
                writerSeq = request.writerSeq();
            }
            closed = closed || request.close();
            if (request.producer() != null) {
                StreamStore.Producer state = new StreamStore.Producer(request.producer().epoch(), request.producer().seq());
                producers.put(request.producer().id(), state);
                touched.put(request.producer().id(), state);
            }
            changed = true;
            return new Outcome(row.withHead(head, writerSeq, closed), false, false, request.producer(), !messages.isEmpty());
        }
    }

    /**
     * A producer's verdict: append; a duplicate (answered with the producer's state, nothing
     * appended); or a refusal, raised only after the stream's own checks (closed, content type).
     */
    private record Check(boolean duplicate, ProducerClaim echo, SwitchboardException failure) {
        static final Check APPEND = new Check(false, null, null);

        static Check refuse(SwitchboardException e) {
            return new Check(false, null, e);
        }
    }

    /** {@code state}: the producer's as stored or as this batch left it, or null for one never seen. */
    private static Check producerCheck(StreamStore.Producer state, ProducerClaim claim) {
        if (claim == null) {
            return Check.APPEND;
        }
        if (state == null) {
            return claim.seq() == 0 ? Check.APPEND : Check.refuse(gap(0, claim.seq()));
        }
        if (claim.epoch() < state.epoch()) {
            SwitchboardException e = new SwitchboardException(ErrorCode.FORBIDDEN,
                    "Producer epoch " + claim.epoch() + " is stale; the current epoch is " + state.epoch() + ".");
            e.getHeaders().set(StreamHeaders.PRODUCER_EPOCH, Long.toString(state.epoch()));
            return Check.refuse(e);
        }
        if (claim.epoch() > state.epoch()) {
            return claim.seq() == 0 ? Check.APPEND : Check.refuse(SwitchboardException.invalid("A new producer epoch starts at Producer-Seq 0."));
        }
        if (claim.seq() <= state.lastSeq()) {
            return new Check(true, new ProducerClaim(claim.id(), state.epoch(), state.lastSeq()), null);
        }
        return claim.seq() == state.lastSeq() + 1 ? Check.APPEND : Check.refuse(gap(state.lastSeq() + 1, claim.seq()));
    }

    private static SwitchboardException gap(long expected, long received) {
        SwitchboardException e = SwitchboardException.conflict("Producer-Seq " + received + " skips ahead; expected " + expected + ".");
        e.getHeaders().set(StreamHeaders.PRODUCER_EXPECTED_SEQ, Long.toString(expected));
        e.getHeaders().set(StreamHeaders.PRODUCER_RECEIVED_SEQ, Long.toString(received));
        return e;
    }

    private static SwitchboardException closed(long head) {
        SwitchboardException e = SwitchboardException.conflict("The stream is closed.");
        e.getHeaders().set(StreamHeaders.STREAM_CLOSED, "true");
        e.getHeaders().set(StreamHeaders.STREAM_NEXT_OFFSET, StreamOffsets.format(head));
        return e;
    }

    static SwitchboardException noSuchStream() {
        return SwitchboardException.notFound("No such stream.");
    }

    /** 410, the protocol's status for a stream deleted while its forks live; the problem's code is our nearest. */
    static SwitchboardException gone() {
        SwitchboardException e = SwitchboardException.notFound("The stream was deleted; forks of it still live.");
        e.getBody().setStatus(HttpStatus.GONE.value());
        return e;
    }

    /** Deletes a stream; one with live forks is soft-deleted (410 from then on) until they are gone. */
    Mono<Void> delete(String tenant, String path) {
        return tx.transactional(store.lock(tenant, path)
                .switchIfEmpty(Mono.error(DurableStreams::noSuchStream))
                .flatMap(row -> check(tenant, row, Instant.now()))
                .flatMap(row -> store.referenced(tenant, row.logKey(), Instant.now())
                        .flatMap(held -> store.delete(tenant, path, row.head(), held))
                        .then(store.countDeleted(tenant))
                        .then(store.notifyHead(tenant, row.logKey(), row.head()))))
                .doOnSuccess(v -> count(tenant, "switchboard.delivery.streams.deleted", "Durable Streams deleted", 1));
    }

    private static final String APPENDED = "switchboard.delivery.streams.appended";
    private static final String APPENDED_DESCRIPTION = "Messages appended to Durable Streams (a JSON message, or one append of bytes)";

    /** Tagged by tenant (from the gateway's authenticated credential, a valid id), never by stream. */
    private void count(String tenant, String name, String description, int n) {
        if (n > 0) {
            Counter.builder(name).description(description).tag("tenant", tenant).register(meters).increment(n);
        }
    }

    private Mono<TenantQuotas> quotas(String tenant) {
        return registry.quotas(tenant);
    }

    /** A message (JSON mode) or an append (bytes) is at most the tenant's {@code maxPayloadBytes}. */
    private static void requireSizes(List<String> messages, TenantQuotas quotas, boolean jsonMode) {
        long limit = quotas.maxPayloadBytes();
        for (String m : messages) {
            // Base64 holds 3 bytes in 4 characters; JSON text is near enough its UTF-8 size here.
            long bytes = jsonMode ? m.length() : (long) m.length() / 4 * 3;
            if (bytes > limit) {
                throw new SwitchboardException(ErrorCode.PAYLOAD_TOO_LARGE, (jsonMode ? "A message" : "An append")
                        + " is at most " + limit + " bytes (the tenant's maxPayloadBytes).");
            }
        }
    }
}
