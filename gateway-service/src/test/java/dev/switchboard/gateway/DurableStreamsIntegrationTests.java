package dev.switchboard.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Durable Streams ({@code /v1/stream/…}) as our users' security and operators see it, beyond the
 * protocol's own suite: one tenant's streams do not exist for another; every verb refuses a missing,
 * unknown or under-scoped credential and a client JWT outside its patterns; bad input on every verb
 * is a problem+json answer that changes nothing; a revoked key ends its open SSE stream; an offset
 * of a deleted stream is never a position in the stream made again at its path; and one producer's
 * retries, sent to two delivery instances at once, are appended exactly once.
 */
class DurableStreamsIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static TestPlatform platform;
    private static String secretA;
    private static TestPlatform.Key writerA;
    private static TestPlatform.Key readerA;
    private static TestPlatform.Key writerB;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1);
        secretA = platform.createTenant("ds-a");
        platform.createTenant("ds-b");
        writerA = platform.createKey("ds-a", "publish", "subscribe");
        readerA = platform.createKey("ds-a", "subscribe");
        writerB = platform.createKey("ds-b", "publish", "subscribe");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    private static WebTestClient client() {
        return platform.gatewayClient(0);
    }

    private static String path() {
        return "/v1/stream/chat/room-" + UUID.randomUUID();
    }

    private static void create(String path, TestPlatform.Key key, String contentType, String body) {
        client().put().uri(path).header("Authorization", key.bearer()).contentType(MediaType.parseMediaType(contentType))
                .bodyValue(body).exchange().expectStatus().isCreated();
    }

    private static String read(String path, TestPlatform.Key key) {
        return client().get().uri(path).header("Authorization", key.bearer()).exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
    }

    @Test
    void anotherTenantsStreamDoesNotExistForThisOne() {
        String path = path();
        create(path, writerA, "application/json", "[{\"secret\":\"a\"}]");
        for (String method : List.of("GET", "HEAD", "POST", "DELETE")) {
            WebTestClient.RequestBodySpec request = client().method(org.springframework.http.HttpMethod.valueOf(method)).uri(path)
                    .header("Authorization", writerB.bearer());
            WebTestClient.ResponseSpec response = method.equals("POST")
                    ? request.contentType(MediaType.APPLICATION_JSON).bodyValue("{\"from\":\"b\"}").exchange() : request.exchange();
            response.expectStatus().isNotFound();
        }
        // B's stream at the same path is B's own, and holds nothing of A's.
        create(path, writerB, "application/json", "[{\"mine\":\"b\"}]");
        assertThat(read(path, writerB)).isEqualTo("[{\"mine\":\"b\"}]");
        assertThat(read(path, writerA)).isEqualTo("[{\"secret\":\"a\"}]");
    }

    @Test
    void everyVerbRefusesAMissingOrUnknownCredential() {
        String path = path();
        create(path, writerA, "text/plain", "kept");
        for (String bearer : new String[]{null, "Bearer sb_unknown_key_000000000000", "Bearer not-a-token"}) {
            for (String method : List.of("GET", "HEAD", "PUT", "POST", "DELETE")) {
                WebTestClient.RequestBodySpec request = client().method(org.springframework.http.HttpMethod.valueOf(method)).uri(path);
                if (bearer != null) {
                    request.header("Authorization", bearer);
                }
                EntityExchangeResult<byte[]> result = (method.equals("POST") || method.equals("PUT")
                        ? request.contentType(MediaType.TEXT_PLAIN).bodyValue("intruder").exchange() : request.exchange())
                        .expectStatus().isUnauthorized()
                        .expectBody().returnResult();
                if (!method.equals("HEAD")) {
                    assertThat(result.getResponseHeaders().getContentType()).hasToString("application/problem+json");
                    assertThat(new String(result.getResponseBody(), StandardCharsets.UTF_8)).contains("\"code\":\"unauthenticated\"");
                }
            }
        }
        assertThat(read(path, writerA)).isEqualTo("kept");
    }

    @Test
    void scopesDecideWhoReadsAndWhoWrites() {
        String path = path();
        create(path, writerA, "text/plain", "one");
        client().get().uri(path).header("Authorization", readerA.bearer()).exchange().expectStatus().isOk();
        client().post().uri(path).header("Authorization", readerA.bearer()).contentType(MediaType.TEXT_PLAIN).bodyValue("two")
                .exchange().expectStatus().isForbidden().expectBody().jsonPath("$.code").isEqualTo("forbidden");
        client().put().uri(path() ).header("Authorization", readerA.bearer()).contentType(MediaType.TEXT_PLAIN)
                .exchange().expectStatus().isForbidden();
        client().delete().uri(path).header("Authorization", readerA.bearer()).exchange().expectStatus().isForbidden();
        TestPlatform.Key publishOnly = platform.createKey("ds-a", "publish");
        client().get().uri(path).header("Authorization", publishOnly.bearer()).exchange().expectStatus().isForbidden();
        assertThat(read(path, writerA)).isEqualTo("one");
    }

    @Test
    void aClientJwtReadsAndWritesOnlyWhatItsPatternsMatch() {
        String room = "room-" + UUID.randomUUID();
        create("/v1/stream/chat/" + room, writerA, "application/json", "[{\"n\":1}]");
        create("/v1/stream/billing/" + room, writerA, "application/json", "[{\"n\":1}]");
        String jwt = "Bearer " + WsClient.jwt(secretA, "ds-a", "browser-1", Instant.now().plusSeconds(300), List.of("chat.*"), List.of("chat.*"));
        client().get().uri("/v1/stream/chat/" + room).header("Authorization", jwt).exchange()
                .expectStatus().isOk().expectBody(String.class).isEqualTo("[{\"n\":1}]");
        client().post().uri("/v1/stream/chat/" + room).header("Authorization", jwt).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"n\":2}").exchange().expectStatus().isNoContent();
        client().get().uri("/v1/stream/billing/" + room).header("Authorization", jwt).exchange().expectStatus().isForbidden();
        client().post().uri("/v1/stream/billing/" + room).header("Authorization", jwt).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"n\":2}").exchange().expectStatus().isForbidden();
        // chat.* is one segment: a deeper path is not matched.
        client().get().uri("/v1/stream/chat/" + room + "/deeper").header("Authorization", jwt).exchange().expectStatus().isForbidden();
        assertThat(read("/v1/stream/billing/" + room, writerA)).isEqualTo("[{\"n\":1}]");
    }

    @Test
    void badInputOnEveryVerbIsAProblemAndChangesNothing() {
        String path = path();
        create(path, writerA, "application/json", "[{\"n\":1}]");
        problem(client().put().uri(path()).header("Authorization", writerA.bearer()).header("Stream-TTL", "1e3")
                .contentType(MediaType.TEXT_PLAIN).exchange(), 400, "invalid_request");
        problem(client().put().uri(path).header("Authorization", writerA.bearer()).contentType(MediaType.TEXT_PLAIN).exchange(),
                409, "conflict");
        problem(client().post().uri(path).header("Authorization", writerA.bearer()).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{not json").exchange(), 400, "invalid_request");
        problem(client().post().uri(path).header("Authorization", writerA.bearer()).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(new byte[]{'"', (byte) 0xC0, (byte) 0xAF, '"'}).exchange(), 400, "invalid_request");
        problem(client().post().uri(path).header("Authorization", writerA.bearer()).contentType(MediaType.TEXT_PLAIN)
                .bodyValue("wrong type").exchange(), 409, "conflict");
        problem(client().post().uri(path).header("Authorization", writerA.bearer()).header("Producer-Id", "p")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"n\":2}").exchange(), 400, "invalid_request");
        problem(client().get().uri(path + "?offset=../../etc").header("Authorization", writerA.bearer()).exchange(), 400, "invalid_request");
        problem(client().get().uri(path + "?live=forever&offset=-1").header("Authorization", writerA.bearer()).exchange(), 400,
                "invalid_request");
        problem(client().delete().uri(path()).header("Authorization", writerA.bearer()).exchange(), 404, "not_found");
        client().head().uri(path()).header("Authorization", writerA.bearer()).exchange().expectStatus().isNotFound();
        problem(client().get().uri("/v1/stream/a/../b").header("Authorization", writerA.bearer()).exchange(), 400, "invalid_request");
        assertThat(read(path, writerA)).isEqualTo("[{\"n\":1}]");
    }

    private static void problem(WebTestClient.ResponseSpec response, int status, String code) {
        response.expectStatus().isEqualTo(status)
                .expectHeader().contentType("application/problem+json")
                .expectBody().jsonPath("$.code").isEqualTo(code).jsonPath("$.status").isEqualTo(status);
    }

    @Test
    void anOffsetOfADeletedStreamIsNoPositionInTheStreamMadeAgain() {
        String path = path();
        create(path, writerA, "text/plain", "old-1");
        String oldTail = client().post().uri(path).header("Authorization", writerA.bearer()).contentType(MediaType.TEXT_PLAIN)
                .bodyValue("old-2").exchange().expectStatus().isNoContent()
                .returnResult(Void.class).getResponseHeaders().getFirst("Stream-Next-Offset");
        client().delete().uri(path).header("Authorization", writerA.bearer()).exchange().expectStatus().isNoContent();
        create(path, writerA, "text/plain", "new-1");
        problem(client().get().uri(path + "?offset={o}", "0000000000000000_0000000000000001").header("Authorization", writerA.bearer())
                .exchange(), 410, "not_found");
        // The old tail is where the new stream begins: reading from it gives only the new stream's data.
        assertThat(client().get().uri(path + "?offset={o}", oldTail).header("Authorization", writerA.bearer()).exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody()).isEqualTo("new-1");
        assertThat(read(path, writerA)).isEqualTo("new-1");
    }

    @Test
    void aRevokedKeyEndsItsOpenSseStream() {
        String path = path();
        TestPlatform.Key doomed = platform.createKey("ds-a", "subscribe");
        create(path, writerA, "text/plain", "first");
        Flux<String> sse = WebClient.create(platform.gatewayUrl(0)).get().uri(path + "?offset=-1&live=sse")
                .header("Authorization", doomed.bearer()).retrieve().bodyToFlux(String.class);
        StepVerifier.create(sse)
                .expectNextMatches(line -> line.contains("first"))
                .then(() -> platform.revokeKey("ds-a", doomed))
                .thenConsumeWhile(line -> true)
                .expectComplete()
                .verify(Duration.ofSeconds(15));
    }

    @Test
    void aProducersRetriesSentToTwoDeliveryInstancesAtOnceAreAppendedOnce() {
        String path = path();
        create(path, writerA, "application/json", "[]");
        String stream = path.substring("/v1/stream/".length());
        List<WebClient> instances = List.of(internal(platform.deliveryUrl()), internal(TestPlatform.url(platform.startDelivery())));
        // Each append sent to both instances at the same moment (a retry racing its original), one seq after the other.
        Mono<List<Integer>> statuses = Flux.range(0, 30)
                .concatMap(seq -> Flux.fromIterable(instances)
                        .flatMap(web -> web.post().uri("/internal/v1/tenants/ds-a/streams/" + stream)
                                .header("Producer-Id", "writer-1").header("Producer-Epoch", "0").header("Producer-Seq", Integer.toString(seq))
                                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"seq\":" + seq + "}")
                                .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value()))))
                .collectList();
        // Each seq: one 200 (appended) and one 204 (the duplicate), whichever instance got there first.
        StepVerifier.create(statuses)
                .assertNext(all -> {
                    assertThat(all.stream().filter(s -> s == 200)).hasSize(30);
                    assertThat(all.stream().filter(s -> s == 204)).hasSize(30);
                })
                .expectComplete()
                .verify(Duration.ofSeconds(30));
        JsonNode messages = JSON.readTree(read(path, writerA));
        assertThat(messages).hasSize(30);
        for (int i = 0; i < 30; i++) {
            assertThat(messages.get(i).get("seq").asInt()).isEqualTo(i);
        }
    }

    @Test
    void concurrentAppendsCommitTogetherAndOneRefusedAmongThemChangesNothing() {
        String path = path();
        create(path, writerA, "application/json", "[]");
        WebClient web = WebClient.builder().baseUrl(platform.gatewayUrl(0)).defaultHeader("Authorization", writerA.bearer()).build();
        // 60 appends at once (group-committed in a few transactions); every tenth is not JSON.
        Mono<List<Integer>> statuses = Flux.range(0, 60)
                .flatMap(n -> web.post().uri(path).contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(n % 10 == 9 ? "{broken " + n : "{\"n\":" + n + "}")
                        .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())), 60)
                .collectList();
        StepVerifier.create(statuses)
                .assertNext(all -> {
                    assertThat(all.stream().filter(s -> s == 204)).hasSize(54);
                    assertThat(all.stream().filter(s -> s == 400)).hasSize(6);
                })
                .expectComplete()
                .verify(Duration.ofSeconds(30));
        JsonNode messages = JSON.readTree(read(path, writerA));
        assertThat(messages).hasSize(54);
        assertThat(platform.delivery().getBean(io.micrometer.core.instrument.MeterRegistry.class)
                .get("switchboard.delivery.streams.batch.appends").summary().max()).as("most appends one transaction carried").isGreaterThan(1);
        assertThat(java.util.stream.StreamSupport.stream(messages.spliterator(), false).map(m -> m.get("n").asInt()).toList())
                .doesNotHaveDuplicates().allMatch(n -> n % 10 != 9);
    }

    private static WebClient internal(String baseUrl) {
        return WebClient.builder().baseUrl(baseUrl).defaultHeader("Authorization", "Bearer " + TestPlatform.SERVICE_TOKEN).build();
    }

    @Test
    void aLongPollWakesOnAnAppendFromAnotherWriter() {
        String path = path();
        create(path, writerA, "text/plain", "");
        String tail = client().head().uri(path).header("Authorization", writerA.bearer()).exchange()
                .returnResult(Void.class).getResponseHeaders().getFirst("Stream-Next-Offset");
        WebClient web = WebClient.create(platform.gatewayUrl(0));
        Mono<String> poll = web.get().uri(path + "?offset={o}&live=long-poll", tail)
                .header("Authorization", readerA.bearer()).retrieve().bodyToMono(String.class);
        Mono<Integer> append = Mono.delay(Duration.ofMillis(300)).then(web.post().uri(path).header("Authorization", writerA.bearer())
                .contentType(MediaType.TEXT_PLAIN).bodyValue("news")
                .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())));
        StepVerifier.create(Mono.zip(poll, append))
                .assertNext(t -> {
                    assertThat(t.getT1()).isEqualTo("news");
                    assertThat(t.getT2()).isEqualTo(204);
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }
}
