package dev.switchboard.client;

import dev.switchboard.contracts.envelope.Event;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A running consumer of one consumer group (at-least-once). It works in rounds: poll up to
 * {@code maxBatch} events (long-polling up to {@code pollWait}), run the handler on them with at most
 * {@code concurrency} at once, then ack every event whose handler completed — in one request per
 * partition — and nack every event whose handler failed (an error, a thrown exception, a null
 * Mono), each with {@code delayMs} = {@code nackDelay × 2^(attempt-1)} (capped at
 * {@code maxNackDelay}) and {@code reason} = the exception's message cut to 512 characters; then the
 * next round. The acks ride on the next poll ({@code "ack"} in its body: one round trip a batch), so
 * they are done before that poll leases anything; on a stop they are sent on their own. An event's
 * {@code attempt} (1 on first delivery) is in its extensions: {@link #attempt(Event)}.
 *
 * <p>Handlers run on the client's event loop: they must not block (move blocking work to a
 * scheduler with {@code subscribeOn}). A handler should finish within the ack deadline, or the
 * platform gives its event to another consumer too: a handler still running at the ack deadline is
 * cancelled and its event nacked, so that one stuck handler cannot hold up the consumer.
 *
 * <p>A failed poll (connection error, {@code 5xx}, {@code 429}) is logged at WARN and retried after
 * a growing pause; any other refusal ({@code 401}, {@code 403}, {@code 404}, {@code 409} …) ends
 * the consumer with that {@link SwitchboardException} ({@link #done()} fails). An ack or nack that
 * still fails after the client's retries is logged at WARN and left to the ack deadline: the
 * platform redelivers those events.
 *
 * <p>{@link #stop()} is graceful: no new poll starts, the poll in progress returns (within
 * {@code pollWait}), its events are handled, acked and nacked, and then {@link #done()} completes;
 * nothing is left leased by this consumer. {@link #dispose()} starts the same stop without
 * waiting; {@link #close()} waits for it.
 */
public final class SwitchboardConsumer implements Disposable, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SwitchboardConsumer.class);
    static final int MAX_REASON = 512;
    /** Ack bodies one poll may carry (the platform's limit). */
    static final int MAX_ACKS_IN_POLL = 64;

    private final SwitchboardClient client;
    private final String topic;
    private final String group;
    private final Function<Event, Mono<Void>> handler;
    private final ConsumerOptions options;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Sinks.Empty<Void> stopSignal = Sinks.empty();
    private final Sinks.Empty<Void> done = Sinks.empty();
    private final AtomicBoolean terminated = new AtomicBoolean();
    private final AtomicInteger pollFailures = new AtomicInteger();
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong nacked = new AtomicLong();
    private volatile Disposable loop;
    /**
     * The last round's acks, per partition, for the next poll to carry; touched only by the loop,
     * one round after another. Kept when a poll fails, so the next try carries them again (an ack
     * already done comes back as ignored).
     */
    private Map<Integer, List<Long>> toAck = Map.of();

    private SwitchboardConsumer(SwitchboardClient client, String topic, String group,
                                Function<Event, Mono<Void>> handler, ConsumerOptions options) {
        this.client = client;
        this.topic = Objects.requireNonNull(topic, "topic");
        this.group = Objects.requireNonNull(group, "group");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.options = Objects.requireNonNull(options, "options");
    }

    static SwitchboardConsumer start(SwitchboardClient client, String topic, String group,
                                     Function<Event, Mono<Void>> handler, ConsumerOptions options) {
        SwitchboardConsumer consumer = new SwitchboardConsumer(client, topic, group, handler, options);
        consumer.loop = Mono.defer(consumer::round)
                .repeat(() -> !consumer.stopping.get())
                .then()
                // Whatever ends the loop, the last round's acks are sent (so a stop leaves nothing leased).
                .onErrorResume(error -> consumer.flushAcks().then(Mono.error(error)))
                .then(Mono.defer(consumer::flushAcks))
                .subscribe(null, consumer::failed, consumer::completed);
        return consumer;
    }

    /** The delivery attempt of a polled event: 1 on first delivery, +1 on each redelivery. */
    public static int attempt(Event event) {
        Object attempt = event.extensions().get("attempt");
        return attempt instanceof Number n ? n.intValue() : 1;
    }

    /** Starts a graceful stop (see the class comment) and completes when the consumer has stopped. */
    public Mono<Void> stop() {
        if (stopping.compareAndSet(false, true)) {
            stopSignal.tryEmitEmpty();
        }
        return done();
    }

    /** Completes when the consumer has stopped; fails with what ended it, if something did. */
    public Mono<Void> done() {
        return done.asMono();
    }

    /** Starts a graceful stop and returns at once. */
    @Override
    public void dispose() {
        stop();
    }

    /** Whether the consumer has stopped. */
    @Override
    public boolean isDisposed() {
        return terminated.get();
    }

    /** Stops gracefully and waits for it (at most the wait, the ack deadline and a minute); not on an event loop. */
    @Override
    public void close() {
        stop().onErrorResume(e -> Mono.empty())
                .block(options.pollWait().plus(options.ackDeadline()).plus(Duration.ofMinutes(1)));
    }

    /** Events whose handler completed so far. */
    public long handledCount() {
        return handled.get();
    }

    /** Events acked so far (as the platform confirmed). */
    public long ackedCount() {
        return acked.get();
    }

    /** Events nacked so far. */
    public long nackedCount() {
        return nacked.get();
    }

    private void failed(Throwable error) {
        log.warn("consumer of group {} on {} stopped: {}", group, topic, error.toString());
        terminated.set(true);
        done.tryEmitError(error);
    }

    private void completed() {
        terminated.set(true);
        done.tryEmitEmpty();
    }

    private Mono<Void> round() {
        // A poll carries at most MAX_ACKS_IN_POLL ack bodies (one per partition): more go on their own first.
        Mono<Void> before = toAck.size() > MAX_ACKS_IN_POLL ? flushAcks() : Mono.empty();
        return before.then(Mono.defer(() -> {
                    Map<Integer, List<Long>> carried = toAck;
                    return client.poll(topic, group, pollBody(carried), options.pollWait())
                            .doOnNext(polled -> {
                                pollFailures.set(0);
                                toAck = Map.of();
                                polled.acks().forEach(answer -> acked.addAndGet(answer.acked().size()));
                            });
                }))
                .flatMap(polled -> polled.events().isEmpty() ? idle() : handleAll(polled.events()))
                .onErrorResume(Http::isTransient, error -> {
                    int failures = pollFailures.incrementAndGet();
                    Duration pause = options.errorBackoffAfter(failures);
                    log.warn("poll of group {} on {} failed ({} in a row), polling again in {} ms: {}", group, topic,
                            failures, pause.toMillis(), error.toString());
                    return pause(pause);
                });
    }

    /** An empty poll that did not wait is followed by a short pause, so that wait = 0 is not a busy loop. */
    private Mono<Void> idle() {
        return options.pollWait().isZero() ? pause(Duration.ofMillis(200)) : Mono.empty();
    }

    /** A pause that a stop cuts short. */
    private Mono<Void> pause(Duration pause) {
        return Mono.firstWithSignal(Mono.delay(pause).then(), stopSignal.asMono());
    }

    private Map<String, Object> pollBody(Map<Integer, List<Long>> acks) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (!acks.isEmpty()) {
            List<Map<String, Object>> ack = new ArrayList<>();
            acks.forEach((partition, seqs) -> ack.add(Map.of("partition", partition, "seqs", seqs)));
            body.put("ack", ack);
        }
        body.put("max", options.maxBatch());
        body.put("ackDeadlineMs", options.ackDeadline().toMillis());
        body.put("waitMs", options.pollWait().toMillis());
        if (options.consumerName() != null) {
            body.put("consumer", options.consumerName());
        }
        if (options.from() != null) {
            body.put("from", options.from());
        }
        body.put("orderedByKey", options.orderedByKey());
        return body;
    }

    private record Outcome(Event event, Throwable failure) {
    }

    private Mono<Void> handleAll(List<Event> events) {
        Flux<Outcome> outcomes;
        if (options.orderedByKey()) {
            outcomes = Flux.fromIterable(byKey(events))
                    .flatMap(ofKey -> Flux.fromIterable(ofKey).concatMap(this::handleOne), options.concurrency());
        } else {
            outcomes = Flux.fromIterable(events).flatMap(this::handleOne, options.concurrency());
        }
        return outcomes.collectList().flatMap(this::settle);
    }

    /** Events of one partitionkey together, in the order polled; each event without a key on its own. */
    private static List<List<Event>> byKey(List<Event> events) {
        Map<String, List<Event>> keyed = new LinkedHashMap<>();
        List<List<Event>> groups = new ArrayList<>();
        for (Event event : events) {
            if (event.partitionKey() == null) {
                groups.add(List.of(event));
            } else {
                keyed.computeIfAbsent(event.partitionKey(), k -> {
                    List<Event> list = new ArrayList<>();
                    groups.add(list);
                    return list;
                }).add(event);
            }
        }
        return groups;
    }

    private Mono<Outcome> handleOne(Event event) {
        return Mono.defer(() -> Objects.requireNonNull(handler.apply(event), "the handler returned null"))
                // Past the deadline the lease is gone and the platform hands the event out again: stop waiting.
                .timeout(options.ackDeadline(), Mono.error(() -> new TimeoutException(
                        "the handler did not finish within the ack deadline (" + options.ackDeadline().toMillis() + " ms)")))
                .then(Mono.fromSupplier(() -> {
                    handled.incrementAndGet();
                    return new Outcome(event, null);
                }))
                .onErrorResume(failure -> Mono.just(new Outcome(event, failure)));
    }

    private Mono<Void> settle(List<Outcome> outcomes) {
        Map<Integer, List<Long>> done = new TreeMap<>();
        List<Outcome> failed = new ArrayList<>();
        for (Outcome outcome : outcomes) {
            if (outcome.failure() == null) {
                done.computeIfAbsent(partition(outcome.event()), p -> new ArrayList<>()).add(outcome.event().seq());
            } else {
                failed.add(outcome);
            }
        }
        toAck = done;
        Mono<Void> nacks = Flux.fromIterable(failed)
                .concatMap(outcome -> {
                    Event event = outcome.event();
                    int attempt = attempt(event);
                    log.debug("handler failed on seq {} of group {} on {} (attempt {}): {}", event.seq(), group, topic,
                            attempt, outcome.failure().toString());
                    return client.nack(topic, group, partition(event), List.of(event.seq()),
                                    options.nackDelayAfter(attempt), reason(outcome.failure()))
                            .doOnNext(answer -> nacked.addAndGet(answer.path("nacked").size()))
                            .then()
                            .onErrorResume(error -> {
                                log.warn("nack of seq {} of group {} on {} failed; it will be redelivered after its "
                                        + "ack deadline: {}", event.seq(), group, topic, error.toString());
                                return Mono.empty();
                            });
                })
                .then();
        return nacks;
    }

    /** Sends the acks no poll carried, each partition's on its own; one that still fails is left to its ack deadline. */
    private Mono<Void> flushAcks() {
        Map<Integer, List<Long>> pending = toAck;
        toAck = Map.of();
        return Flux.fromIterable(pending.entrySet())
                .concatMap(entry -> client.ack(topic, group, entry.getKey(), entry.getValue())
                        .doOnNext(answer -> acked.addAndGet(answer.path("acked").size()))
                        .then()
                        .onErrorResume(error -> {
                            log.warn("ack of {} events of group {} on {} failed; they will be redelivered: {}",
                                    entry.getValue().size(), group, topic, error.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    private static int partition(Event event) {
        return event.partition() == null ? 0 : event.partition();
    }

    /** The exception's message (else its class's simple name), at most 512 characters. */
    static String reason(Throwable failure) {
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            message = failure.getClass().getSimpleName();
        }
        return Http.truncate(message, MAX_REASON);
    }
}
