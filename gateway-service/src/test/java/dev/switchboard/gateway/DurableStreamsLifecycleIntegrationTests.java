package dev.switchboard.gateway;

import dev.switchboard.delivery.retention.RetentionJob;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a Durable Stream costs a tenant and what it leaves behind: a tenant holds at most
 * {@code max-per-tenant} live streams (here 3) — a delete or an expiry frees a place — and the rows
 * of a deleted or expired stream are removed by the retention sweep, its log partition with them;
 * an SSE reader of a quiet stream gets a comment line every {@code sse-keep-alive} (here 500 ms).
 */
class DurableStreamsLifecycleIntegrationTests {

    private static TestPlatform platform;
    private static TestPlatform.Key key;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1, List.of("--switchboard.delivery.streams.max-per-tenant=3",
                "--switchboard.delivery.streams.sse-keep-alive=500ms"));
        platform.createTenant("ds-life");
        key = platform.createKey("ds-life", "publish", "subscribe");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    private static WebTestClient.ResponseSpec create(String name, String... headers) {
        WebTestClient.RequestBodySpec put = platform.gatewayClient(0).put().uri("/v1/stream/" + name).header("Authorization", key.bearer());
        for (int i = 0; i < headers.length; i += 2) {
            put.header(headers[i], headers[i + 1]);
        }
        return put.contentType(MediaType.TEXT_PLAIN).bodyValue("data of " + name).exchange();
    }

    private static Mono<Long> rows(String sql) {
        return platform.delivery().getBean(DatabaseClient.class).sql(sql).map(r -> r.get(0, Long.class)).one();
    }

    @Test
    void aQuietSseAnswerSendsKeepAliveComments() {
        // A tenant of its own: the other test fills ds-life's three places.
        platform.createTenant("ds-quiet");
        TestPlatform.Key reader = platform.createKey("ds-quiet", "publish", "subscribe");
        String name = "quiet-" + UUID.randomUUID();
        platform.gatewayClient(0).put().uri("/v1/stream/" + name).header("Authorization", reader.bearer())
                .contentType(MediaType.TEXT_PLAIN).exchange().expectStatus().isCreated();
        try {
            Flux<String> body = reactor.netty.http.client.HttpClient.create()
                    .headers(h -> h.set("Authorization", reader.bearer()))
                    .get().uri(platform.gatewayUrl(0) + "/v1/stream/" + name + "?offset=now&live=sse")
                    .responseContent().asString();
            StepVerifier.create(body.filter(chunk -> chunk.contains(": keep-alive")).take(2))
                    .expectNextCount(2)
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
        } finally {
            platform.gatewayClient(0).delete().uri("/v1/stream/" + name).header("Authorization", reader.bearer()).exchange()
                    .expectStatus().isNoContent();
        }
    }

    @Test
    void aTenantHoldsAtMostItsStreamsAndDeletesAndExpiriesFreePlaces() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        create("a-" + run).expectStatus().isCreated();
        create("b-" + run).expectStatus().isCreated();
        create("short-" + run, "Stream-TTL", "1").expectStatus().isCreated();
        create("d-" + run).expectStatus().isForbidden().expectBody().jsonPath("$.code").isEqualTo("forbidden");
        // A create of an existing stream is no new stream.
        create("a-" + run).expectStatus().isOk();

        platform.gatewayClient(0).delete().uri("/v1/stream/a-" + run).header("Authorization", key.bearer()).exchange()
                .expectStatus().isNoContent();
        create("d-" + run).expectStatus().isCreated();
        create("e-" + run).expectStatus().isForbidden();

        // The TTL stream expires; the sweep retires it, and removes its rows and the deleted stream's.
        StepVerifier.create(Mono.delay(Duration.ofMillis(1500)).then(platform.delivery().getBean(RetentionJob.class).sweep()))
                .assertNext(removed -> assertThat(removed).isGreaterThanOrEqualTo(2))
                .expectComplete().verify(Duration.ofSeconds(30));
        create("e-" + run).expectStatus().isCreated();
        StepVerifier.create(rows("""
                        SELECT count(*) FROM streams s JOIN partitions p ON p.tenant_id = s.tenant_id AND p.topic = s.log_key
                        WHERE s.tenant_id = 'ds-life' AND s.deleted_at IS NOT NULL"""))
                .assertNext(partitions -> assertThat(partitions).as("partition rows of gone streams").isZero())
                .expectComplete().verify(Duration.ofSeconds(10));
        StepVerifier.create(rows("""
                        SELECT count(*) FROM events e WHERE e.tenant_id = 'ds-life'
                        AND NOT EXISTS (SELECT 1 FROM streams s WHERE s.tenant_id = e.tenant_id AND s.log_key = e.topic AND s.deleted_at IS NULL)"""))
                .assertNext(orphans -> assertThat(orphans).as("rows of gone streams").isZero())
                .expectComplete().verify(Duration.ofSeconds(10));
        // The live ones are untouched.
        platform.gatewayClient(0).get().uri("/v1/stream/b-" + run).header("Authorization", key.bearer()).exchange()
                .expectStatus().isOk().expectBody(String.class).isEqualTo("data of b-" + run);
    }
}
