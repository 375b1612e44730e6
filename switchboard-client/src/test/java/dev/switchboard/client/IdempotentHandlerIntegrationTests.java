package dev.switchboard.client;

import dev.switchboard.contracts.envelope.Event;
import dev.switchboard.contracts.envelope.RawJson;
import dev.switchboard.platform.database.PostgresUri;
import dev.switchboard.testsupport.TestDatabase;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The idempotent-consumer helper against the real platform and a real PostgreSQL database of the
 * consumer's own: a redelivered event has no second effect, and the handler's write and the
 * helper's mark commit or roll back together.
 */
class IdempotentHandlerIntegrationTests {

    static final String TENANT = "clientidem";
    static TestPlatform platform;
    static SwitchboardClient client;
    static ConnectionFactory connections;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start();
        platform.createTenant(TENANT, 100_000, 100_000);
        platform.declareTopic(TENANT, "payments", Map.of("maxAttempts", 5));
        client = SwitchboardClient.builder(platform.gatewayUrl()).apiKey(platform.createKey(TENANT, "publish", "subscribe"))
                .build();
        PostgresUri own = TestDatabase.get().createDatabase("clientown");
        PostgresqlConnectionConfiguration.Builder config = PostgresqlConnectionConfiguration.builder()
                .host(own.host()).port(own.port()).database(own.database()).username(own.user());
        if (!own.password().isEmpty()) {
            config.password(own.password());
        }
        connections = new PostgresqlConnectionFactory(config.build());
        StepVerifier.create(IdempotentHandler.createTableIfMissing(connections)
                        .then(IdempotentHandler.createTableIfMissing(connections))
                        .then(execute("CREATE TABLE account (id text PRIMARY KEY, balance bigint NOT NULL)"))
                        .then(execute("INSERT INTO account VALUES ('a', 0), ('b', 0)")))
                .expectComplete().verify(Duration.ofSeconds(30));
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

    static Mono<Void> execute(String sql) {
        return Mono.usingWhen(Mono.from(connections.create()),
                c -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.getRowsUpdated()).then(),
                Connection::close);
    }

    static Mono<Long> queryLong(String sql) {
        return Mono.usingWhen(Mono.from(connections.create()),
                c -> Flux.from(c.createStatement(sql).execute())
                        .flatMap(r -> r.map((row, meta) -> row.get(0, Long.class))).next(),
                Connection::close);
    }

    /** The handler's own, non-idempotent write: add the event's amount to the balance. */
    static Mono<Void> credit(Event event, Connection connection) {
        return Flux.from(connection.createStatement("UPDATE account SET balance = balance + $1 WHERE id = 'a'")
                        .bind("$1", Long.parseLong(event.data().toString()))
                        .execute())
                .flatMap(r -> r.getRowsUpdated())
                .then();
    }

    static Event payment(String causation, long amount) {
        return Event.builder().type("payment").causationId(causation).data(RawJson.parse(Long.toString(amount))).build();
    }

    @Test
    void aRedeliveredEventIsAppliedOnceAndAFailedHandlerRollsBackItsWriteWithTheMark() {
        StepVerifier.create(client.publishBatch("payments", List.of(payment("order-1", 10), payment("order-2", 100),
                        payment("order-3", 1000), payment("order-4", 10000))))
                .expectNextCount(1).expectComplete().verify(Duration.ofSeconds(30));

        // order-4's handler writes, then fails on its first attempt: the write must roll back with the mark.
        AtomicBoolean failedOnce = new AtomicBoolean();
        List<String> ran = new CopyOnWriteArrayList<>();
        IdempotentHandler handler = IdempotentHandler.wrap(connections, (event, connection) -> {
            ran.add(event.causationId());
            Mono<Void> write = credit(event, connection);
            if (event.causationId().equals("order-4") && failedOnce.compareAndSet(false, true)) {
                return write.then(Mono.error(new IllegalStateException("downstream refused")));
            }
            return write;
        });
        ConsumerOptions options = ConsumerOptions.defaults().withPollWait(Duration.ofSeconds(1)).withConcurrency(1)
                .withNackDelay(Duration.ofMillis(200), Duration.ofSeconds(1));

        SwitchboardConsumer first = client.consume("payments", "ledger", handler, options);
        await().atMost(Duration.ofSeconds(20)).until(() -> first.ackedCount() == 4);
        StepVerifier.create(first.stop()).expectComplete().verify(Duration.ofSeconds(30));
        assertThat(first.nackedCount()).isEqualTo(1);
        assertThat(ran).containsExactly("order-1", "order-2", "order-3", "order-4", "order-4");
        StepVerifier.create(queryLong("SELECT balance FROM account WHERE id = 'a'"))
                .expectNext(11110L).expectComplete().verify(Duration.ofSeconds(30));

        // Replay the whole topic to the group: every event comes again, none has a second effect.
        StepVerifier.create(client.seek("payments", "ledger", 0, 0)).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(30));
        ran.clear();
        SwitchboardConsumer again = client.consume("payments", "ledger", handler, options);
        await().atMost(Duration.ofSeconds(20)).until(() -> again.ackedCount() == 4);
        StepVerifier.create(again.stop()).expectComplete().verify(Duration.ofSeconds(30));
        assertThat(again.handledCount()).as("redelivered, handled (skipped) and acked").isEqualTo(4);
        assertThat(ran).as("the user's handler never ran again").isEmpty();
        StepVerifier.create(queryLong("SELECT balance FROM account WHERE id = 'a'"))
                .expectNext(11110L).expectComplete().verify(Duration.ofSeconds(30));
        StepVerifier.create(queryLong("SELECT count(*) FROM switchboard_processed WHERE topic = 'payments' AND key_kind = 'causationid'"))
                .expectNext(4L).expectComplete().verify(Duration.ofSeconds(30));
    }

    @Test
    void aLaterSeqOfACausationRunsAnEarlierOneIsSkippedAndAnEventWithoutOneIsKeyedByItsId() {
        List<Long> applied = new CopyOnWriteArrayList<>();
        IdempotentHandler handler = IdempotentHandler.wrap(connections, (event, connection) -> {
            applied.add(event.seq());
            return Mono.empty();
        });
        Event first = Event.builder().id("x1").tenant(TENANT).topic("payments.direct").partition(0).seq(1L)
                .causationId("flow-9").type("payment").build();
        Event second = first.toBuilder().id("x2").seq(2L).build();
        Event own = Event.builder().id("no-cause").tenant(TENANT).topic("payments.direct").partition(0).seq(3L)
                .type("payment").build();
        StepVerifier.create(handler.process(first)).expectNext(true).expectComplete().verify(Duration.ofSeconds(30));
        StepVerifier.create(handler.process(second)).expectNext(true).expectComplete().verify(Duration.ofSeconds(30));
        StepVerifier.create(handler.process(first)).as("seq 1 ≤ 2, the highest for flow-9").expectNext(false)
                .expectComplete().verify(Duration.ofSeconds(30));
        StepVerifier.create(handler.process(own)).expectNext(true).expectComplete().verify(Duration.ofSeconds(30));
        StepVerifier.create(handler.process(own)).expectNext(false).expectComplete().verify(Duration.ofSeconds(30));
        assertThat(applied).containsExactly(1L, 2L, 3L);
    }

    @Test
    void twoDeliveriesOfOneEventAtOnceApplyItOnce() {
        AtomicInteger ran = new AtomicInteger();
        IdempotentHandler handler = IdempotentHandler.wrap(connections, (event, connection) -> {
            ran.incrementAndGet();
            // Hold the transaction open so that the other delivery meets the row lock, not a committed row.
            return Mono.delay(Duration.ofMillis(300)).then(Flux.from(connection
                    .createStatement("UPDATE account SET balance = balance + 5 WHERE id = 'b'").execute())
                    .flatMap(r -> r.getRowsUpdated()).then());
        });
        Event delivered = Event.builder().id("dup-1").tenant(TENANT).topic("payments.twice").partition(0).seq(7L)
                .causationId("order-77").type("payment").build();
        StepVerifier.create(queryLong("SELECT balance FROM account WHERE id = 'b'")
                        .flatMap(before -> Mono.zip(handler.process(delivered), handler.process(delivered))
                                .flatMap(both -> queryLong("SELECT balance FROM account WHERE id = 'b'")
                                        .map(after -> List.of(both.getT1() ^ both.getT2(), after - before)))))
                .expectNext(List.of(true, 5L))
                .expectComplete().verify(Duration.ofSeconds(30));
        assertThat(ran.get()).isEqualTo(1);
    }
}
