package dev.switchboard.registryclient;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.LagPolicy;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.Scope;
import dev.switchboard.contracts.registry.TopicSettings;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Lookups, their JSON, their errors and their caching, against a stub registry on a real socket. */
class CachingRegistryClientIntegrationTests {

    private static final Duration VERIFY = Duration.ofSeconds(5);

    private static RegistryStub stub;

    private SimpleMeterRegistry meters;
    private CachingRegistryClient client;

    @BeforeAll
    static void startStub() {
        stub = new RegistryStub();
    }

    @AfterAll
    static void stopStub() {
        stub.close();
    }

    @BeforeEach
    void resetStub() {
        stub.reset();
        meters = new SimpleMeterRegistry();
    }

    @AfterEach
    void closeClient() {
        if (client != null) {
            client.close();
        }
    }

    /** A started client whose feed is open, so that the feed's opening cannot empty the cache mid-test. */
    private CachingRegistryClient client(Consumer<TestProperties> settings) {
        TestProperties properties = new TestProperties(stub.baseUrl());
        settings.accept(properties);
        client = new CachingRegistryClient(WebClient.builder(), properties.build(), meters);
        client.start();
        await().atMost(Duration.ofSeconds(3)).until(client::feedHealthy);
        return client;
    }

    private CachingRegistryClient client() {
        return client(p -> { });
    }

    private static Consumer<Throwable> code(ErrorCode expected) {
        return error -> assertThat(error).isInstanceOfSatisfying(SwitchboardException.class,
                e -> assertThat(e.code()).isEqualTo(expected));
    }

    @Test
    void resolvesAKeyOnceThenFromTheCacheWithTheServiceToken() {
        stub.key("sb_alpha", "acme", "k1", "publish", "subscribe");
        CachingRegistryClient client = client();

        StepVerifier.create(client.resolveKey("sb_alpha"))
                .assertNext(principal -> {
                    assertThat(principal.tenant()).isEqualTo("acme");
                    assertThat(principal.keyId()).isEqualTo("k1");
                    assertThat(principal.scopes()).containsExactlyInAnyOrder(Scope.PUBLISH, Scope.SUBSCRIBE);
                })
                .verifyComplete();
        StepVerifier.create(client.resolveKey("sb_alpha"))
                .assertNext(principal -> assertThat(principal.keyId()).isEqualTo("k1"))
                .verifyComplete();

        assertThat(stub.hits("resolve_key", "sb_alpha")).isEqualTo(1);
        assertThat(stub.authorizations).isNotEmpty().allMatch(("Bearer " + RegistryStub.TOKEN)::equals);
        assertThat(meters.get("cache.gets").tag("cache", RegistryCache.CACHE_NAME).tag("result", "hit").functionCounter().count())
                .isEqualTo(1);
        assertThat(meters.get("cache.gets").tag("cache", RegistryCache.CACHE_NAME).tag("result", "miss").functionCounter().count())
                .isEqualTo(1);
        assertThat(meters.get(RegistryHttp.REQUESTS_METRIC).tag("call", "resolve_key").tag("outcome", "success").timer().count())
                .isEqualTo(1);
    }

    @Test
    void mapsATopicWithItsIsoDurations() {
        stub.topic("acme", "chat.room-1", "chat.*", 4, null);
        stub.topic("acme", "orders", "orders", 1, "PT30S");
        CachingRegistryClient client = client();

        StepVerifier.create(client.resolveTopic("acme", "chat.room-1"))
                .assertNext(topic -> {
                    assertThat(topic.tenant()).isEqualTo("acme");
                    assertThat(topic.topic()).isEqualTo("chat.room-1");
                    assertThat(topic.declaredBy()).isEqualTo("chat.*");
                    TopicSettings settings = topic.settings();
                    assertThat(settings.partitions()).isEqualTo(4);
                    assertThat(settings.retention()).isEqualTo(Duration.ofDays(7));
                    assertThat(settings.dedupWindow()).isEqualTo(Duration.ofHours(24));
                    assertThat(settings.defaultTtl()).isNull();
                    assertThat(settings.schemaVersions()).isEqualTo(new TopicSettings.SchemaVersions(1, 3));
                    assertThat(settings.lagPolicy()).isEqualTo(LagPolicy.SHED);
                    assertThat(settings.publishRate()).isEqualTo(new TopicSettings.PublishRate(1000, 2000));
                })
                .verifyComplete();
        StepVerifier.create(client.resolveTopic("acme", "orders").map(ResolvedTopic::settings))
                .assertNext(settings -> assertThat(settings.defaultTtl()).isEqualTo(Duration.ofSeconds(30)))
                .verifyComplete();
    }

    @Test
    void mapsClientSecretsAndQuotas() {
        stub.secrets("acme", "current", "previous");
        stub.quotas("acme", 250);
        CachingRegistryClient client = client();

        StepVerifier.create(client.clientSecrets("acme"))
                .assertNext(secrets -> {
                    assertThat(secrets.tenant()).isEqualTo("acme");
                    assertThat(secrets.secrets()).containsExactly("current", "previous");
                })
                .verifyComplete();
        StepVerifier.create(client.quotas("acme"))
                .assertNext(quotas -> {
                    assertThat(quotas.publishPerSecond()).isEqualTo(250);
                    assertThat(quotas.maxSubscriptionsPerConnection()).isEqualTo(100);
                })
                .verifyComplete();
    }

    @ParameterizedTest(name = "{0} answering {1} {2} -> {3}")
    @CsvSource({
            "resolve_key,    401, unauthenticated, UNAUTHENTICATED",
            "resolve_key,    403, forbidden,       UNAVAILABLE",
            "resolve_topic,  404, topic_not_found, TOPIC_NOT_FOUND",
            "resolve_topic,  400, invalid_request, INVALID_REQUEST",
            "resolve_topic,  401, unauthenticated, UNAVAILABLE",
            "resolve_topic,  500, internal,        UNAVAILABLE",
            "resolve_topic,  503, unavailable,     UNAVAILABLE",
            "resolve_topic,  429, rate_limited,    UNAVAILABLE",
            "quotas,         404, not_found,       NOT_FOUND",
            "client_secrets, 404, not_found,       NOT_FOUND",
            "client_secrets, 409, no_such_code,    UNAVAILABLE",
    })
    void translatesProblemsIntoTheCatalog(String call, int status, String code, ErrorCode expected) {
        stub.forceAlways(call, RegistryStub.Forced.problem(status, code));
        CachingRegistryClient client = client(p -> p.retries = 0);

        Mono<?> lookup = switch (call) {
            case "resolve_key" -> client.resolveKey("sb_any");
            case "resolve_topic" -> client.resolveTopic("acme", "chat.x");
            case "quotas" -> client.quotas("acme");
            default -> client.clientSecrets("acme");
        };
        StepVerifier.create(lookup).expectErrorSatisfies(code(expected)).verify(VERIFY);
    }

    @Test
    void aNotFoundWithoutAProblemBodyIsNotMistakenForAMissingTopic() {
        stub.forceAlways("resolve_topic", new RegistryStub.Forced(404, "text/plain", "no route"));
        CachingRegistryClient client = client(p -> p.retries = 0);

        StepVerifier.create(client.resolveTopic("acme", "chat.x")).expectErrorSatisfies(code(ErrorCode.UNAVAILABLE)).verify(VERIFY);
    }

    @Test
    void passesTheRegistrysDetailOfANegativeAnswer() {
        CachingRegistryClient client = client();

        StepVerifier.create(client.resolveTopic("acme", "nope"))
                .expectErrorSatisfies(error -> {
                    assertThat(((SwitchboardException) error).getBody().getDetail()).isEqualTo("stub says topic_not_found");
                    assertThat(((SwitchboardException) error).getStatusCode().value()).isEqualTo(404);
                })
                .verify(VERIFY);
    }

    @Test
    void aWrongServiceTokenIsUnavailableNotTheCallersFault() {
        stub.topic("acme", "chat", "chat", 1, null);
        TestProperties properties = new TestProperties(stub.baseUrl());
        properties.serviceToken = "wrong";
        client = new CachingRegistryClient(WebClient.builder(), properties.build(), meters);

        StepVerifier.create(client.resolveTopic("acme", "chat")).expectErrorSatisfies(code(ErrorCode.UNAVAILABLE)).verify(VERIFY);
        assertThat(stub.authorizations).contains("Bearer wrong");
    }

    @Test
    void retriesA5xxAndSucceeds() {
        stub.topic("acme", "chat", "chat", 1, null);
        stub.forceOnce("resolve_topic", RegistryStub.Forced.problem(503, "unavailable"), RegistryStub.Forced.problem(502, "internal"));
        CachingRegistryClient client = client(p -> p.retries = 2);

        StepVerifier.create(client.resolveTopic("acme", "chat"))
                .assertNext(topic -> assertThat(topic.topic()).isEqualTo("chat"))
                .verifyComplete();
        assertThat(stub.hits("resolve_topic", "acme/chat")).isEqualTo(3);
    }

    @Test
    void givesUpAfterTheRetriesAndDoesNotCacheTheFailure() {
        stub.topic("acme", "chat", "chat", 1, null);
        stub.forceAlways("resolve_topic", RegistryStub.Forced.problem(500, "internal"));
        CachingRegistryClient client = client(p -> p.retries = 2);

        StepVerifier.create(client.resolveTopic("acme", "chat")).expectErrorSatisfies(code(ErrorCode.UNAVAILABLE)).verify(VERIFY);
        assertThat(stub.hits("resolve_topic", "acme/chat")).isEqualTo(3);

        stub.stopForcing("resolve_topic");
        StepVerifier.create(client.resolveTopic("acme", "chat"))
                .assertNext(topic -> assertThat(topic.topic()).isEqualTo("chat"))
                .verifyComplete();
        assertThat(stub.hits("resolve_topic", "acme/chat")).isEqualTo(4);
    }

    @Test
    void neverRetriesA4xx() {
        CachingRegistryClient client = client(p -> p.retries = 3);

        StepVerifier.create(client.resolveTopic("acme", "missing")).expectErrorSatisfies(code(ErrorCode.TOPIC_NOT_FOUND)).verify(VERIFY);
        assertThat(stub.hits("resolve_topic", "acme/missing")).isEqualTo(1);
    }

    @Test
    void anUnreachableRegistryIsUnavailableQuickly() {
        DisposableServer closed = HttpServer.create().host("127.0.0.1").port(0).bindNow();
        String deadUrl = "http://127.0.0.1:" + closed.port();
        closed.disposeNow();
        TestProperties properties = new TestProperties(deadUrl);
        client = new CachingRegistryClient(WebClient.builder(), properties.build(), meters);

        Duration took = StepVerifier.create(client.quotas("acme"))
                .expectErrorSatisfies(code(ErrorCode.UNAVAILABLE))
                .verify(VERIFY);
        assertThat(took).isLessThan(RegistryClientProperties.DEFAULT_REQUEST_TIMEOUT);
    }

    @Test
    void aHangingRegistryIsUnavailableAtTheRequestTimeout() {
        CachingRegistryClient client = client(p -> p.requestTimeout = Duration.ofMillis(300));
        stub.hang = true;

        Duration took = StepVerifier.create(client.resolveTopic("acme", "chat"))
                .expectErrorSatisfies(code(ErrorCode.UNAVAILABLE))
                .verify(VERIFY);
        assertThat(took).isBetween(Duration.ofMillis(280), Duration.ofMillis(1500));
    }

    @Test
    void concurrentMissesOfOneTopicShareOneRequest() {
        stub.topic("acme", "chat", "chat", 1, null);
        CachingRegistryClient client = client();
        stub.delay = Duration.ofMillis(300);

        StepVerifier.create(Flux.range(0, 64).flatMap(i -> client.resolveTopic("acme", "chat"), 64).collectList())
                .assertNext(answers -> assertThat(answers).hasSize(64).allMatch(topic -> topic.topic().equals("chat")))
                .expectComplete()
                .verify(VERIFY);
        assertThat(stub.hits("resolve_topic", "acme/chat")).isEqualTo(1);
    }

    @Test
    void concurrentMissesOfOneKeyShareOneRequestAndNegativesToo() {
        stub.key("sb_beta", "acme", "k2", "publish");
        CachingRegistryClient client = client();
        stub.delay = Duration.ofMillis(300);

        StepVerifier.create(Flux.range(0, 32)
                        .flatMap(i -> Mono.zip(client.resolveKey("sb_beta"),
                                client.resolveKey("sb_unknown").map(p -> "found").onErrorResume(SwitchboardException.class,
                                        e -> Mono.just(e.code().code()))), 64)
                        .collectList())
                .assertNext(answers -> assertThat(answers).hasSize(32)
                        .allMatch(pair -> pair.getT1().keyId().equals("k2") && pair.getT2().equals("unauthenticated")))
                .expectComplete()
                .verify(VERIFY);
        assertThat(stub.hits("resolve_key", "sb_beta")).isEqualTo(1);
        assertThat(stub.hits("resolve_key", "sb_unknown")).isEqualTo(1);
    }

    @Test
    void aCallerThatCancelsDoesNotCancelTheSharedRequest() {
        stub.topic("acme", "chat", "chat", 1, null);
        CachingRegistryClient client = client();
        stub.delay = Duration.ofMillis(300);

        StepVerifier.create(client.resolveTopic("acme", "chat").timeout(Duration.ofMillis(50)))
                .expectError(java.util.concurrent.TimeoutException.class)
                .verify(VERIFY);
        StepVerifier.create(client.resolveTopic("acme", "chat"))
                .assertNext(topic -> assertThat(topic.topic()).isEqualTo("chat"))
                .verifyComplete();
        assertThat(stub.hits("resolve_topic", "acme/chat")).isEqualTo(1);
    }

    @Test
    void aMissingTopicIsCachedOnlyForTheNegativeTtl() {
        Duration negativeTtl = Duration.ofMillis(400);
        stub.topic("acme", "known", "known", 1, null);
        CachingRegistryClient client = client(p -> p.negativeTtl = negativeTtl);
        StepVerifier.create(client.resolveTopic("acme", "known")).expectNextCount(1).verifyComplete();

        long start = System.nanoTime();
        StepVerifier.create(client.resolveTopic("acme", "later")).expectErrorSatisfies(code(ErrorCode.TOPIC_NOT_FOUND)).verify(VERIFY);
        StepVerifier.create(client.resolveTopic("acme", "later")).expectErrorSatisfies(code(ErrorCode.TOPIC_NOT_FOUND)).verify(VERIFY);
        assertThat(stub.hits("resolve_topic", "acme/later")).isEqualTo(1);

        // Created without a change line: only the negative TTL can make it visible.
        stub.topic("acme", "later", "later", 1, null);
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                StepVerifier.create(client.resolveTopic("acme", "later")).expectNextCount(1).expectComplete().verify(VERIFY));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(negativeTtl);
        assertThat(stub.hits("resolve_topic", "acme/later")).isEqualTo(2);

        // A positive answer outlives the negative TTL while the feed is healthy.
        StepVerifier.create(client.resolveTopic("acme", "known")).expectNextCount(1).verifyComplete();
        assertThat(stub.hits("resolve_topic", "acme/known")).isEqualTo(1);
    }

    @Test
    void theRawApiKeyIsNeverACacheKey() {
        String raw = "sb_9f86d081884c7d659a2feaa0c55ad015";
        stub.key(raw, "acme", "k1", "publish");
        CachingRegistryClient client = client();

        StepVerifier.create(client.resolveKey(raw)).expectNextCount(1).verifyComplete();
        StepVerifier.create(client.resolveKey("sb_nope")).expectError(SwitchboardException.class).verify(VERIFY);

        Set<CacheKey> keys = client.cacheKeys();
        assertThat(keys).contains(CacheKey.ApiKey.of(raw)).hasSize(2);
        assertThat(keys).allSatisfy(key -> {
            assertThat(key.toString()).doesNotContain(raw).doesNotContain("sb_nope");
            assertThat(key).isInstanceOfSatisfying(CacheKey.ApiKey.class, k -> assertThat(k.sha256()).hasSize(64));
        });
    }

    @Test
    void aBlankKeyIsUnauthenticatedWithoutAsking() {
        CachingRegistryClient client = client();

        StepVerifier.create(client.resolveKey(" ")).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(VERIFY);
        assertThat(client.cacheKeys()).isEmpty();
        assertThat(stub.hits("resolve_key", " ")).isZero();
    }
}
