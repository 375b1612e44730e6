package dev.switchboard.registryclient;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.RegistryChange;
import dev.switchboard.contracts.registry.Scope;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The change feed keeps the cache correct: every kind of change is seen within one second, and a
 * broken or silent feed degrades the cache to one-second answers, reopens from the last id and
 * starts from an empty cache.
 */
class ChangeFeedIntegrationTests {

    private static final Duration VERIFY = Duration.ofSeconds(5);
    private static final Duration ONE_SECOND = Duration.ofSeconds(1);

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

    /** Setup only: the test thread waits for a value it does not assert on. */
    private static <T> T load(Mono<T> lookup) {
        return lookup.block(VERIFY);
    }

    private static void withinOneSecond(ThrowingRunnable assertion) {
        await().atMost(ONE_SECOND).pollInterval(Duration.ofMillis(20)).untilAsserted(assertion);
    }

    private static void expectCode(Mono<?> lookup, ErrorCode code) {
        StepVerifier.create(lookup)
                .expectErrorSatisfies(e -> assertThat(((SwitchboardException) e).code()).isEqualTo(code))
                .verify(VERIFY);
    }

    private double disconnects(String reason) {
        var counter = meters.find(ChangeFeed.DISCONNECTS_METRIC).tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private void fillTwoTenants() {
        stub.key("sb_acme", "acme", "k1", "publish");
        stub.key("sb_globex", "globex", "g1", "publish");
        stub.topic("acme", "chat.a", "chat.*", 1, null);
        stub.topic("acme", "chat.b", "chat.*", 1, null);
        stub.topic("globex", "chat.a", "chat.*", 1, null);
        stub.secrets("acme", "s1");
        stub.secrets("globex", "g1");
        stub.quotas("acme", 100);
        stub.quotas("globex", 100);
        load(client.resolveKey("sb_acme"));
        load(client.resolveKey("sb_globex"));
        load(client.resolveTopic("acme", "chat.a"));
        load(client.resolveTopic("acme", "chat.b"));
        load(client.resolveTopic("globex", "chat.a"));
        load(client.clientSecrets("acme"));
        load(client.clientSecrets("globex"));
        load(client.quotas("acme"));
        load(client.quotas("globex"));
    }

    /** Each lookup of {@link #fillTwoTenants} asked once more, to tell what was refetched. */
    private void askEverythingAgain() {
        load(client.resolveKey("sb_acme").onErrorResume(e -> Mono.empty()));
        load(client.resolveKey("sb_globex"));
        load(client.resolveTopic("acme", "chat.a").onErrorResume(e -> Mono.empty()));
        load(client.resolveTopic("acme", "chat.b").onErrorResume(e -> Mono.empty()));
        load(client.resolveTopic("globex", "chat.a"));
        load(client.clientSecrets("acme").onErrorResume(e -> Mono.empty()));
        load(client.clientSecrets("globex"));
        load(client.quotas("acme").onErrorResume(e -> Mono.empty()));
        load(client.quotas("globex"));
    }

    private void assertHits(int acmeKey, int acmeTopics, int acmeSecrets, int acmeQuotas) {
        assertThat(stub.hits("resolve_key", "sb_acme")).as("acme key").isEqualTo(acmeKey);
        assertThat(stub.hits("resolve_topic", "acme/chat.a")).as("acme chat.a").isEqualTo(acmeTopics);
        assertThat(stub.hits("resolve_topic", "acme/chat.b")).as("acme chat.b").isEqualTo(acmeTopics);
        assertThat(stub.hits("client_secrets", "acme")).as("acme secrets").isEqualTo(acmeSecrets);
        assertThat(stub.hits("quotas", "acme")).as("acme quotas").isEqualTo(acmeQuotas);
        assertThat(stub.hits("resolve_key", "sb_globex")).as("globex key").isEqualTo(1);
        assertThat(stub.hits("resolve_topic", "globex/chat.a")).as("globex topic").isEqualTo(1);
        assertThat(stub.hits("client_secrets", "globex")).as("globex secrets").isEqualTo(1);
        assertThat(stub.hits("quotas", "globex")).as("globex quotas").isEqualTo(1);
    }

    @Test
    void aRevokedOrChangedKeyIsSeenWithinOneSecond() {
        client();
        fillTwoTenants();

        stub.key("sb_acme", "acme", "k1", "subscribe");
        stub.push("key", "acme", "k1");
        withinOneSecond(() -> StepVerifier.create(client.resolveKey("sb_acme").map(KeyPrincipal::scopes))
                .assertNext(scopes -> assertThat(scopes).containsExactly(Scope.SUBSCRIBE)).expectComplete().verify(VERIFY));

        stub.keys.remove("sb_acme");
        stub.push("key", "acme", "k1");
        withinOneSecond(() -> expectCode(client.resolveKey("sb_acme"), ErrorCode.UNAUTHENTICATED));

        askEverythingAgain();
        assertHits(3, 1, 1, 1);
    }

    /** The revocation barrier's half in the client (#16): what the cache applied is reported, and leaving is said. */
    @Test
    void theClientReportsEachChangeItAppliedAndSaysWhenItLeaves() {
        client();
        String subscriber = client.subscriber();
        assertThat(subscriber).matches("registry-client-[0-9a-f]{12}");
        stub.key("sb_acme", "acme", "k1", "subscribe");
        load(client.resolveKey("sb_acme"));
        stub.keys.remove("sb_acme");
        long id = stub.push("key", "acme", "k1");
        // Reported once the cache dropped the key: a lookup after the report cannot find it cached.
        await().atMost(ONE_SECOND).until(() -> stub.appliedReports.contains(subscriber + " " + id + " 11000"));
        expectCode(client.resolveKey("sb_acme"), ErrorCode.UNAUTHENTICATED);
        // Heartbeats are reported too (they keep the report alive), with the newest id.
        int before = stub.appliedReports.size();
        stub.heartbeat();
        await().atMost(ONE_SECOND).until(() -> stub.appliedReports.size() > before);
        assertThat(stub.appliedReports.get(stub.appliedReports.size() - 1)).isEqualTo(subscriber + " " + id + " 11000");

        client.close();
        assertThat(stub.left).containsExactly(subscriber);
    }

    @Test
    void aTopicOrPatternChangeDropsEveryTopicOfTheTenantWithinOneSecond() {
        client();
        fillTwoTenants();

        stub.topic("acme", "chat.a", "chat.*", 8, null);
        stub.topic("acme", "chat.b", "chat.*", 8, null);
        stub.push("topic", "acme", "chat.*");
        withinOneSecond(() -> {
            StepVerifier.create(client.resolveTopic("acme", "chat.a"))
                    .assertNext(t -> assertThat(t.settings().partitions()).isEqualTo(8)).expectComplete().verify(VERIFY);
            StepVerifier.create(client.resolveTopic("acme", "chat.b"))
                    .assertNext(t -> assertThat(t.settings().partitions()).isEqualTo(8)).expectComplete().verify(VERIFY);
        });

        askEverythingAgain();
        assertHits(1, 2, 1, 1);
    }

    @Test
    void aQuotaChangeIsSeenWithinOneSecond() {
        client();
        fillTwoTenants();

        stub.quotas("acme", 7);
        stub.push("quotas", "acme", null);
        withinOneSecond(() -> StepVerifier.create(client.quotas("acme"))
                .assertNext(q -> assertThat(q.publishPerSecond()).isEqualTo(7)).expectComplete().verify(VERIFY));

        askEverythingAgain();
        assertHits(1, 1, 1, 2);
    }

    @Test
    void aRotatedClientSecretIsSeenWithinOneSecond() {
        client();
        fillTwoTenants();

        stub.secrets("acme", "s2", "s1");
        stub.push("client_secret", "acme", null);
        withinOneSecond(() -> StepVerifier.create(client.clientSecrets("acme"))
                .assertNext(s -> assertThat(s.secrets()).containsExactly("s2", "s1")).expectComplete().verify(VERIFY));

        askEverythingAgain();
        assertHits(1, 1, 2, 1);
    }

    @Test
    void aDeletedTenantLosesEverythingWithinOneSecond() {
        client();
        fillTwoTenants();

        stub.keys.remove("sb_acme");
        stub.topics.remove("acme/chat.a");
        stub.topics.remove("acme/chat.b");
        stub.secrets.remove("acme");
        stub.quotas.remove("acme");
        stub.push("tenant", "acme", null);
        withinOneSecond(() -> {
            expectCode(client.resolveKey("sb_acme"), ErrorCode.UNAUTHENTICATED);
            expectCode(client.resolveTopic("acme", "chat.a"), ErrorCode.TOPIC_NOT_FOUND);
            expectCode(client.resolveTopic("acme", "chat.b"), ErrorCode.TOPIC_NOT_FOUND);
            expectCode(client.clientSecrets("acme"), ErrorCode.NOT_FOUND);
            expectCode(client.quotas("acme"), ErrorCode.NOT_FOUND);
        });

        askEverythingAgain();
        assertHits(2, 2, 2, 2);
    }

    @Test
    void theResetLineDropsTheWholeCache() {
        client();
        fillTwoTenants();

        stub.push("tenant", CachingRegistryClient.RESET_TENANT, null);
        withinOneSecond(() -> assertThat(client.cacheKeys()).isEmpty());

        askEverythingAgain();
        assertThat(stub.hits("resolve_key", "sb_globex")).isEqualTo(2);
        assertThat(stub.hits("quotas", "globex")).isEqualTo(2);
        assertThat(stub.hits("resolve_topic", "acme/chat.a")).isEqualTo(2);
    }

    @Test
    void aKindThisClientDoesNotKnowDropsThatTenant() {
        client();
        fillTwoTenants();

        stub.push("webhook", "acme", "w1");
        withinOneSecond(() -> assertThat(client.cacheKeys()).noneMatch(key -> "acme".equals(key.tenant())));
        assertThat(client.feedHealthy()).isTrue();

        askEverythingAgain();
        assertHits(2, 2, 2, 2);
    }

    @Test
    void aKeyLookupInFlightDuringAKeyChangeIsNotKept() {
        stub.key("sb_acme", "acme", "k1", "publish");
        client();
        stub.delay = Duration.ofMillis(400);

        CompletableFuture<KeyPrincipal> inFlight = client.resolveKey("sb_acme").toFuture();
        await().atMost(ONE_SECOND).until(() -> stub.hits("resolve_key", "sb_acme") == 1);
        stub.key("sb_acme", "acme", "k1", "subscribe");
        stub.push("key", "acme", "k1");
        withinOneSecond(() -> assertThat(client.cacheKeys()).isEmpty());

        await().atMost(VERIFY).until(inFlight::isDone);
        stub.delay = Duration.ZERO;
        StepVerifier.create(client.resolveKey("sb_acme").map(KeyPrincipal::scopes))
                .assertNext(scopes -> assertThat(scopes).containsExactly(Scope.SUBSCRIBE))
                .verifyComplete();
        assertThat(stub.hits("resolve_key", "sb_acme")).isEqualTo(2);
    }

    @Test
    void changesIsAHotViewWithoutHeartbeats() {
        client();

        StepVerifier.create(client.changes().take(2))
                .then(() -> {
                    stub.heartbeat();
                    stub.push("key", "acme", "k9");
                    stub.heartbeat();
                    stub.push("tenant", "globex", null);
                })
                .assertNext(change -> {
                    assertThat(change.id()).isEqualTo(1);
                    assertThat(change.kind()).isEqualTo(RegistryChange.Kind.KEY);
                    assertThat(change.tenant()).isEqualTo("acme");
                    assertThat(change.ref()).isEqualTo("k9");
                    assertThat(change.at()).isNotNull();
                })
                .assertNext(change -> assertThat(change).extracting(RegistryChange::kind, RegistryChange::tenant, RegistryChange::ref)
                        .containsExactly(RegistryChange.Kind.TENANT, "globex", null))
                .expectComplete()
                .verify(VERIFY);
        assertThat(client.lastChangeId()).isEqualTo(2);
    }

    @Test
    void heartbeatsKeepTheFeedHealthyAndTheCacheWarm() {
        stub.heartbeatEvery(Duration.ofMillis(100));
        stub.quotas("acme", 1);
        client(p -> {
            p.feedHeartbeat = Duration.ofMillis(200);
            p.degradedMaxAge = Duration.ofMillis(200);
            p.feedLivenessTimeout = Duration.ofMillis(600);
        });
        load(client.quotas("acme"));

        // Two liveness timeouts and six degraded-max-ages of heartbeats only.
        await().during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(2)).until(client::feedHealthy);

        StepVerifier.create(client.quotas("acme")).expectNextCount(1).verifyComplete();
        assertThat(stub.hits("quotas", "acme")).isEqualTo(1);
        assertThat(stub.feedRequests).hasSize(1);
        assertThat(meters.find(ChangeFeed.DISCONNECTS_METRIC).counters()).isEmpty();
        assertThat(meters.get(ChangeFeed.HEALTHY_METRIC).gauge().value()).isEqualTo(1);
    }

    @Test
    void aSilentFeedDegradesTheCacheThenIsReopened() {
        stub.heartbeatEvery(Duration.ofMillis(100));
        stub.quotas("acme", 1);
        client(p -> {
            p.feedHeartbeat = Duration.ofMillis(200);
            p.degradedMaxAge = Duration.ofMillis(300);
            p.feedLivenessTimeout = Duration.ofMillis(1500);
        });
        long lastId = stub.push("quotas", "globex", null);
        await().atMost(ONE_SECOND).until(() -> client.lastChangeId() == lastId);
        load(client.quotas("acme"));

        stub.silent = true;
        // Untrusted after heartbeat + degraded-max-age of silence, long before the liveness timeout.
        await().atMost(ONE_SECOND).until(() -> !client.feedHealthy());
        assertThat(stub.feedRequests).hasSize(1);
        await().atMost(ONE_SECOND).untilAsserted(() -> {
            StepVerifier.create(client.quotas("acme")).expectNextCount(1).verifyComplete();
            assertThat(stub.hits("quotas", "acme")).isEqualTo(2);
        });

        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(stub.feedRequests).containsExactly(0L, lastId));
        assertThat(disconnects("silent")).isEqualTo(1);
        stub.silent = false;
        await().during(Duration.ofMillis(500)).atMost(ONE_SECOND).until(client::feedHealthy);
        assertThat(stub.feedRequests).hasSize(2);
    }

    @Test
    void aBrokenFeedDegradesTheCacheReopensFromTheLastIdAndDropsTheCache() {
        stub.topic("acme", "a", "a", 1, null);
        stub.topic("acme", "b", "b", 1, null);
        client();
        stub.push("topic", "globex", "x");
        long lastId = stub.push("topic", "globex", "y");
        await().atMost(ONE_SECOND).until(() -> client.lastChangeId() == lastId);

        long loaded = System.nanoTime();
        load(client.resolveTopic("acme", "a"));

        StepVerifier changes = StepVerifier.create(client.changes().take(2))
                .assertNext(reset -> assertThat(reset).extracting(RegistryChange::kind, RegistryChange::tenant)
                        .containsExactly(RegistryChange.Kind.TENANT, CachingRegistryClient.RESET_TENANT))
                .assertNext(missed -> assertThat(missed.id()).isEqualTo(lastId + 1))
                .expectComplete()
                .verifyLater();

        stub.feedAvailable = false;
        stub.breakFeeds();
        await().atMost(ONE_SECOND).until(() -> !client.feedHealthy());

        // Degraded: the entry is served until it is one second old, then fetched again.
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            StepVerifier.create(client.resolveTopic("acme", "a")).expectNextCount(1).verifyComplete();
            assertThat(stub.hits("resolve_topic", "acme/a")).isEqualTo(2);
        });
        // At least a second (the entry was served while young), far less than max-age. The upper
        // bound leaves room for a loaded build machine.
        Duration refetchedAfter = Duration.ofNanos(System.nanoTime() - loaded);
        assertThat(refetchedAfter).isBetween(ONE_SECOND, Duration.ofMillis(2500));

        load(client.resolveTopic("acme", "b"));
        stub.push("topic", "acme", "missed-while-down");
        assertThat(stub.feedRequests).allMatch(after -> after == 0 || after == lastId);

        stub.feedAvailable = true;
        await().atMost(Duration.ofSeconds(2)).until(client::feedHealthy);
        assertThat(stub.feedRequests.get(stub.feedRequests.size() - 1)).isEqualTo(lastId);
        await().atMost(ONE_SECOND).until(() -> client.lastChangeId() == lastId + 1);

        // Loaded a moment ago, but before the gap closed: dropped on reopening.
        StepVerifier.create(client.resolveTopic("acme", "b")).expectNextCount(1).verifyComplete();
        assertThat(stub.hits("resolve_topic", "acme/b")).isEqualTo(2);
        changes.verify(VERIFY);
        assertThat(disconnects("broken")).isEqualTo(1);
        assertThat(disconnects("rejected")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aFeedTheRegistryEndsIsReopened() {
        client();
        long lastId = stub.push("quotas", "acme", null);
        await().atMost(ONE_SECOND).until(() -> client.lastChangeId() == lastId);

        stub.endFeeds();
        await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(stub.feedRequests).containsExactly(0L, lastId));
        await().atMost(ONE_SECOND).until(client::feedHealthy);
        assertThat(disconnects("closed")).isEqualTo(1);
    }

    @Test
    void closeStopsTheFeedAndCompletesChanges() {
        client();
        await().atMost(ONE_SECOND).until(() -> stub.openFeeds() == 1);

        StepVerifier changes = StepVerifier.create(client.changes()).expectComplete().verifyLater();
        client.close();

        changes.verify(VERIFY);
        assertThat(client.isRunning()).isFalse();
        assertThat(client.feedHealthy()).isFalse();
        await().atMost(ONE_SECOND).until(() -> stub.openFeeds() == 0);
    }
}
