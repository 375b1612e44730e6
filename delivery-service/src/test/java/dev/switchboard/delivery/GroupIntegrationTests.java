package dev.switchboard.delivery;

import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.delivery.group.GroupGauges;
import dev.switchboard.testsupport.TestDatabase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Consumer groups through delivery's internal HTTP API, on real PostgreSQL. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=" + DeliveryApplication.CONFIG_NAME,
                "switchboard.delivery.service-token=test-service-token",
                "switchboard.registry-client.service-token=test-service-token",
                "switchboard.delivery.retention-interval=PT1H"})
@Import(DeliveryTestConfiguration.class)
class GroupIntegrationTests {

    static final String TOKEN = "Bearer test-service-token";
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, "delivery");
    }

    @Autowired
    InMemoryRegistry registry;

    @Autowired
    MeterRegistry meters;

    @Autowired
    GroupGauges gauges;

    @Autowired
    dev.switchboard.delivery.retention.RetentionJob retention;

    @LocalServerPort
    int port;

    /** An HTTP answer: status and JSON body. */
    record Answer(int status, JsonNode body) {
        List<Long> seqs() {
            List<Long> seqs = new ArrayList<>();
            body.get("events").forEach(e -> seqs.add(e.get("seq").asLong()));
            return seqs;
        }

        List<Integer> attempts() {
            List<Integer> attempts = new ArrayList<>();
            body.get("events").forEach(e -> attempts.add(e.get("attempt").asInt()));
            return attempts;
        }
    }

    private static final class Api {
        final WebClient client;

        Api(int port) {
            client = WebClient.builder().baseUrl("http://127.0.0.1:" + port)
                    .defaultHeader("Authorization", TOKEN)
                    .clientConnector(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.create("groups" + port, 32))))
                    .build();
        }

        Mono<Answer> call(String method, String path, String body) {
            WebClient.RequestBodySpec spec = client.method(org.springframework.http.HttpMethod.valueOf(method)).uri(path);
            WebClient.RequestHeadersSpec<?> request = body == null ? spec : spec.contentType(MediaType.APPLICATION_JSON).bodyValue(body);
            return request.exchangeToMono(r -> r.bodyToMono(String.class).defaultIfEmpty("{}")
                    .map(text -> new Answer(r.statusCode().value(), JSON.readTree(text))));
        }

        Mono<Long> publish(String topic, String body) {
            return call("POST", "/internal/v1/tenants/acme/topics/" + topic + "/events", body).map(a -> {
                assertThat(a.status()).as(a.body().toString()).isIn(200, 201);
                return a.body().get("seq").asLong();
            });
        }

        Mono<Answer> group(String topic, String group, String op, String body) {
            return call("POST", "/internal/v1/tenants/acme/topics/" + topic + "/groups/" + group + "/" + op, body);
        }

        Mono<Answer> poll(String topic, String group, String body) {
            return group(topic, group, "poll", body).doOnNext(a -> assertThat(a.status()).as(a.body().toString()).isEqualTo(200));
        }

        Mono<Answer> status(String topic, String group) {
            return call("GET", "/internal/v1/tenants/acme/topics/" + topic + "/groups/" + group, null);
        }
    }

    private Api api() {
        return new Api(port);
    }

    private static <T> T await(Mono<T> mono) {
        return mono.block(TIMEOUT);
    }

    private void declare(String topic, int partitions, int maxAttempts) {
        registry.declare("acme", topic, settings(partitions, maxAttempts));
    }

    private static TopicSettings settings(int partitions, int maxAttempts) {
        TopicSettings d = TopicSettings.defaults();
        return new TopicSettings(partitions, d.retention(), d.dedupWindow(), d.defaultTtl(), d.maxPayloadBytes(),
                d.schemaVersions(), d.maxLag(), d.lagPolicy(), maxAttempts, new TopicSettings.PublishRate(100_000, 100_000));
    }

    private static void publishN(Api api, String topic, int n) {
        for (int i = 0; i < n; i++) {
            await(api.publish(topic, "{\"type\":\"t\",\"data\":{\"i\":" + i + "}}"));
        }
    }

    private static String seqsJson(List<Long> seqs) {
        return "{\"seqs\":" + seqs + "}";
    }

    @Test
    void pollLeasesInOrderAndAckAdvancesCommittedOverTheAckedPrefix() {
        declare("basics", 1, 5);
        Api api = api();
        publishN(api, "basics", 5);

        Answer first = await(api.poll("basics", "g", "{\"max\":3}"));
        assertThat(first.seqs()).containsExactly(1L, 2L, 3L);
        assertThat(first.attempts()).containsExactly(1, 1, 1);
        assertThat(first.body().get("events").get(0).get("type").asString()).isEqualTo("t");
        assertThat(first.body().get("events").get(0).get("data").get("i").asInt()).isZero();

        Answer status = await(api.status("basics", "g"));
        assertThat(status.status()).isEqualTo(200);
        assertThat(status.body().get("committed").asLong()).isZero();
        assertThat(status.body().get("head").asLong()).isEqualTo(5);
        assertThat(status.body().get("lag").asLong()).isEqualTo(5);
        assertThat(status.body().get("inFlight").asLong()).isEqualTo(3);

        // Acking 1 and 3 commits 1 only: 2 is still out.
        Answer ack = await(api.group("basics", "g", "ack", seqsJson(List.of(1L, 3L))));
        assertThat(ack.status()).isEqualTo(200);
        assertThat(ack.body().get("acked").toString()).isEqualTo("[1,3]");
        assertThat(await(api.status("basics", "g")).body().get("committed").asLong()).isEqualTo(1);
        // Acking again, or a seq never delivered, is ignored and said so.
        Answer again = await(api.group("basics", "g", "ack", seqsJson(List.of(3L, 5L, 99L))));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body().get("acked").toString()).isEqualTo("[]");
        assertThat(again.body().get("ignored").toString()).isEqualTo("[3,5,99]");

        Answer second = await(api.poll("basics", "g", "{\"max\":10}"));
        assertThat(second.seqs()).containsExactly(4L, 5L);
        await(api.group("basics", "g", "ack", seqsJson(List.of(2L, 4L, 5L))));
        JsonNode done = await(api.status("basics", "g")).body();
        assertThat(done.get("committed").asLong()).isEqualTo(5);
        assertThat(done.get("lag").asLong()).isZero();
        assertThat(done.get("inFlight").asLong()).isZero();
        assertThat(await(api.poll("basics", "g", "{}")).seqs()).isEmpty();
        assertThat(meters.get("switchboard.delivery.groups.poll").tags("tenant", "acme", "outcome", "events").timer().count()).isPositive();
        assertThat(meters.get("switchboard.delivery.groups.poll").tags("tenant", "acme", "outcome", "empty").timer().count()).isPositive();

        // Another group of the same topic has its own offsets: it starts at the oldest event.
        assertThat(await(api.poll("basics", "other", "{\"max\":2}")).seqs()).containsExactly(1L, 2L);
        Answer list = await(api.call("GET", "/internal/v1/tenants/acme/topics/basics/groups", null));
        assertThat(list.body().get("groups").findValuesAsString("group")).containsExactly("g", "other");
        assertThat(await(api.call("DELETE", "/internal/v1/tenants/acme/topics/basics/groups/other", null)).status()).isEqualTo(204);
        assertThat(await(api.status("basics", "other")).status()).isEqualTo(404);
        assertThat(await(api.call("DELETE", "/internal/v1/tenants/acme/topics/basics/groups/other", null)).status()).isEqualTo(404);
        // Made again, it starts afresh: nothing of the deleted group's leases is left.
        Answer afresh = await(api.poll("basics", "other", "{\"max\":2}"));
        assertThat(afresh.seqs()).containsExactly(1L, 2L);
        assertThat(afresh.attempts()).containsExactly(1, 1);
        assertThat(await(api.status("basics", "other")).body().get("inFlight").asLong()).isEqualTo(2);
    }

    @Test
    void expiredEventsAreSkippedNotDelivered() {
        declare("ttl-group", 1, 5);
        Api api = api();
        await(api.publish("ttl-group", "{\"type\":\"short\",\"ttl\":1,\"data\":1}"));
        await(api.publish("ttl-group", "{\"type\":\"long\",\"data\":2}"));
        Mono.delay(Duration.ofMillis(1300)).block();
        Answer polled = await(api.poll("ttl-group", "g", "{\"max\":10}"));
        assertThat(polled.seqs()).containsExactly(2L);
        await(api.group("ttl-group", "g", "ack", seqsJson(List.of(2L))));
        assertThat(await(api.status("ttl-group", "g")).body().get("committed").asLong()).isEqualTo(2);
    }

    @Test
    void aConsumerThatDiesMidBatchHasItsEventsRedeliveredAfterTheDeadlineWithAttempt2() {
        declare("crash", 1, 5);
        Api api = api();
        publishN(api, "crash", 10);
        double redeliveriesBefore = counter("switchboard.delivery.groups.redeliveries");

        // The first consumer takes the batch and dies without acking.
        Answer taken = await(api.poll("crash", "workers", "{\"max\":10,\"ackDeadlineMs\":2000,\"consumer\":\"dies\"}"));
        assertThat(taken.seqs()).hasSize(10);
        // Until the deadline nobody else gets them.
        assertThat(await(api.poll("crash", "workers", "{\"max\":10,\"consumer\":\"survivor\"}")).seqs()).isEmpty();
        StepVerifier.create(gauges.refresh()).expectComplete().verify(TIMEOUT);
        assertThat(meters.get("switchboard.delivery.groups.in.flight").tags("tenant", "acme").gauge().value()).isGreaterThanOrEqualTo(10);

        // The survivor long-polls; the leases expire and it gets all ten, attempt 2.
        Answer redelivered = await(api.poll("crash", "workers", "{\"max\":10,\"waitMs\":10000,\"ackDeadlineMs\":30000,\"consumer\":\"survivor\"}"));
        assertThat(redelivered.seqs()).containsExactlyElementsOf(taken.seqs());
        assertThat(redelivered.attempts()).containsOnly(2);
        assertThat(counter("switchboard.delivery.groups.redeliveries")).isEqualTo(redeliveriesBefore + 10);

        Answer ack = await(api.group("crash", "workers", "ack", seqsJson(redelivered.seqs())));
        assertThat(ack.body().get("acked")).hasSize(10);
        JsonNode status = await(api.status("crash", "workers")).body();
        assertThat(status.get("committed").asLong()).isEqualTo(10);
        assertThat(status.get("inFlight").asLong()).isZero();
    }

    @Test
    void aNackedEventComesBackAfterItsDelay() {
        declare("nacked", 1, 5);
        Api api = api();
        publishN(api, "nacked", 1);
        assertThat(await(api.poll("nacked", "g", "{}")).seqs()).containsExactly(1L);
        long nackedAt = System.nanoTime();
        Answer nack = await(api.group("nacked", "g", "nack", "{\"seqs\":[1,7],\"delayMs\":2000,\"reason\":\"db down\"}"));
        assertThat(nack.status()).isEqualTo(200);
        assertThat(nack.body().get("nacked").toString()).isEqualTo("[1]");
        assertThat(nack.body().get("ignored").toString()).isEqualTo("[7]");
        assertThat(await(api.poll("nacked", "g", "{}")).seqs()).isEmpty();
        assertThat(await(api.status("nacked", "g")).body().get("inFlight").asLong()).isZero();

        Answer back = await(api.poll("nacked", "g", "{\"waitMs\":8000}"));
        assertThat(Duration.ofNanos(System.nanoTime() - nackedAt)).isGreaterThanOrEqualTo(Duration.ofMillis(2000));
        assertThat(back.seqs()).containsExactly(1L);
        assertThat(back.attempts()).containsExactly(2);
    }

    @Test
    void afterMaxAttemptsAnEventGoesToTheDeadLetterTopicWithItsReasonAndTheGroupMovesOn() {
        declare("payments", 1, 2);
        Api api = api();
        await(api.publish("payments", "{\"id\":\"pay-1\",\"type\":\"payment\",\"partitionkey\":\"u1\",\"data\":{\"amount\":5}}"));
        await(api.publish("payments", "{\"id\":\"pay-2\",\"type\":\"payment\",\"data\":{\"amount\":6}}"));
        await(api.publish("payments", "{\"id\":\"pay-3\",\"type\":\"payment\",\"data\":{\"amount\":7}}"));
        double deadBefore = counter("switchboard.delivery.groups.dead.letters");

        assertThat(await(api.poll("payments", "billing", "{\"max\":2}")).seqs()).containsExactly(1L, 2L);
        await(api.group("payments", "billing", "ack", seqsJson(List.of(2L))));
        await(api.group("payments", "billing", "nack", "{\"seqs\":[1],\"reason\":\"card declined\"}"));
        Answer second = await(api.poll("payments", "billing", "{\"max\":1}"));
        assertThat(second.seqs()).containsExactly(1L);
        assertThat(second.attempts()).containsExactly(2);
        Answer last = await(api.group("payments", "billing", "nack", "{\"seqs\":[1],\"reason\":\"card declined again\"}"));
        assertThat(last.body().get("deadLettered").asInt()).isEqualTo(1);

        // Event 3: its leases expire twice, then the next poll dead-letters it.
        assertThat(await(api.poll("payments", "billing", "{\"max\":5,\"ackDeadlineMs\":300}")).seqs()).containsExactly(3L);
        Answer retry = await(api.poll("payments", "billing", "{\"max\":5,\"ackDeadlineMs\":300,\"waitMs\":3000}"));
        assertThat(retry.seqs()).containsExactly(3L);
        assertThat(retry.attempts()).containsExactly(2);
        Mono.delay(Duration.ofMillis(400)).block();
        assertThat(await(api.poll("payments", "billing", "{\"max\":5}")).seqs()).isEmpty();

        JsonNode status = await(api.status("payments", "billing")).body();
        assertThat(status.get("deadLettered").asLong()).isEqualTo(2);
        assertThat(status.get("committed").asLong()).isEqualTo(3);
        assertThat(status.get("inFlight").asLong()).isZero();
        assertThat(counter("switchboard.delivery.groups.dead.letters")).isEqualTo(deadBefore + 2);

        // The dead-letter topic is read like any other topic, through the normal history read.
        Answer dlq = await(api.call("GET", "/internal/v1/tenants/acme/topics/payments.dlq/events?after=0", null));
        assertThat(dlq.status()).as(dlq.body().toString()).isEqualTo(200);
        JsonNode letters = dlq.body().get("events");
        assertThat(letters).hasSize(2);
        JsonNode one = letters.get(0);
        assertThat(one.get("topic").asString()).isEqualTo("payments.dlq");
        assertThat(one.get("type").asString()).isEqualTo("payment");
        assertThat(one.get("data").get("amount").asInt()).isEqualTo(5);
        assertThat(one.get("partitionkey").asString()).isEqualTo("u1");
        assertThat(one.get("deadlettertopic").asString()).isEqualTo("payments");
        assertThat(one.get("deadletterseq").asString()).isEqualTo("1");
        assertThat(one.get("deadletterpartition").asInt()).isZero();
        assertThat(one.get("deadletterid").asString()).isEqualTo("pay-1");
        assertThat(one.get("deadlettergroup").asString()).isEqualTo("billing");
        assertThat(one.get("deadletterattempts").asInt()).isEqualTo(2);
        assertThat(one.get("deadletterreason").asString()).isEqualTo("card declined again");
        JsonNode three = letters.get(1);
        assertThat(three.get("deadletterseq").asString()).isEqualTo("3");
        assertThat(three.get("deadletterreason").asString()).isEqualTo("ack deadline expired");
        // A group can consume the dead-letter topic too.
        assertThat(await(api.poll("payments.dlq", "inspect", "{\"max\":5}")).seqs()).containsExactly(1L, 2L);
        // A topic with no parent declared is still unknown.
        assertThat(await(api.call("GET", "/internal/v1/tenants/acme/topics/nothing.dlq/events?after=0", null)).status()).isEqualTo(404);
    }

    @Test
    void seekReplaysFromAnySeqAndMovesToTheHeadOrTheOldestEvent() {
        declare("replay", 1, 5);
        Api api = api();
        publishN(api, "replay", 5);
        Answer all = await(api.poll("replay", "g", "{\"max\":10}"));
        await(api.group("replay", "g", "ack", seqsJson(all.seqs())));

        Answer seek = await(api.group("replay", "g", "seek", "{\"after\":2}"));
        assertThat(seek.status()).isEqualTo(200);
        assertThat(seek.body().get("committed").asLong()).isEqualTo(2);
        Answer replayed = await(api.poll("replay", "g", "{\"max\":10}"));
        assertThat(replayed.seqs()).containsExactly(3L, 4L, 5L);
        assertThat(replayed.attempts()).containsOnly(1);
        // The old leases were dropped: acks of them now are ignored, the new ones count.
        await(api.group("replay", "g", "seek", "{\"to\":\"head\"}"));
        assertThat(await(api.group("replay", "g", "ack", seqsJson(List.of(3L)))).body().get("ignored").toString()).isEqualTo("[3]");
        assertThat(await(api.poll("replay", "g", "{}")).seqs()).isEmpty();
        assertThat(await(api.status("replay", "g")).body().get("lag").asLong()).isZero();

        await(api.group("replay", "g", "seek", "{\"to\":\"earliest\"}"));
        assertThat(await(api.poll("replay", "g", "{\"max\":10}")).seqs()).containsExactly(1L, 2L, 3L, 4L, 5L);

        assertThat(await(api.group("replay", "g", "seek", "{\"after\":6}")).status()).isEqualTo(400);
        assertThat(await(api.group("replay", "g", "seek", "{\"after\":1,\"to\":\"head\"}")).status()).isEqualTo(400);
        assertThat(await(api.group("replay", "nobody", "seek", "{\"after\":1}")).status()).isEqualTo(404);
    }

    @Test
    void aNewGroupStartsAtTheOldestEventUnlessItsFirstPollSaysLatest() {
        declare("starts", 1, 5);
        Api api = api();
        publishN(api, "starts", 3);
        assertThat(await(api.poll("starts", "late", "{\"from\":\"latest\"}")).seqs()).isEmpty();
        assertThat(await(api.status("starts", "late")).body().get("committed").asLong()).isEqualTo(3);
        await(api.publish("starts", "{\"type\":\"t\",\"data\":4}"));
        // "from" matters only on the first poll: later ones continue where the group is.
        assertThat(await(api.poll("starts", "late", "{\"from\":\"earliest\",\"max\":10}")).seqs()).containsExactly(4L);
        assertThat(await(api.poll("starts", "early", "{\"max\":10}")).seqs()).containsExactly(1L, 2L, 3L, 4L);
        // A group on a topic with no events yet, from latest, gets the first event.
        declare("starts-empty", 1, 5);
        assertThat(await(api.poll("starts-empty", "late", "{\"from\":\"latest\"}")).seqs()).isEmpty();
        await(api.publish("starts-empty", "{\"type\":\"t\",\"data\":1}"));
        assertThat(await(api.poll("starts-empty", "late", "{}")).seqs()).containsExactly(1L);
    }

    @Test
    void aLongPollReturnsAsSoonAsAnEventIsPublished() {
        declare("waiting", 1, 5);
        Api api = api();
        await(api.poll("waiting", "g", "{}"));
        long started = System.nanoTime();
        Mono<Answer> poll = api.poll("waiting", "g", "{\"waitMs\":20000}");
        Mono<Long> publish = Mono.delay(Duration.ofMillis(700)).then(api.publish("waiting", "{\"type\":\"t\",\"data\":1}"));
        StepVerifier.create(Mono.zip(poll, publish))
                .assertNext(t -> {
                    assertThat(t.getT1().seqs()).containsExactly(1L);
                    Duration took = Duration.ofNanos(System.nanoTime() - started);
                    assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(700)).isLessThan(Duration.ofSeconds(5));
                })
                .expectComplete()
                .verify(TIMEOUT);
        // With nothing published, it waits its waitMs and answers nothing.
        long quiet = System.nanoTime();
        assertThat(await(api.poll("waiting", "g", "{\"waitMs\":800}")).seqs()).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - quiet)).isGreaterThanOrEqualTo(Duration.ofMillis(800));
    }

    @Test
    void maxInFlightBoundsEachConsumer() {
        declare("bounded", 1, 5);
        Api api = api();
        publishN(api, "bounded", 6);
        Answer a = await(api.poll("bounded", "g", "{\"max\":10,\"consumer\":\"a\",\"maxInFlight\":2}"));
        assertThat(a.seqs()).containsExactly(1L, 2L);
        assertThat(await(api.poll("bounded", "g", "{\"max\":10,\"consumer\":\"a\",\"maxInFlight\":2}")).seqs()).isEmpty();
        assertThat(await(api.poll("bounded", "g", "{\"max\":10,\"consumer\":\"b\",\"maxInFlight\":3}")).seqs()).containsExactly(3L, 4L, 5L);
        await(api.group("bounded", "g", "ack", seqsJson(List.of(1L))));
        assertThat(await(api.poll("bounded", "g", "{\"max\":10,\"consumer\":\"a\",\"maxInFlight\":2}")).seqs()).containsExactly(6L);
    }

    @Test
    void badRequestsAre400ProblemsThatChangeNothingAndUnknownTopicsOrGroups404() {
        declare("strict", 1, 5);
        Api api = api();
        publishN(api, "strict", 1);
        for (String body : List.of("{\"max\":0}", "{\"max\":1001}", "{\"waitMs\":60000}", "{\"ackDeadlineMs\":5}",
                "{\"from\":\"middle\"}", "{\"maxInFlight\":3}", "{\"consumer\":\"has space\"}", "not json",
                "{\"waitMS\":10000}")) {
            Answer a = await(api.group("strict", "g", "poll", body));
            assertThat(a.status()).as(body).isEqualTo(400);
            assertThat(a.body().get("code").asString()).as(body).isEqualTo("invalid_request");
        }
        // A misspelt field is refused, not ignored: the poll would otherwise not wait at all.
        assertThat(await(api.group("strict", "g", "poll", "{\"waitMS\":10000}")).body().get("detail").asString())
                .contains("waitMS", "waitMs");
        assertThat(await(api.group("strict", "Bad_Name", "poll", "{}")).status()).isEqualTo(400);
        // None of them created the group.
        assertThat(await(api.status("strict", "g")).status()).isEqualTo(404);
        assertThat(await(api.status("strict", "g")).body().get("code").asString()).isEqualTo("not_found");
        assertThat(await(api.group("strict", "g", "ack", seqsJson(List.of(1L)))).status()).isEqualTo(404);

        await(api.poll("strict", "g", "{}"));
        for (String body : List.of("{\"seqs\":[]}", "{}", "{\"seqs\":[-1]}", "{\"seqs\":[1],\"partition\":3}",
                "{\"seq\":[1]}", "{\"seqs\":[1],\"partitions\":0}")) {
            assertThat(await(api.group("strict", "g", "ack", body)).status()).as(body).isEqualTo(400);
        }
        assertThat(await(api.group("strict", "g", "nack", "{\"seqs\":[1],\"delayMs\":-1}")).status()).isEqualTo(400);
        assertThat(await(api.group("strict", "g", "nack", "{\"seqs\":[1],\"delay\":5000}")).status()).isEqualTo(400);
        assertThat(await(api.group("strict", "g", "seek", "{\"after\":0,\"whence\":1}")).status()).isEqualTo(400);
        assertThat(await(api.status("strict", "g")).body().get("inFlight").asLong()).isEqualTo(1);

        Answer unknown = await(api.group("undeclared", "g", "poll", "{}"));
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body().get("code").asString()).isEqualTo("topic_not_found");
        // The order mode is fixed when the group is created.
        Answer conflict = await(api.group("strict", "g", "poll", "{\"orderedByKey\":true}"));
        assertThat(conflict.status()).isEqualTo(409);
        assertThat(conflict.body().get("code").asString()).isEqualTo("conflict");
        Answer unauthenticated = await(api.client.get().uri("/internal/v1/tenants/acme/topics/strict/groups/g")
                .headers(h -> h.setBearerAuth("wrong"))
                .exchangeToMono(r -> Mono.just(new Answer(r.statusCode().value(), null))));
        assertThat(unauthenticated.status()).isEqualTo(401);
    }

    @Test
    void threeConcurrentConsumersShareTheWorkWithNoEventLeasedToTwoAtOnceAndEveryEventAckedOnce() {
        declare("shared-work", 1, 5);
        Api api = api();
        int total = 300;
        Map<Long, String> holder = new ConcurrentHashMap<>();
        Map<Long, AtomicInteger> acks = new ConcurrentHashMap<>();
        List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger acked = new AtomicInteger();

        Flux<Long> producers = Flux.range(0, total)
                .flatMap(i -> api.publish("shared-work", "{\"type\":\"t\",\"data\":" + i + "}"), 4);
        Flux<Integer> consumers = Flux.range(0, 3).flatMap(c -> consumer(api, "c" + c, holder, acks, violations, acked, total));
        StepVerifier.create(Flux.merge(producers.then(Mono.<Integer>empty()), consumers).then())
                .expectComplete()
                .verify(Duration.ofSeconds(120));

        assertThat(violations).isEmpty();
        assertThat(acks).hasSize(total);
        assertThat(acks.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
        JsonNode status = await(api.status("shared-work", "workers")).body();
        assertThat(status.get("committed").asLong()).isEqualTo(total);
        assertThat(status.get("inFlight").asLong()).isZero();
    }

    @Test
    void consumersSlowerThanTheirDeadlineRaceRedeliveriesWithoutLosingAnEventOrFailingARequest() {
        declare("racing", 1, 100);
        Api api = api();
        int total = 150;
        Flux.range(0, total).concatMap(i -> api.publish("racing", "{\"type\":\"t\",\"data\":" + i + "}")).blockLast(TIMEOUT);
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        AtomicInteger redelivered = new AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Flux<Integer> consumers = Flux.range(0, 3).flatMap(c -> Mono.defer(() -> api.group("racing", "slow",
                                "poll", "{\"max\":5,\"waitMs\":200,\"ackDeadlineMs\":300}"))
                .flatMap(batch -> {
                    if (batch.status() != 200) {
                        failures.add("poll " + batch.status() + " " + batch.body());
                        return Mono.just(0);
                    }
                    List<Long> seqs = batch.seqs();
                    batch.attempts().forEach(a -> {
                        if (a > 1) {
                            redelivered.incrementAndGet();
                        }
                    });
                    if (seqs.isEmpty()) {
                        return Mono.just(0);
                    }
                    // Every other batch takes longer than its deadline: its events go to another consumer meanwhile.
                    long work = seqs.get(0) % 2 == 0 ? 450 : 20;
                    return Mono.delay(Duration.ofMillis(work))
                            .then(api.group("racing", "slow", "ack", seqsJson(seqs)))
                            .map(ack -> {
                                if (ack.status() != 200) {
                                    failures.add("ack " + ack.status() + " " + ack.body());
                                } else {
                                    ack.body().get("acked").forEach(n -> acked.add(n.asLong()));
                                }
                                return seqs.size();
                            });
                })
                .repeat(() -> acked.size() < total && failures.isEmpty())
                .timeout(Duration.ofSeconds(100)));
        StepVerifier.create(consumers.then()).expectComplete().verify(Duration.ofSeconds(120));

        assertThat(failures).isEmpty();
        assertThat(acked).hasSize(total);
        assertThat(redelivered.get()).as("events delivered again after a missed deadline").isPositive();
        JsonNode status = await(api.status("racing", "slow")).body();
        assertThat(status.get("committed").asLong()).isEqualTo(total);
        assertThat(status.get("inFlight").asLong()).isZero();
    }

    /** Polls, "processes" (holds the lease a moment), acks; until the group has acked {@code total}. */
    private static Flux<Integer> consumer(Api api, String name, Map<Long, String> holder, Map<Long, AtomicInteger> acks,
                                          List<String> violations, AtomicInteger acked, int total) {
        return Mono.defer(() -> api.poll("shared-work", "workers",
                                "{\"max\":7,\"waitMs\":300,\"ackDeadlineMs\":60000,\"consumer\":\"" + name + "\"}"))
                .flatMap(batch -> {
                    List<Long> seqs = batch.seqs();
                    for (Long s : seqs) {
                        String other = holder.putIfAbsent(s, name);
                        if (other != null) {
                            violations.add("seq " + s + " leased to " + name + " while " + other + " held it");
                        }
                    }
                    if (seqs.isEmpty()) {
                        return Mono.just(0);
                    }
                    return Mono.delay(Duration.ofMillis(5))
                            .then(api.group("shared-work", "workers", "ack", seqsJson(seqs)))
                            .map(ack -> {
                                ack.body().get("acked").forEach(n -> acks.computeIfAbsent(n.asLong(), k -> new AtomicInteger()).incrementAndGet());
                                acked.addAndGet(ack.body().get("acked").size());
                                if (ack.body().get("ignored").size() > 0) {
                                    violations.add(name + " had acks ignored: " + ack.body().get("ignored"));
                                }
                                return seqs.size();
                            });
                })
                .repeat(() -> acked.get() < total)
                .timeout(Duration.ofSeconds(100));
    }

    @Test
    void orderPerPartitionKeyHoldsUnderParallelConsumersWhileKeysRunInParallel() {
        declare("per-key", 1, 5);
        Api api = api();
        int keys = 6;
        int perKey = 25;
        // Interleaved: k0#0, k1#0, …, k5#0, k0#1, …
        for (int i = 0; i < perKey; i++) {
            StringBuilder batch = new StringBuilder("[");
            for (int k = 0; k < keys; k++) {
                batch.append(k == 0 ? "" : ",").append("{\"type\":\"t\",\"partitionkey\":\"k").append(k)
                        .append("\",\"data\":{\"key\":\"k").append(k).append("\",\"n\":").append(i).append("}}");
            }
            Answer published = await(api.call("POST", "/internal/v1/tenants/acme/topics/per-key/events", batch.append("]").toString()));
            assertThat(published.status()).isEqualTo(201);
        }
        Map<String, List<Integer>> processed = new ConcurrentHashMap<>();
        Set<String> inFlightKeys = ConcurrentHashMap.newKeySet();
        List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger done = new AtomicInteger();
        AtomicInteger parallelBatches = new AtomicInteger();
        int total = keys * perKey;

        Flux<Integer> consumers = Flux.range(0, 3).flatMap(c -> Mono.defer(() -> api.poll("per-key", "ordered",
                                "{\"max\":4,\"waitMs\":200,\"ackDeadlineMs\":60000,\"orderedByKey\":true}"))
                .flatMap(batch -> {
                    List<JsonNode> events = new ArrayList<>();
                    batch.body().get("events").forEach(events::add);
                    Set<String> batchKeys = new java.util.HashSet<>();
                    for (JsonNode e : events) {
                        String key = e.get("partitionkey").asString();
                        if (!batchKeys.add(key)) {
                            violations.add("two events of " + key + " in one batch");
                        }
                        if (!inFlightKeys.add(key)) {
                            violations.add("key " + key + " leased while an earlier event of it was in flight");
                        }
                    }
                    if (batchKeys.size() > 1) {
                        parallelBatches.incrementAndGet();
                    }
                    if (events.isEmpty()) {
                        return Mono.just(0);
                    }
                    return Mono.delay(Duration.ofMillis(10)).then(Mono.defer(() -> {
                        List<Long> seqs = new ArrayList<>();
                        for (JsonNode e : events) {
                            processed.computeIfAbsent(e.get("partitionkey").asString(), k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                                    .add(e.get("data").get("n").asInt());
                            seqs.add(e.get("seq").asLong());
                        }
                        // Released before the ack is sent: the next event of the key may come as soon as the ack commits.
                        events.forEach(e -> inFlightKeys.remove(e.get("partitionkey").asString()));
                        return api.group("per-key", "ordered", "ack", seqsJson(seqs));
                    })).map(ack -> {
                        done.addAndGet(ack.body().get("acked").size());
                        return events.size();
                    });
                })
                .repeat(() -> done.get() < total)
                .timeout(Duration.ofSeconds(100)));
        StepVerifier.create(consumers.then()).expectComplete().verify(Duration.ofSeconds(120));

        assertThat(violations).isEmpty();
        assertThat(parallelBatches.get()).as("batches carrying several keys at once").isPositive();
        assertThat(processed).hasSize(keys);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < perKey; i++) {
            expected.add(i);
        }
        processed.forEach((key, order) -> assertThat(order).as(key).containsExactlyElementsOf(expected));
        assertThat(await(api.status("per-key", "ordered")).body().get("committed").asLong()).isEqualTo(total);
    }

    @Test
    void aMultiPartitionGroupAcksPerPartitionAndReportsEachPartition() {
        declare("multi", 3, 5);
        Api api = api();
        for (int i = 0; i < 30; i++) {
            await(api.publish("multi", "{\"type\":\"t\",\"partitionkey\":\"user-" + i + "\",\"data\":" + i + "}"));
        }
        Map<Integer, List<Long>> byPartition = new HashMap<>();
        int seen = 0;
        for (int round = 0; round < 10 && seen < 30; round++) {
            JsonNode events = await(api.poll("multi", "g", "{\"max\":8}")).body().get("events");
            for (JsonNode e : events) {
                byPartition.computeIfAbsent(e.get("partition").asInt(), p -> new ArrayList<>()).add(e.get("seq").asLong());
                seen++;
            }
        }
        assertThat(seen).isEqualTo(30);
        assertThat(byPartition.keySet()).hasSizeGreaterThan(1);
        byPartition.forEach((p, seqs) -> assertThat(await(api.group("multi", "g", "ack",
                "{\"partition\":" + p + ",\"seqs\":" + seqs + "}")).body().get("acked")).hasSize(seqs.size()));
        JsonNode status = await(api.status("multi", "g")).body();
        assertThat(status.get("partitions")).hasSize(3);
        assertThat(status.get("committed").asLong()).isEqualTo(30);
        assertThat(status.get("head").asLong()).isEqualTo(30);
        assertThat(status.get("lag").asLong()).isZero();
        // after on a topic of several partitions needs its partition.
        assertThat(await(api.group("multi", "g", "seek", "{\"after\":0}")).status()).isEqualTo(400);
        assertThat(await(api.group("multi", "g", "seek", "{\"after\":0,\"partition\":1}")).status()).isEqualTo(200);
        assertThat(await(api.poll("multi", "g", "{\"max\":100}")).seqs()).hasSize(byPartition.get(1).size());
    }

    @Test
    void aPollCarriesTheAcksOfTheLastBatchDoneBeforeItLeasesTheNext() {
        declare("ack-in-poll", 3, 5);
        Api api = api();
        for (int i = 0; i < 24; i++) {
            await(api.publish("ack-in-poll", "{\"type\":\"t\",\"partitionkey\":\"k-" + i + "\",\"data\":" + i + "}"));
        }
        Set<String> seen = new HashSet<>();
        String acks = "[]";
        for (int round = 0; round < 12; round++) {
            JsonNode body = await(api.poll("ack-in-poll", "g", "{\"max\":5,\"ack\":" + acks + "}")).body();
            // Every ack request of the last round answered, in order, each seq acked (none ignored).
            JsonNode answers = body.get("acks");
            assertThat(answers).hasSize(acks.equals("[]") ? 0 : acks.split("\\{").length - 1);
            answers.forEach(a -> assertThat(a.get("ignored")).isEmpty());
            Map<Integer, List<Long>> byPartition = new HashMap<>();
            for (JsonNode e : body.get("events")) {
                assertThat(seen.add(e.get("partition").asInt() + ":" + e.get("seq").asLong())).as("leased twice").isTrue();
                byPartition.computeIfAbsent(e.get("partition").asInt(), p -> new ArrayList<>()).add(e.get("seq").asLong());
            }
            acks = byPartition.entrySet().stream().map(en -> "{\"partition\":" + en.getKey() + ",\"seqs\":" + en.getValue() + "}")
                    .collect(java.util.stream.Collectors.joining(",", "[", "]"));
        }
        assertThat(seen).hasSize(24);
        // The last acks go with a poll that finds nothing more.
        JsonNode last = await(api.poll("ack-in-poll", "g", "{\"ack\":" + acks + "}")).body();
        assertThat(last.get("events")).isEmpty();
        JsonNode status = await(api.status("ack-in-poll", "g")).body();
        assertThat(status.get("committed").asLong()).isEqualTo(24);
        assertThat(status.get("inFlight").asLong()).isZero();

        // A poll without ack has no acks field; an ack of what is not pending is ignored and said so.
        assertThat(await(api.poll("ack-in-poll", "g", "{}")).body().has("acks")).isFalse();
        JsonNode ignored = await(api.poll("ack-in-poll", "g", "{\"ack\":[{\"seqs\":[1,999]}]}")).body();
        assertThat(ignored.get("acks").get(0).get("ignored").toString()).isEqualTo("[1,999]");

        // Bad acks refuse the whole poll (400) and lease nothing.
        publishN(api, "ack-in-poll", 1);
        for (String bad : List.of("{\"ack\":[{}]}", "{\"ack\":[{\"seqs\":[]}]}", "{\"ack\":[{\"seqs\":[1],\"partiton\":0}]}",
                "{\"ack\":[null]}", "{\"ack\":{\"seqs\":[1]}}",
                "{\"ack\":[" + "{\"seqs\":[1]},".repeat(64) + "{\"seqs\":[1]}]}",
                "{\"ack\":[{\"seqs\":" + java.util.stream.LongStream.rangeClosed(1, 600).boxed().toList() + "},{\"seqs\":"
                        + java.util.stream.LongStream.rangeClosed(1, 401).boxed().toList() + "}]}")) {
            Answer refused = await(api.group("ack-in-poll", "g", "poll", bad));
            assertThat(refused.status()).as(bad).isEqualTo(400);
        }
        // An ack for a partition the topic does not have is 400 too.
        assertThat(await(api.group("ack-in-poll", "g", "poll", "{\"ack\":[{\"seqs\":[1],\"partition\":7}]}")).status()).isEqualTo(400);
        assertThat(await(api.status("ack-in-poll", "g")).body().get("inFlight").asLong()).isZero();

        // An ordered group takes its own path for acks in a poll too: the next event of the key is leased after it.
        declare("ack-in-poll-ordered", 1, 5);
        for (int i = 0; i < 3; i++) {
            await(api.publish("ack-in-poll-ordered", "{\"type\":\"t\",\"partitionkey\":\"same\",\"data\":" + i + "}"));
        }
        Answer first = await(api.poll("ack-in-poll-ordered", "o", "{\"max\":10,\"orderedByKey\":true}"));
        assertThat(first.seqs()).containsExactly(1L);
        Answer second = await(api.poll("ack-in-poll-ordered", "o", "{\"max\":10,\"ack\":[{\"seqs\":[1]}]}"));
        assertThat(second.body().get("acks").get(0).get("acked").toString()).isEqualTo("[1]");
        assertThat(second.seqs()).containsExactly(2L);
    }

    @Test
    void partitionsAddedToATopicLaterAreConsumedToo() {
        declare("growing", 1, 5);
        Api api = api();
        publishN(api, "growing", 2);
        assertThat(await(api.poll("growing", "g", "{\"max\":10}")).seqs()).containsExactly(1L, 2L);
        declare("growing", 4, 5);
        Set<Integer> partitions = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            partitions.add(await(api.call("POST", "/internal/v1/tenants/acme/topics/growing/events",
                    "{\"type\":\"t\",\"partitionkey\":\"k" + i + "\",\"data\":" + i + "}")).body().get("partition").asInt());
        }
        assertThat(partitions).hasSizeGreaterThan(1);
        int seen = 0;
        Set<Integer> polledFrom = new java.util.HashSet<>();
        for (int round = 0; round < 10 && seen < 20; round++) {
            JsonNode events = await(api.poll("growing", "g", "{\"max\":20}")).body().get("events");
            for (JsonNode e : events) {
                polledFrom.add(e.get("partition").asInt());
                seen++;
            }
        }
        assertThat(seen).isEqualTo(20);
        assertThat(polledFrom).isEqualTo(partitions);
        assertThat(await(api.status("growing", "g")).body().get("partitions")).hasSize(4);
    }

    @Test
    void eventsRetentionRemovedBeforeTheGroupGotToThemAreNotOwed() {
        TopicSettings d = TopicSettings.defaults();
        registry.declare("acme", "aging", new TopicSettings(1, Duration.ofSeconds(3), d.dedupWindow(), null, d.maxPayloadBytes(),
                d.schemaVersions(), d.maxLag(), d.lagPolicy(), 5, new TopicSettings.PublishRate(100_000, 100_000)));
        Api api = api();
        publishN(api, "aging", 3);
        assertThat(await(api.poll("aging", "g", "{\"max\":1}")).seqs()).containsExactly(1L);
        Mono.delay(Duration.ofMillis(3300)).block();
        await(api.publish("aging", "{\"type\":\"t\",\"data\":4}"));
        StepVerifier.create(retention.sweep()).assertNext(n -> assertThat(n).isGreaterThanOrEqualTo(3)).verifyComplete();
        JsonNode status = await(api.status("aging", "g")).body();
        assertThat(status.get("committed").asLong()).isEqualTo(3);
        assertThat(status.get("lag").asLong()).isEqualTo(1);
        // The cursor passes over what is gone.
        assertThat(await(api.poll("aging", "g", "{\"max\":10}")).seqs()).containsExactly(4L);
    }

    private static List<String> listed(Api api, String query) {
        Answer answer = await(api.call("GET", "/internal/v1/tenants/acme/topics?" + query, null));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        return answer.body().get("topics").findValuesAsString("topic");
    }

    @Test
    void topicsMatchingAPatternAreListedByNameAndWithAGroupOnlyWhereItHasWork() {
        for (String topic : List.of("lst.a", "lst.b", "lst.c", "lst.x.y", "lstb.a")) {
            declare(topic, 2, 5);
        }
        registry.declare("globex", "lst.g", settings(1, 5));
        Api api = api();
        java.time.Instant before = java.time.Instant.now().minusSeconds(1);
        publishN(api, "lst.a", 3);
        for (String topic : List.of("lst.b", "lst.c", "lst.x.y", "lstb.a", "lst.c.dlq")) {
            publishN(api, topic, 1);
        }
        assertThat(await(api.call("POST", "/internal/v1/tenants/globex/topics/lst.g/events", "{\"type\":\"t\"}")).status()).isEqualTo(201);

        // By name; another tenant's topic, other prefixes, deeper names and dead-letter topics are not ones of lst.*.
        Answer all = await(api.call("GET", "/internal/v1/tenants/acme/topics?pattern=lst.*", null));
        assertThat(all.body().get("topics").findValuesAsString("topic")).containsExactly("lst.a", "lst.b", "lst.c");
        assertThat(all.body().get("next").isNull()).isTrue();
        JsonNode a = all.body().get("topics").get(0);
        assertThat(a.get("head").asLong()).isEqualTo(3);
        assertThat(java.time.Instant.parse(a.get("createdAt").asString())).isBetween(before, java.time.Instant.now().plusSeconds(1));
        assertThat(listed(api, "pattern=lst.>")).containsExactly("lst.a", "lst.b", "lst.c", "lst.x.y");
        assertThat(listed(api, "pattern=lst.*.dlq")).containsExactly("lst.c.dlq");
        assertThat(listed(api, "pattern=*.a")).containsExactly("lst.a", "lstb.a");
        assertThat(listed(api, "pattern=lst.b")).containsExactly("lst.b");
        // A page at a time.
        Answer page = await(api.call("GET", "/internal/v1/tenants/acme/topics?pattern=lst.*&limit=2", null));
        assertThat(page.body().get("topics").findValuesAsString("topic")).containsExactly("lst.a", "lst.b");
        assertThat(page.body().get("next").asString()).isEqualTo("lst.b");
        assertThat(listed(api, "pattern=lst.*&after=lst.b")).containsExactly("lst.c");

        // With a group: every topic it never polled; then only where it has something to lease.
        assertThat(listed(api, "pattern=lst.*&group=lg")).containsExactly("lst.a", "lst.b", "lst.c");
        Answer leasedA = await(api.poll("lst.a", "lg", "{\"max\":10}"));
        assertThat(leasedA.seqs()).hasSize(3);
        Map<Integer, List<Long>> byPartition = new HashMap<>();
        leasedA.body().get("events").forEach(e -> byPartition.computeIfAbsent(e.get("partition").asInt(), k -> new ArrayList<>())
                .add(e.get("seq").asLong()));
        byPartition.forEach((partition, seqs) -> assertThat(await(api.group("lst.a", "lg", "ack",
                "{\"seqs\":" + seqs + ",\"partition\":" + partition + "}")).body().get("acked")).hasSize(seqs.size()));
        assertThat(await(api.status("lst.a", "lg")).body().get("lag").asLong()).isZero();
        Answer leasedB = await(api.poll("lst.b", "lg", "{\"max\":10,\"ackDeadlineMs\":60000}"));
        assertThat(leasedB.seqs()).hasSize(1);
        assertThat(await(api.poll("lst.c", "lg", "{\"from\":\"latest\"}")).seqs()).isEmpty();
        // lst.a is done, lst.b's one event is leased, lst.c's group started after its event.
        assertThat(listed(api, "pattern=lst.*&group=lg")).isEmpty();
        // A nacked event due again, and a new event, are work.
        int partitionB = leasedB.body().get("events").get(0).get("partition").asInt();
        assertThat(await(api.group("lst.b", "lg", "nack", "{\"seqs\":" + leasedB.seqs() + ",\"partition\":" + partitionB
                + ",\"delayMs\":0}")).status()).isEqualTo(200);
        publishN(api, "lst.c", 1);
        assertThat(listed(api, "pattern=lst.*&group=lg")).containsExactly("lst.b", "lst.c");
        assertThat(listed(api, "pattern=lst.*&group=other")).containsExactly("lst.a", "lst.b", "lst.c");

        // Bad input is a 400 problem.
        for (String bad : List.of("pattern=lst..*", "", "pattern=lst.*&group=Bad", "pattern=lst.*&limit=0",
                "pattern=lst.*&limit=1001", "pattern=lst.*&after=..")) {
            Answer refused = await(api.call("GET", "/internal/v1/tenants/acme/topics?" + bad, null));
            assertThat(refused.status()).as(bad).isEqualTo(400);
            assertThat(refused.body().get("code").asString()).as(bad).isEqualTo("invalid_request");
        }
    }

    @Test
    void aRestartOfDeliveryMidLeaseKeepsLeasesAndOffsets() {
        ConfigurableApplicationContext first = startInstance();
        try {
            Api a = new Api(port(first));
            publishN(a, "restart", 4);
            Answer leased = await(a.poll("restart", "g", "{\"max\":2,\"ackDeadlineMs\":60000}"));
            assertThat(leased.seqs()).containsExactly(1L, 2L);
            await(a.group("restart", "g", "ack", seqsJson(List.of(1L))));
        } finally {
            first.close();
        }
        ConfigurableApplicationContext second = startInstance();
        try {
            Api b = new Api(port(second));
            JsonNode status = await(b.status("restart", "g")).body();
            assertThat(status.get("committed").asLong()).isEqualTo(1);
            assertThat(status.get("inFlight").asLong()).isEqualTo(1);
            // Seq 2 is still leased to the consumer from before the restart: the new poll gets 3 and 4 only.
            Answer next = await(b.poll("restart", "g", "{\"max\":10}"));
            assertThat(next.seqs()).containsExactly(3L, 4L);
            assertThat(next.attempts()).containsOnly(1);
            // And that consumer's ack still counts.
            assertThat(await(b.group("restart", "g", "ack", seqsJson(List.of(2L, 3L, 4L)))).body().get("acked")).hasSize(3);
            assertThat(await(b.status("restart", "g")).body().get("committed").asLong()).isEqualTo(4);
        } finally {
            second.close();
        }
    }

    private static ConfigurableApplicationContext startInstance() {
        ConfigurableApplicationContext context = DeliveryApplication.application().run(
                "--server.port=0",
                "--switchboard.delivery.service-token=test-service-token",
                "--switchboard.delivery.retention-interval=PT1H",
                "--spring.main.allow-bean-definition-overriding=false",
                "--spring.r2dbc.url=" + TestDatabase.get().uri().r2dbcUrl(),
                "--spring.r2dbc.username=" + TestDatabase.get().uri().user(),
                "--spring.r2dbc.password=" + TestDatabase.get().uri().password(),
                "--spring.r2dbc.properties.schema=delivery",
                "--spring.flyway.url=" + TestDatabase.get().uri().jdbcUrl(),
                "--spring.flyway.user=" + TestDatabase.get().uri().user(),
                "--spring.flyway.password=" + TestDatabase.get().uri().password(),
                "--spring.flyway.schemas=delivery",
                "--spring.flyway.default-schema=delivery",
                "--switchboard.registry-client.service-token=test-service-token",
                "--spring.main.sources=" + DeliveryTestConfiguration.class.getName());
        context.getBean(InMemoryRegistry.class).declare("acme", "restart", settings(1, 5));
        return context;
    }

    private static int port(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    private double counter(String name) {
        Counter c = meters.find(name).tags("tenant", "acme").counter();
        return c == null ? 0 : c.count();
    }
}
