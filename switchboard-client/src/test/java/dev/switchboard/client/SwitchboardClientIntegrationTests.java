package dev.switchboard.client;

import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.contracts.envelope.RawJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Publish and consume through the client against the real platform (registry, delivery, gateway, PostgreSQL). */
class SwitchboardClientIntegrationTests {

    static final String TENANT = "clientacme";
    static final String SLOW_TENANT = "clientslow";
    static TestPlatform platform;
    static String key;
    static String slowKey;
    static SwitchboardClient client;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start();
        platform.createTenant(TENANT, 100_000, 100_000);
        platform.createTenant(SLOW_TENANT, 1, 1);
        key = platform.createKey(TENANT, "publish", "subscribe");
        slowKey = platform.createKey(SLOW_TENANT, "publish", "subscribe");
        platform.declareTopic(TENANT, "orders.*", Map.of());
        platform.declareTopic(TENANT, "jobs.*", Map.of("maxAttempts", 5));
        platform.declareTopic(SLOW_TENANT, "slow", Map.of());
        client = SwitchboardClient.builder(platform.gatewayUrl()).apiKey(key).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    static Event event(String type, String data) {
        return Event.builder().type(type).data(RawJson.parse(data)).build();
    }

    static List<Long> seqs(List<PublishResult> results) {
        return results.stream().map(PublishResult::seq).toList();
    }

    @Test
    void publishesOneAndABatchAndTheyReadBack() {
        StepVerifier.create(client.publish("orders.eu", event("order.created", "{\"n\":1}")))
                .assertNext(result -> {
                    assertThat(result.seq()).isEqualTo(1);
                    assertThat(result.partition()).isZero();
                    assertThat(result.duplicate()).isFalse();
                    assertThat(UUID.fromString(result.id()).version()).as("a UUIDv7 given by the client").isEqualTo(7);
                })
                .expectComplete().verify(Duration.ofSeconds(30));
        StepVerifier.create(client.publishBatch("orders.eu", List.of(
                        event("order.created", "{\"n\":2}"),
                        Event.builder().id("order-3").type("order.created").data(RawJson.parse("{\"n\":3}")).build(),
                        event("order.created", "{\"n\":4}"))))
                .assertNext(results -> {
                    assertThat(seqs(results)).containsExactly(2L, 3L, 4L);
                    assertThat(results.get(1).id()).isEqualTo("order-3");
                })
                .expectComplete().verify(Duration.ofSeconds(30));

        List<JsonNode> history = platform.history(key, "orders.eu");
        assertThat(history).extracting(e -> e.get("data").get("n").asInt()).containsExactly(1, 2, 3, 4);
        assertThat(history).extracting(e -> e.get("seq").asLong()).containsExactly(1L, 2L, 3L, 4L);
        assertThat(history.get(2).get("id").asString()).isEqualTo("order-3");
    }

    @Test
    void aRetryAfterTheResponseWasCutIsTheSameEventNotASecondOne() throws Exception {
        try (CuttingProxy proxy = new CuttingProxy(platform.gatewayPort());
             SwitchboardClient viaProxy = SwitchboardClient.builder(proxy.url()).apiKey(key)
                     .retryPolicy(new RetryPolicy(3, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5)))
                     .build()) {
            proxy.cutNextResponses(1);
            StepVerifier.create(viaProxy.publish("orders.cut", event("order.created", "{\"n\":1}")))
                    .assertNext(result -> {
                        assertThat(result.duplicate()).as("the first attempt was stored; the retry found it").isTrue();
                        assertThat(result.seq()).isEqualTo(1);
                    })
                    .expectComplete().verify(Duration.ofSeconds(30));
            assertThat(proxy.cut()).isEqualTo(1);
            assertThat(proxy.connections()).as("the retry went over a new connection").isGreaterThanOrEqualTo(2);

            proxy.cutNextResponses(1);
            StepVerifier.create(viaProxy.publishBatch("orders.cut", List.of(event("order.created", "{\"n\":2}"),
                            event("order.created", "{\"n\":3}"))))
                    .assertNext(results -> {
                        assertThat(results).allMatch(PublishResult::duplicate);
                        assertThat(seqs(results)).containsExactly(2L, 3L);
                    })
                    .expectComplete().verify(Duration.ofSeconds(30));
        }
        assertThat(platform.history(key, "orders.cut")).extracting(e -> e.get("data").get("n").asInt())
                .containsExactly(1, 2, 3);
    }

    @Test
    void a429IsWaitedOutForAsLongAsItSays() {
        try (SwitchboardClient slow = SwitchboardClient.builder(platform.gatewayUrl()).apiKey(slowKey).build();
             SwitchboardClient once = SwitchboardClient.builder(platform.gatewayUrl()).apiKey(slowKey)
                     .retryPolicy(RetryPolicy.NONE).build()) {
            StepVerifier.create(slow.publish("slow", event("tick", "1"))).expectNextCount(1).expectComplete()
                    .verify(Duration.ofSeconds(30));
            // The bucket (1/s, burst 1) is empty now: without retries the refusal shows.
            StepVerifier.create(once.publish("slow", event("tick", "2")))
                    .expectErrorSatisfies(error -> {
                        assertThat(error).isInstanceOf(SwitchboardException.class);
                        SwitchboardException problem = (SwitchboardException) error;
                        assertThat(problem.status()).isEqualTo(429);
                        assertThat(problem.code()).isEqualTo("rate_limited");
                        assertThat(problem.retryAfter()).isPositive();
                    })
                    .verify(Duration.ofSeconds(30));
            long started = System.nanoTime();
            StepVerifier.create(slow.publish("slow", event("tick", "3")))
                    .assertNext(result -> assertThat(result.seq()).isEqualTo(2))
                    .expectComplete().verify(Duration.ofSeconds(30));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("waited for a token")
                    .isGreaterThan(Duration.ofMillis(300));
        }
        assertThat(platform.history(slowKey, "slow")).extracting(e -> e.get("data").asInt()).containsExactly(1, 3);
    }

    @Test
    void a503IsRetriedAndTheEventStoredOnce() throws Exception {
        try (CuttingProxy proxy = new CuttingProxy(platform.gatewayPort());
             SwitchboardClient viaProxy = SwitchboardClient.builder(proxy.url()).apiKey(key)
                     .retryPolicy(new RetryPolicy(4, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5)))
                     .build()) {
            proxy.unavailableNext(2);
            StepVerifier.create(viaProxy.publish("orders.unavailable", event("order.created", "{\"n\":1}")))
                    .assertNext(result -> {
                        assertThat(result.duplicate()).as("the 503s never reached the platform").isFalse();
                        assertThat(result.seq()).isEqualTo(1);
                    })
                    .expectComplete().verify(Duration.ofSeconds(30));
            assertThat(proxy.refused()).isEqualTo(2);

            proxy.unavailableNext(5);
            try (SwitchboardClient twice = SwitchboardClient.builder(proxy.url()).apiKey(key)
                    .retryPolicy(new RetryPolicy(2, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5)))
                    .build()) {
                StepVerifier.create(twice.publish("orders.unavailable", event("order.created", "{\"n\":2}")))
                        .expectErrorSatisfies(error -> {
                            assertThat(((SwitchboardException) error).code()).isEqualTo("unavailable");
                            assertThat(((SwitchboardException) error).status()).isEqualTo(503);
                        })
                        .verify(Duration.ofSeconds(30));
            }
            assertThat(proxy.refused()).as("bounded: two attempts in all").isEqualTo(4);
        }
        assertThat(platform.history(key, "orders.unavailable")).hasSize(1);
    }

    @Test
    void a400FailsAtOnceWithTheProblemsCode() {
        try (SwitchboardClient patient = SwitchboardClient.builder(platform.gatewayUrl()).apiKey(key)
                .retryPolicy(new RetryPolicy(5, Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(5)))
                .build()) {
            Event forged = Event.builder().type("order.created").seq(99L).data(RawJson.parse("{}")).build();
            long started = System.nanoTime();
            StepVerifier.create(patient.publish("orders.bad", forged))
                    .expectErrorSatisfies(error -> {
                        assertThat(error).isInstanceOf(SwitchboardException.class);
                        SwitchboardException problem = (SwitchboardException) error;
                        assertThat(problem.status()).isEqualTo(400);
                        assertThat(problem.code()).isEqualTo("invalid_request");
                        assertThat(problem.detail()).isNotBlank();
                        assertThat(problem.retryable()).isFalse();
                    })
                    .verify(Duration.ofSeconds(30));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no retry (the backoff is 3 s)")
                    .isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void everyEventIsHandledAndAckedOnce() {
        List<Event> events = new ArrayList<>();
        for (int i = 1; i <= 60; i++) {
            events.add(event("job", Integer.toString(i)));
        }
        StepVerifier.create(client.publishBatch("jobs.all", events)).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        SwitchboardConsumer consumer = client.consume("jobs.all", "workers", event -> Mono.defer(() -> {
                    mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                    return Mono.delay(Duration.ofMillis(20)).then(Mono.fromRunnable(() -> {
                        running.decrementAndGet();
                        handled.computeIfAbsent(event.seq(), s -> new AtomicInteger()).incrementAndGet();
                    }));
                }),
                ConsumerOptions.defaults().withMaxBatch(25).withConcurrency(4).withPollWait(Duration.ofSeconds(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> consumer.ackedCount() == 60);
        StepVerifier.create(consumer.stop()).expectComplete().verify(Duration.ofSeconds(30));

        assertThat(handled).hasSize(60);
        assertThat(handled.values()).allMatch(count -> count.get() == 1);
        assertThat(mostAtOnce.get()).isBetween(2, 4);
        assertThat(consumer.handledCount()).isEqualTo(60);
        StepVerifier.create(client.groupStatus("jobs.all", "workers"))
                .assertNext(status -> {
                    assertThat(status.committed()).isEqualTo(60);
                    assertThat(status.lag()).isZero();
                    assertThat(status.inFlight()).isZero();
                })
                .expectComplete().verify(Duration.ofSeconds(30));
    }

    @Test
    void eachPollCarriesTheAcksOfTheBatchBeforeIt() throws Exception {
        List<Event> events = new ArrayList<>();
        for (int i = 1; i <= 30; i++) {
            events.add(event("job", Integer.toString(i)));
        }
        StepVerifier.create(client.publishBatch("jobs.carried", events)).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        try (CuttingProxy proxy = new CuttingProxy(platform.gatewayPort());
             SwitchboardClient viaProxy = SwitchboardClient.builder(proxy.url()).apiKey(key).build()) {
            SwitchboardConsumer consumer = viaProxy.consume("jobs.carried", "workers", event -> Mono.empty(),
                    ConsumerOptions.defaults().withMaxBatch(10).withPollWait(Duration.ofSeconds(1)));
            await().atMost(Duration.ofSeconds(30)).until(() -> consumer.ackedCount() == 30);
            StepVerifier.create(consumer.stop()).expectComplete().verify(Duration.ofSeconds(30));

            // Three batches, each acked by the poll after it: no ack request of its own.
            assertThat(proxy.requests("/ack")).isZero();
            assertThat(proxy.requests("/poll")).isGreaterThanOrEqualTo(4);
        }
        StepVerifier.create(client.groupStatus("jobs.carried", "workers"))
                .assertNext(status -> {
                    assertThat(status.committed()).isEqualTo(30);
                    assertThat(status.inFlight()).isZero();
                })
                .expectComplete().verify(Duration.ofSeconds(30));
    }

    @Test
    void aFailingHandlerIsNackedWithBackoffAndTheEventComesBackAsAttempt2() {
        StepVerifier.create(client.publish("jobs.flaky", event("job", "1"))).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        List<Long> seenAt = new CopyOnWriteArrayList<>();
        String longMessage = "boom ".repeat(200);
        SwitchboardConsumer consumer = client.consume("jobs.flaky", "workers", event -> {
                    attempts.add(SwitchboardConsumer.attempt(event));
                    seenAt.add(System.nanoTime());
                    // Longer than the platform's 512-character limit on a reason: the client must cut it.
                    return SwitchboardConsumer.attempt(event) == 1 ? Mono.error(new IllegalStateException(longMessage))
                            : Mono.empty();
                },
                // A long ack deadline: only the nack can bring the event back within the test's time.
                ConsumerOptions.defaults().withAckDeadline(Duration.ofMinutes(5)).withPollWait(Duration.ofSeconds(1))
                        .withNackDelay(Duration.ofMillis(500), Duration.ofSeconds(10)));
        await().atMost(Duration.ofSeconds(20)).until(() -> consumer.ackedCount() == 1);
        StepVerifier.create(consumer.stop()).expectComplete().verify(Duration.ofSeconds(30));

        assertThat(attempts).containsExactly(1, 2);
        assertThat(consumer.nackedCount()).isEqualTo(1);
        assertThat(Duration.ofNanos(seenAt.get(1) - seenAt.get(0))).as("the nack's delay")
                .isGreaterThanOrEqualTo(Duration.ofMillis(450));
        StepVerifier.create(client.groupStatus("jobs.flaky", "workers"))
                .assertNext(status -> {
                    assertThat(status.committed()).isEqualTo(1);
                    assertThat(status.inFlight()).isZero();
                    assertThat(status.deadLettered()).isZero();
                })
                .expectComplete().verify(Duration.ofSeconds(30));
    }

    @Test
    void aGracefulStopFinishesAndAcksWhatIsInFlight() {
        List<Event> events = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            events.add(event("job", Integer.toString(i)));
        }
        StepVerifier.create(client.publishBatch("jobs.stop", events)).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        AtomicInteger started = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        SwitchboardConsumer consumer = client.consume("jobs.stop", "workers", event -> Mono.defer(() -> {
                    started.incrementAndGet();
                    return Mono.delay(Duration.ofMillis(300)).then(Mono.fromRunnable(finished::incrementAndGet));
                }),
                ConsumerOptions.defaults().withMaxBatch(10).withConcurrency(5).withPollWait(Duration.ofSeconds(1)));
        await().atMost(Duration.ofSeconds(20)).until(() -> started.get() > 0);
        StepVerifier.create(consumer.stop()).expectComplete().verify(Duration.ofSeconds(30));

        assertThat(consumer.isDisposed()).isTrue();
        assertThat(finished.get()).as("every handler that started finished").isEqualTo(started.get());
        assertThat(started.get()).as("the batch in progress, and nothing after the stop").isEqualTo(10);
        assertThat(consumer.ackedCount()).isEqualTo(10);
        StepVerifier.create(client.groupStatus("jobs.stop", "workers"))
                .assertNext(status -> {
                    assertThat(status.inFlight()).as("nothing left leased").isZero();
                    assertThat(status.committed()).isEqualTo(10);
                    assertThat(status.lag()).isEqualTo(10);
                })
                .expectComplete().verify(Duration.ofSeconds(30));
    }

    @Test
    void orderedByKeyRunsTheEventsOfAKeyOneAfterTheOtherAndTheKeysInParallel() {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            events.add(Event.builder().type("job").partitionKey("k" + (i % 3)).data(RawJson.parse(Integer.toString(i))).build());
        }
        StepVerifier.create(client.publishBatch("jobs.keyed", events)).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        Map<String, List<Long>> seen = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> runningOfKey = new ConcurrentHashMap<>();
        AtomicInteger mostOfOneKey = new AtomicInteger();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        SwitchboardConsumer consumer = client.consume("jobs.keyed", "workers", event -> Mono.defer(() -> {
                    AtomicInteger ofKey = runningOfKey.computeIfAbsent(event.partitionKey(), k -> new AtomicInteger());
                    mostOfOneKey.accumulateAndGet(ofKey.incrementAndGet(), Math::max);
                    mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                    return Mono.delay(Duration.ofMillis(30)).then(Mono.fromRunnable(() -> {
                        seen.computeIfAbsent(event.partitionKey(), k -> new CopyOnWriteArrayList<>()).add(event.seq());
                        ofKey.decrementAndGet();
                        running.decrementAndGet();
                    }));
                }),
                ConsumerOptions.defaults().withOrderedByKey(true).withConsumerName("worker-1").withMaxBatch(30)
                        .withConcurrency(4).withPollWait(Duration.ofSeconds(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> consumer.ackedCount() == 30);
        StepVerifier.create(consumer.stop()).expectComplete().verify(Duration.ofSeconds(30));

        assertThat(seen).containsOnlyKeys("k0", "k1", "k2");
        seen.values().forEach(seqs -> assertThat(seqs).hasSize(10).isSorted());
        assertThat(mostOfOneKey.get()).as("never two events of one key at once").isEqualTo(1);
        assertThat(mostAtOnce.get()).as("keys in parallel").isGreaterThanOrEqualTo(2);
        StepVerifier.create(client.groupStatus("jobs.keyed", "workers"))
                .assertNext(status -> {
                    assertThat(status.orderedByKey()).isTrue();
                    assertThat(status.committed()).isEqualTo(30);
                })
                .expectComplete().verify(Duration.ofSeconds(30));
    }

    @Test
    void fromLatestSkipsWhatWasPublishedBeforeTheGroupExisted() {
        StepVerifier.create(client.publishBatch("jobs.latest", List.of(event("job", "1"), event("job", "2"))))
                .expectNextCount(1).expectComplete().verify(Duration.ofSeconds(30));
        List<Long> seen = new CopyOnWriteArrayList<>();
        SwitchboardConsumer consumer = client.consume("jobs.latest", "late", event -> Mono.fromRunnable(() -> seen.add(event.seq())),
                ConsumerOptions.defaults().withFrom("latest").withPollWait(Duration.ofSeconds(1)));
        // The group exists once its first poll went through.
        await().atMost(Duration.ofSeconds(20)).until(() -> client.groupStatus("jobs.latest", "late")
                .map(status -> true).onErrorResume(e -> Mono.just(false)).block(Duration.ofSeconds(10)));
        StepVerifier.create(client.publish("jobs.latest", event("job", "3"))).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(20)).until(() -> consumer.ackedCount() == 1);
        StepVerifier.create(consumer.stop()).expectComplete().verify(Duration.ofSeconds(30));
        assertThat(seen).containsExactly(3L);
    }

    @Test
    void aHandlerStillRunningAtTheAckDeadlineIsCancelledAndItsEventComesBack() {
        StepVerifier.create(client.publish("jobs.stuck", event("job", "1"))).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        AtomicInteger cancelled = new AtomicInteger();
        SwitchboardConsumer consumer = client.consume("jobs.stuck", "workers", event -> {
                    attempts.add(SwitchboardConsumer.attempt(event));
                    return SwitchboardConsumer.attempt(event) == 1 ? Mono.<Void>never().doOnCancel(cancelled::incrementAndGet)
                            : Mono.empty();
                },
                ConsumerOptions.defaults().withAckDeadline(Duration.ofSeconds(1)).withPollWait(Duration.ofSeconds(1))
                        .withNackDelay(Duration.ofMillis(100), Duration.ofSeconds(1)));
        await().atMost(Duration.ofSeconds(20)).until(() -> consumer.ackedCount() == 1);
        StepVerifier.create(consumer.stop()).expectComplete().verify(Duration.ofSeconds(30));
        assertThat(attempts).containsExactly(1, 2);
        assertThat(cancelled.get()).isEqualTo(1);
    }

    @Test
    void aRefusedPollEndsTheConsumerWithTheProblem() {
        try (SwitchboardClient publishOnly = SwitchboardClient.builder(platform.gatewayUrl())
                .apiKey(platform.createKey(TENANT, "publish")).build()) {
            SwitchboardConsumer consumer = publishOnly.consume("jobs.denied", "workers", event -> Mono.empty(),
                    ConsumerOptions.defaults().withPollWait(Duration.ZERO));
            StepVerifier.create(consumer.done())
                    .expectErrorSatisfies(error -> assertThat(((SwitchboardException) error).code()).isEqualTo("forbidden"))
                    .verify(Duration.ofSeconds(30));
            assertThat(consumer.isDisposed()).isTrue();
        }
    }
}
