package dev.switchboard.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.JsonNode;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Refused credentials are limited per client address (issue #16): past the allowance, an address's
 * {@code /v1} requests and WebSocket upgrades are refused with {@code 429 rate_limited} before any
 * credential is looked at — a valid one too — while other addresses go on, and the allowance comes
 * back with time. Each test speaks from a loopback address of its own (127.0.0.2, .3, …), since the
 * limit is per address.
 */
class AuthFailureLimitIntegrationTests {

    static TestPlatform platform;
    static TestPlatform.Key key;
    static String secret;

    @BeforeAll
    static void start() {
        // 3 refusals, then one more every 10 s (slow enough that a busy machine cannot refill one mid-test).
        platform = TestPlatform.start(1, "--switchboard.gateway.admission.auth-failure-burst=3",
                "--switchboard.gateway.admission.auth-failures-per-minute=6");
        secret = platform.createTenant("guessed");
        key = platform.createKey("guessed", "publish", "subscribe");
        platform.declareTopic("guessed", "t.*", Map.of());
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    static WebTestClient from(String localAddress) {
        HttpClient http = HttpClient.create(ConnectionProvider.newConnection()).bindAddress(() -> new InetSocketAddress(localAddress, 0));
        return WebTestClient.bindToServer(new ReactorClientHttpConnector(http)).baseUrl(platform.gatewayUrl(0))
                .responseTimeout(Duration.ofSeconds(30)).build();
    }

    static EntityExchangeResult<JsonNode> history(WebTestClient client, String bearer) {
        return client.get().uri("/v1/topics/t.one/events?after=0").header("Authorization", bearer)
                .exchange().expectBody(JsonNode.class).returnResult();
    }

    @Test
    void anAddressThatGuessesIsTurnedAwayUncheckedWhileOthersGoOn() throws InterruptedException {
        WebTestClient guesser = from("127.0.0.2");
        assertThat(history(guesser, key.bearer()).getStatus().value()).as("a valid key costs nothing").isEqualTo(200);
        for (int i = 0; i < 3; i++) {
            assertThat(history(guesser, "Bearer sb_wrong" + i).getStatus().value()).isEqualTo(401);
        }
        EntityExchangeResult<JsonNode> refused = history(guesser, "Bearer sb_wrong3");
        assertThat(refused.getStatus().value()).isEqualTo(429);
        assertThat(refused.getResponseHeaders().getContentType()).hasToString("application/problem+json");
        assertThat(refused.getResponseBody().path("code").asString()).isEqualTo("rate_limited");
        assertThat(refused.getResponseBody().path("detail").asString()).startsWith("Too many refused credentials from this address");
        long retryAfter = Long.parseLong(refused.getResponseHeaders().getFirst("Retry-After"));
        assertThat(retryAfter).isBetween(1L, 10L);
        assertThat(history(guesser, key.bearer()).getStatus().value()).as("unchecked: a valid key too").isEqualTo(429);

        assertThat(history(from("127.0.0.3"), key.bearer()).getStatus().value()).as("another address").isEqualTo(200);
        assertThat(history(from("127.0.0.3"), "Bearer sb_wrong").getStatus().value()).isEqualTo(401);

        Thread.sleep(retryAfter * 1000 + 100);
        assertThat(history(guesser, key.bearer()).getStatus().value()).as("the allowance came back").isEqualTo(200);
        // One refusal a 10 s: how many came back depends on how long this test took so far (a slow
        // machine: more than one), but never more than the burst, and then the address is stopped again.
        int allowed = 0;
        while (allowed <= 3 && history(guesser, "Bearer sb_wrong" + (4 + allowed)).getStatus().value() == 401) {
            allowed++;
        }
        assertThat(allowed).as("refusals allowed again before the next 429").isBetween(1, 3);
    }

    @Test
    void refusedConnectTokensCountAndTheUpgradeIsRefused() {
        String forged = WsClient.jwt("not-the-tenant-secret-but-long-enough-to-sign", "guessed", Instant.now().plusSeconds(300),
                List.of(">"), List.of());
        for (int i = 0; i < 3; i++) {
            try (WsClient ws = WsClient.from(platform.gatewayUrl(0), "127.0.0.4")) {
                ws.send(Map.of("op", "connect", "token", forged));
                assertThat(ws.nextOp("error").path("code").asString()).isEqualTo("unauthenticated");
                assertThat(ws.awaitClose()).isEqualTo(4001);
            }
        }
        String valid = WsClient.jwt(secret, "guessed", Instant.now().plusSeconds(300), List.of(">"), List.of());
        try (WsClient ws = WsClient.from(platform.gatewayUrl(0), "127.0.0.4")) {
            assertThat(ws.awaitClose()).as("the upgrade is refused").isEqualTo(-2);
            assertThat(ws.failure.join().getMessage()).contains("429");
        }
        try (WsClient ws = WsClient.from(platform.gatewayUrl(0), "127.0.0.5").connect(valid)) {
            assertThat(ws.subscribe("t.one", null).path("op").asString()).isEqualTo("subscribed");
        }
        assertThat(history(from("127.0.0.4"), key.bearer()).getStatus().value()).as("REST from that address too").isEqualTo(429);
    }
}
