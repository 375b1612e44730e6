package dev.switchboard.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Consumer groups on the public edge end to end: real gateway → real delivery → real registry → real PostgreSQL. */
class GatewayGroupsIntegrationTests {

    static TestPlatform platform;
    static TestPlatform.Key publisher;
    static TestPlatform.Key subscriber;
    static TestPlatform.Key otherTenant;
    static WebTestClient gateway;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1);
        platform.createTenant("grpacme");
        platform.createTenant("grpother");
        publisher = platform.createKey("grpacme", "publish");
        subscriber = platform.createKey("grpacme", "subscribe");
        otherTenant = platform.createKey("grpother", "publish", "subscribe");
        platform.declareTopic("grpacme", "jobs", Map.of("maxAttempts", 2));
        platform.declareTopic("grpacme", "waits", Map.of());
        gateway = platform.gatewayClient(0);
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    private static WebTestClient.ResponseSpec post(TestPlatform.Key key, String path, String body) {
        WebTestClient.RequestBodySpec request = gateway.post().uri(path).contentType(MediaType.APPLICATION_JSON);
        if (key != null) {
            request = request.header("Authorization", key.bearer());
        }
        return request.bodyValue(body).exchange();
    }

    private static JsonNode ok(WebTestClient.ResponseSpec response) {
        return response.expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    private static List<Long> seqs(JsonNode poll) {
        List<Long> seqs = new ArrayList<>();
        poll.get("events").forEach(e -> seqs.add(e.get("seq").asLong()));
        return seqs;
    }

    @Test
    void pollAckNackSeekStatusListAndDeleteThroughTheGateway() {
        platform.publishBatch(0, publisher, "jobs", List.of("{\"type\":\"job\",\"data\":1}", "{\"type\":\"job\",\"data\":2}",
                "{\"type\":\"job\",\"data\":3}"));
        JsonNode polled = ok(post(subscriber, "/v1/topics/jobs/groups/workers/poll", "{\"max\":10,\"ackDeadlineMs\":60000}"));
        assertThat(seqs(polled)).containsExactly(1L, 2L, 3L);
        assertThat(polled.get("events").get(0).get("attempt").asInt()).isEqualTo(1);
        assertThat(polled.get("events").get(0).get("tenant").asString()).isEqualTo("grpacme");

        JsonNode acked = ok(post(subscriber, "/v1/topics/jobs/groups/workers/ack", "{\"seqs\":[1,3]}"));
        assertThat(acked.get("acked").toString()).isEqualTo("[1,3]");
        ok(post(subscriber, "/v1/topics/jobs/groups/workers/nack", "{\"seqs\":[2],\"reason\":\"boom\"}"));
        JsonNode again = ok(post(subscriber, "/v1/topics/jobs/groups/workers/poll", "{}"));
        assertThat(seqs(again)).containsExactly(2L);
        assertThat(again.get("events").get(0).get("attempt").asInt()).isEqualTo(2);
        JsonNode dead = ok(post(subscriber, "/v1/topics/jobs/groups/workers/nack", "{\"seqs\":[2],\"reason\":\"boom again\"}"));
        assertThat(dead.get("deadLettered").asInt()).isEqualTo(1);

        JsonNode status = gateway.get().uri("/v1/topics/jobs/groups/workers").header("Authorization", subscriber.bearer())
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
        assertThat(status.get("committed").asLong()).isEqualTo(3);
        assertThat(status.get("head").asLong()).isEqualTo(3);
        assertThat(status.get("lag").asLong()).isZero();
        assertThat(status.get("inFlight").asLong()).isZero();
        assertThat(status.get("deadLettered").asLong()).isEqualTo(1);

        // The dead letter is readable through the public history read, with the same key.
        JsonNode dlq = gateway.get().uri("/v1/topics/jobs.dlq/events?after=0").header("Authorization", subscriber.bearer())
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
        assertThat(dlq.get("events")).hasSize(1);
        assertThat(dlq.get("events").get(0).get("deadletterreason").asString()).isEqualTo("boom again");
        assertThat(dlq.get("events").get(0).get("deadletterseq").asString()).isEqualTo("2");

        JsonNode seek = ok(post(subscriber, "/v1/topics/jobs/groups/workers/seek", "{\"after\":1}"));
        assertThat(seek.get("committed").asLong()).isEqualTo(1);
        assertThat(seqs(ok(post(subscriber, "/v1/topics/jobs/groups/workers/poll", "{\"max\":10}")))).containsExactly(2L, 3L);

        JsonNode list = gateway.get().uri("/v1/topics/jobs/groups?limit=10").header("Authorization", subscriber.bearer())
                .exchange().expectStatus().isOk().expectBody(JsonNode.class).returnResult().getResponseBody();
        assertThat(list.get("groups").findValuesAsString("group")).containsExactly("workers");
        gateway.delete().uri("/v1/topics/jobs/groups/workers").header("Authorization", subscriber.bearer())
                .exchange().expectStatus().isNoContent().expectBody().isEmpty();
        gateway.get().uri("/v1/topics/jobs/groups/workers").header("Authorization", subscriber.bearer())
                .exchange().expectStatus().isNotFound()
                .expectHeader().contentType("application/problem+json")
                .expectBody().jsonPath("$.code").isEqualTo("not_found");
    }

    @Test
    void scopesTenantsAndBadInputAreEnforced() {
        post(null, "/v1/topics/jobs/groups/g/poll", "{}").expectStatus().isUnauthorized()
                .expectBody().jsonPath("$.code").isEqualTo("unauthenticated");
        post(publisher, "/v1/topics/jobs/groups/g/poll", "{}").expectStatus().isForbidden()
                .expectBody().jsonPath("$.code").isEqualTo("forbidden");
        gateway.get().uri("/v1/topics/jobs/groups").header("Authorization", publisher.bearer())
                .exchange().expectStatus().isForbidden().expectBody().returnResult();
        // Another tenant's credential never reaches acme's topic or groups.
        post(otherTenant, "/v1/topics/jobs/groups/g/poll", "{}").expectStatus().isNotFound()
                .expectBody().jsonPath("$.code").isEqualTo("topic_not_found");
        post(subscriber, "/v1/topics/jobs/groups/g/poll", "{\"max\":0}").expectStatus().isBadRequest()
                .expectHeader().contentType("application/problem+json")
                .expectBody().jsonPath("$.code").isEqualTo("invalid_request");
        post(subscriber, "/v1/topics/jobs/groups/Bad!/poll", "{}").expectStatus().isBadRequest().expectBody().returnResult();
        post(subscriber, "/v1/topics/jobs/groups/g/ack", "{\"seqs\":[1]}").expectStatus().isNotFound()
                .expectBody().jsonPath("$.code").isEqualTo("not_found");
        gateway.get().uri("/v1/topics/jobs/groups/g").header("Authorization", subscriber.bearer())
                .exchange().expectStatus().isNotFound().expectBody().returnResult();
    }

    @Test
    void aLongPollThroughTheGatewayReturnsWhenAnEventIsPublished() {
        ok(post(subscriber, "/v1/topics/waits/groups/g/poll", "{\"from\":\"latest\"}"));
        long started = System.nanoTime();
        Mono<JsonNode> poll = Mono.fromCallable(() -> ok(post(subscriber, "/v1/topics/waits/groups/g/poll", "{\"waitMs\":20000}")))
                .subscribeOn(Schedulers.boundedElastic());
        Mono<List<Long>> publish = Mono.delay(Duration.ofMillis(700))
                .publishOn(Schedulers.boundedElastic())
                .map(t -> platform.publishBatch(0, publisher, "waits", List.of("{\"type\":\"t\",\"data\":1}")));
        StepVerifier.create(Mono.zip(poll, publish))
                .assertNext(t -> {
                    assertThat(seqs(t.getT1())).containsExactlyElementsOf(t.getT2());
                    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
                })
                .expectComplete()
                .verify(Duration.ofSeconds(30));
    }
}
