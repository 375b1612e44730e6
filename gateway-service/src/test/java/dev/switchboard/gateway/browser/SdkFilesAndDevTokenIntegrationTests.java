package dev.switchboard.gateway.browser;

import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.switchboard.gateway.TestPlatform;
import dev.switchboard.leaks.LeakDetectionLevel;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Over plain HTTP, no browser: the SDK files are served without credentials and with the right
 * content types in every mode; the demo page and {@code POST /dev/token} (which mints verifiable
 * tokens) exist in development mode only.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
@LeakDetectionLevel(ResourceLeakDetector.Level.PARANOID)
class SdkFilesAndDevTokenIntegrationTests {

    static TestPlatform platform;
    static String secret;
    static WebTestClient devOff;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1, "--switchboard.gateway.dev=true");
        ConfigurableApplicationContext production = platform.startGateway();
        devOff = WebTestClient.bindToServer().baseUrl(TestPlatform.url(production)).responseTimeout(Duration.ofSeconds(30)).build();
        secret = platform.createTenant("sdkfiles");
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void sdkIsServedWithoutCredentialsWithItsContentTypesInEveryMode() {
        for (WebTestClient gateway : List.of(platform.gatewayClient(0), devOff)) {
            String js = gateway.get().uri("/sdk/switchboard.js").exchange()
                    .expectStatus().isOk()
                    .expectHeader().contentType("text/javascript;charset=UTF-8")
                    .expectHeader().valueEquals("Cache-Control", "no-cache")
                    .expectBody(String.class).returnResult().getResponseBody();
            assertThat(js).contains("export function connect(", "export class SwitchboardClient");
            String types = gateway.get().uri("/sdk/switchboard.d.ts").exchange()
                    .expectStatus().isOk()
                    .expectHeader().contentType("text/plain;charset=UTF-8")
                    .expectBody(String.class).returnResult().getResponseBody();
            assertThat(types).contains("export function connect(options: ClientOptions | TokenSource): SwitchboardClient;");
        }
        // Nothing else becomes public with them.
        devOff.get().uri("/sdk/other.js").exchange().expectStatus().isUnauthorized().expectBody(Void.class);
        devOff.get().uri("/v1/topics/x/events").exchange().expectStatus().isUnauthorized().expectBody(Void.class);
    }

    @Test
    void demoPageIsServedInDevelopmentModeOnly() {
        for (String path : List.of("/", "/index.html", "/demo.js")) {
            devOff.get().uri(path).exchange()
                    .expectStatus().isNotFound()
                    .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody().jsonPath("$.code").isEqualTo("not_found");
        }
        WebTestClient dev = platform.gatewayClient(0);
        dev.get().uri("/").exchange()
                .expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith(MediaType.TEXT_HTML)
                .expectHeader().valueEquals("Cache-Control", "no-cache")
                .expectBody(String.class).value(html -> assertThat(html).contains("<script type=\"module\" src=\"/demo.js\">"));
        dev.get().uri("/demo.js").exchange()
                .expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith("text/javascript")
                .expectHeader().valueEquals("Cache-Control", "no-cache")
                .expectBody(String.class).value(js -> assertThat(js).contains("from \"/sdk/switchboard.js\""));
    }

    @Test
    void devTokenMintsAJwtSignedWithTheTenantsClientSecret() throws Exception {
        JsonNode body = platform.gatewayClient(0).post().uri("/dev/token").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("tenant", "sdkfiles", "sub", "alice", "subscribe", List.of("chat.*"), "publish", List.of("chat.room-1"),
                        "ttlSeconds", 120))
                .exchange().expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        SignedJWT jwt = SignedJWT.parse(body.get("token").asString());
        assertThat(jwt.verify(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)))).isTrue();
        assertThat(jwt.getHeader().getAlgorithm().getName()).isEqualTo("HS256");
        var claims = jwt.getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo("alice");
        assertThat(claims.getStringClaim("tid")).isEqualTo("sdkfiles");
        assertThat(claims.getStringListClaim("subscribe")).containsExactly("chat.*");
        assertThat(claims.getStringListClaim("publish")).containsExactly("chat.room-1");
        Instant expiresAt = Instant.parse(body.get("expiresAt").asString());
        assertThat(claims.getExpirationTime().toInstant().getEpochSecond()).isEqualTo(expiresAt.getEpochSecond());
        assertThat(Duration.between(claims.getIssueTime().toInstant(), expiresAt)).isEqualTo(Duration.ofSeconds(120));
    }

    @Test
    void devTokenRefusesBadRequestsAndUnknownTenants() {
        for (Map<String, Object> bad : List.of(
                Map.<String, Object>of("tenant", "Not A Tenant"),
                Map.<String, Object>of("tenant", "sdkfiles", "subscribe", List.of("chat..x")),
                Map.<String, Object>of("tenant", "sdkfiles", "ttlSeconds", 0),
                Map.<String, Object>of("tenant", "sdkfiles", "ttlSeconds", 86401))) {
            platform.gatewayClient(0).post().uri("/dev/token").contentType(MediaType.APPLICATION_JSON).bodyValue(bad)
                    .exchange().expectStatus().isBadRequest()
                    .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody().jsonPath("$.code").isEqualTo("invalid_request");
        }
        platform.gatewayClient(0).post().uri("/dev/token").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("tenant", "no-such-tenant"))
                .exchange().expectStatus().isNotFound()
                .expectBody().jsonPath("$.code").isEqualTo("not_found");
    }

    @Test
    void withoutDevModeThereIsNoTokenEndpoint() throws ClassNotFoundException {
        Class<?> controller = Class.forName("dev.switchboard.gateway.dev.DevTokenController");
        devOff.post().uri("/dev/token").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("tenant", "sdkfiles", "subscribe", List.of(">")))
                .exchange().expectStatus().isNotFound().expectBody(Void.class);
        ConfigurableApplicationContext production = platform.gateway(1);
        assertThat(production.getBeanNamesForType(controller)).isEmpty();
        assertThat(platform.gateway(0).getBeanNamesForType(controller)).hasSize(1);
    }
}
