package dev.switchboard.registry;

import dev.switchboard.testsupport.TestDatabase;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one Spring context every registry integration test shares (same properties, same database
 * registration, so the test framework caches and reuses it): a real server on a random port, real
 * PostgreSQL, short grace and heartbeat intervals so time-based behaviour is quick to observe.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=" + RegistryApplication.CONFIG_NAME,
        "switchboard.registry.admin-token=" + RegistryIntegrationTest.ADMIN_TOKEN,
        "switchboard.registry.service-token=" + RegistryIntegrationTest.SERVICE_TOKEN,
        "switchboard.registry.secret-key=" + RegistryIntegrationTest.SECRET_KEY,
        "switchboard.registry.client-secret-grace=PT2S",
        "switchboard.registry.heartbeat-interval=PT0.5S",
        "switchboard.registry.maintenance-interval=PT0.2S",
        "switchboard.registry.max-page-size=20",
        "switchboard.registry.max-request-bytes=4096",
        "switchboard.registry.revocation-barrier=PT1.5S"})
public abstract class RegistryIntegrationTest {

    static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
    static final String SERVICE_TOKEN = "test-service-token-0123456789abcdef";
    /** base64 of the 32 bytes 0x00..0x1f */
    static final String SECRET_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, "registry");
    }

    @LocalServerPort
    protected int port;

    protected String baseUrl() {
        return "http://localhost:" + port;
    }

    /** A client with no credentials. */
    protected WebTestClient anonymous() {
        return WebTestClient.bindToServer().baseUrl(baseUrl()).responseTimeout(Duration.ofSeconds(30)).build();
    }

    protected WebTestClient as(String token) {
        return anonymous().mutate().defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token).build();
    }

    protected WebTestClient admin() {
        return as(ADMIN_TOKEN);
    }

    protected WebTestClient service() {
        return as(SERVICE_TOKEN);
    }

    /** A tenant id no other test uses. */
    protected static String newTenantId() {
        return "t" + SEQUENCE.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Creates a tenant with default quotas; returns the creation answer (with its client secret). */
    protected Map<String, Object> createTenant(String id) {
        return admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", id, "name", "Tenant " + id))
                .exchange()
                .expectStatus().isCreated()
                .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {
                })
                .returnResult().getResponseBody();
    }

    /** Creates an API key; returns the key itself. */
    protected String createKey(String tenant, String... scopes) {
        Map<String, Object> body = admin().post().uri("/admin/v1/tenants/{t}/keys", tenant)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("name", "key", "scopes", List.of(scopes)))
                .exchange()
                .expectStatus().isCreated()
                .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {
                })
                .returnResult().getResponseBody();
        return (String) body.get("key");
    }

    protected Map<String, Object> getJson(WebTestClient client, String uri, Object... vars) {
        return client.get().uri(uri, vars).exchange()
                .expectStatus().isOk()
                .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {
                })
                .returnResult().getResponseBody();
    }

    /** Asserts a problem+json answer with the given status and code. */
    protected static void assertProblem(WebTestClient.ResponseSpec response, HttpStatus status, String code) {
        response.expectStatus().isEqualTo(status.value())
                .expectHeader().contentTypeCompatibleWith(MediaType.parseMediaType("application/problem+json"))
                .expectBody()
                .jsonPath("$.status").isEqualTo(status.value())
                .jsonPath("$.code").isEqualTo(code)
                .jsonPath("$.type").isEqualTo("urn:switchboard:problem:" + code)
                .jsonPath("$.detail").isNotEmpty();
    }

    /** Rows of a query, for assertions on what is stored (test thread, plain JDBC). */
    protected static List<List<Object>> sql(String query, Object... params) {
        try (Connection c = TestDatabase.get().openConnection();
             PreparedStatement s = c.prepareStatement(query)) {
            c.createStatement().execute("SET search_path TO registry");
            for (int i = 0; i < params.length; i++) {
                s.setObject(i + 1, params[i]);
            }
            List<List<Object>> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int i = 1; i <= columns; i++) {
                        row.add(rs.getObject(i));
                    }
                    rows.add(row);
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    protected static long count(String query, Object... params) {
        return ((Number) sql(query, params).get(0).get(0)).longValue();
    }

    protected static void execute(String statement, Object... params) {
        try (Connection c = TestDatabase.get().openConnection()) {
            c.createStatement().execute("SET search_path TO registry");
            try (PreparedStatement s = c.prepareStatement(statement)) {
                for (int i = 0; i < params.length; i++) {
                    s.setObject(i + 1, params[i]);
                }
                s.execute();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    protected static void assertThatNothingChanged(long before, String query, Object... params) {
        assertThat(count(query, params)).as("rows of: " + query).isEqualTo(before);
    }
}
