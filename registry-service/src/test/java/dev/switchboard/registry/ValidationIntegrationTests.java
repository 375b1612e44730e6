package dev.switchboard.registry;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every class of bad input is refused with a problem of the catalog, and the refused request
 * changes nothing: the tenant's row, keys, topics and change rows read back the same.
 */
class ValidationIntegrationTests extends RegistryIntegrationTest {

    private String t;

    @BeforeEach
    void tenant() {
        t = newTenantId();
        createTenant(t);
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"partitions\":2}").exchange().expectStatus().isCreated().expectBody(Void.class);
    }

    /** Everything stored about tenant {@code t}, plus how many tenants exist. */
    private String state() {
        return sql("SELECT row_to_json(x)::text FROM tenants x WHERE id = ?", t)
                + "|" + sql("SELECT row_to_json(k)::text FROM api_keys k WHERE tenant_id = ? ORDER BY id", t)
                + "|" + sql("SELECT row_to_json(p)::text FROM topics p WHERE tenant_id = ? ORDER BY name", t)
                + "|" + count("SELECT count(*) FROM changes WHERE tenant_id = ?", t)
                + "|" + count("SELECT count(*) FROM tenants");
    }

    private void rejected(WebTestClient.ResponseSpec response, HttpStatus status, String code, String before) {
        assertProblem(response, status, code);
        assertThat(state()).as("nothing changed").isEqualTo(before);
    }

    private WebTestClient.ResponseSpec postTenant(String json) {
        return admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON).bodyValue(json).exchange();
    }

    private WebTestClient.ResponseSpec putTopic(String name, String json) {
        return admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, name).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(json).exchange();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"id\":\"Acme\",\"name\":\"x\"}",
            "{\"id\":\"-acme\",\"name\":\"x\"}",
            "{\"id\":\"ac.me\",\"name\":\"x\"}",
            "{\"id\":\"ac me\",\"name\":\"x\"}",
            "{\"id\":\"\",\"name\":\"x\"}",
            "{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"name\":\"x\"}",
            "{\"id\":5,\"name\":\"x\"}",
            "{\"name\":\"x\"}",
            "{\"id\":\"fresh-1\"}",
            "{\"id\":\"fresh-1\",\"name\":\"\"}",
            "{\"id\":\"fresh-1\",\"name\":\"   \"}",
            "{\"id\":\"fresh-1\",\"name\":\"bell\\u0007\"}",
            "{\"id\":\"fresh-1\",\"name\":42}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"extra\":1}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"quotas\":{\"publishPerSecond\":0}}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"quotas\":{\"publishPerSecond\":-5}}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"quotas\":{\"maxConnections\":1000000000000}}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"quotas\":{\"maxPayloadBytes\":\"big\"}}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"quotas\":{\"publishPerSecond\":10,\"burst\":5}}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"quotas\":{\"bogus\":1}}",
            "{\"id\":\"fresh-1\",\"name\":\"x\",\"quotas\":[]}",
            "{\"id\":\"fresh-1\",\"name\":\"x\"",
            "[{\"id\":\"fresh-1\",\"name\":\"x\"}]",
            "\"fresh-1\"",
            "not json"})
    void badTenantsAreRefused(String json) {
        String before = state();
        rejected(postTenant(json), HttpStatus.BAD_REQUEST, "invalid_request", before);
        assertThat(count("SELECT count(*) FROM tenants WHERE id = 'fresh-1'")).isZero();
    }

    @Test
    void nameTooLongIsRefused() {
        String before = state();
        rejected(postTenant("{\"id\":\"fresh-2\",\"name\":\"" + "n".repeat(201) + "\"}"), HttpStatus.BAD_REQUEST,
                "invalid_request", before);
    }

    @Test
    void duplicateIdIsAConflict() {
        String before = state();
        rejected(postTenant("{\"id\":\"" + t + "\",\"name\":\"other\"}"), HttpStatus.CONFLICT, "conflict", before);
    }

    @Test
    void wrongContentTypeEmptyAndOversizedBodiesAreRefused() {
        String before = state();
        rejected(admin().post().uri("/admin/v1/tenants").contentType(MediaType.TEXT_PLAIN)
                .bodyValue("{\"id\":\"fresh-3\",\"name\":\"x\"}").exchange(), HttpStatus.BAD_REQUEST, "invalid_request", before);
        rejected(admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_XML)
                .bodyValue("<tenant/>").exchange(), HttpStatus.BAD_REQUEST, "invalid_request", before);
        rejected(admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON).exchange(),
                HttpStatus.BAD_REQUEST, "invalid_request", before);
        rejected(admin().patch().uri("/admin/v1/tenants/{t}", t).contentType(MediaType.TEXT_PLAIN)
                .bodyValue("{\"name\":\"y\"}").exchange(), HttpStatus.BAD_REQUEST, "invalid_request", before);
        String huge = "{\"id\":\"fresh-3\",\"name\":\"" + "n".repeat(5000) + "\"}";
        rejected(postTenant(huge), HttpStatus.PAYLOAD_TOO_LARGE, "payload_too_large", before);
        rejected(putTopic("big", "{\"partitions\":1" + " ".repeat(5000) + "}"), HttpStatus.PAYLOAD_TOO_LARGE,
                "payload_too_large", before);
        rejected(admin().patch().uri("/admin/v1/tenants/{t}", t).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"name\":\"" + "n".repeat(5000) + "\"}").exchange(), HttpStatus.PAYLOAD_TOO_LARGE,
                "payload_too_large", before);
    }

    @Test
    void aWrongMethodIs405WithTheMethodsThePathAllows() {
        String before = state();
        WebTestClient.ResponseSpec collection = admin().delete().uri("/admin/v1/tenants").exchange();
        collection.expectHeader().value(HttpHeaders.ALLOW, allow -> assertThat(allow.split(", *")).containsExactlyInAnyOrder("GET", "POST"));
        rejected(collection, HttpStatus.METHOD_NOT_ALLOWED, "method_not_allowed", before);
        WebTestClient.ResponseSpec key = admin().put().uri("/admin/v1/tenants/{t}/keys", t)
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"name\":\"k\",\"scopes\":[\"admin\"]}").exchange();
        key.expectHeader().value(HttpHeaders.ALLOW, allow -> assertThat(allow.split(", *")).containsExactlyInAnyOrder("GET", "POST"));
        rejected(key, HttpStatus.METHOD_NOT_ALLOWED, "method_not_allowed", before);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"id\":\"x\"}",
            "{\"name\":null}",
            "{\"name\":\"\"}",
            "{\"quotas\":{\"burst\":0}}",
            "{\"quotas\":{\"publishPerSecond\":5000}}",
            "{\"quotas\":\"none\"}",
            "[]"})
    void badPatchesAreRefused(String json) {
        String before = state();
        rejected(admin().patch().uri("/admin/v1/tenants/{t}", t).contentType(MediaType.APPLICATION_JSON).bodyValue(json)
                .exchange(), HttpStatus.BAD_REQUEST, "invalid_request", before);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"publishPerSecond\":0}",
            "{\"publishPerSecond\":-1}",
            "{\"publishPerSecond\":1000001,\"burst\":10000000}",
            "{\"burst\":10000001}",
            "{\"publishPerSecond\":100,\"burst\":99}",
            "{\"maxConnections\":0}",
            "{\"maxConnections\":10000001}",
            "{\"maxSubscriptionsPerConnection\":10001}",
            "{\"maxPayloadBytes\":1048577}",
            "{\"maxPayloadBytes\":1.5}",
            "{\"maxPayloadBytes\":99999999999999999999999}",
            "{\"maxPayloadBytes\":true}",
            "{\"unknown\":1}"})
    void badQuotasAreRefused(String json) {
        String before = state();
        rejected(admin().put().uri("/admin/v1/tenants/{t}/quotas", t).contentType(MediaType.APPLICATION_JSON).bodyValue(json)
                .exchange(), HttpStatus.BAD_REQUEST, "invalid_request", before);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Chat", "chat..x", ".chat", "chat.", "chat.>.x", "*x", "chat.**", "chat.rôom", "a>"})
    void badTopicNamesAreRefused(String name) {
        String before = state();
        rejected(putTopic(name, "{}"), HttpStatus.BAD_REQUEST, "invalid_request", before);
        assertProblem(admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, name).exchange(),
                HttpStatus.BAD_REQUEST, "invalid_request");
    }

    @Test
    void tooLongTopicNameIsRefused() {
        String before = state();
        rejected(putTopic("a" + ".b".repeat(64), "{}"), HttpStatus.BAD_REQUEST, "invalid_request", before);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"partitions\":0}",
            "{\"partitions\":257}",
            "{\"partitions\":-1}",
            "{\"partitions\":\"3\"}",
            "{\"partitions\":2.5}",
            "{\"retention\":\"7 days\"}",
            "{\"retention\":\"P7X\"}",
            "{\"retention\":\"-P1D\"}",
            "{\"retention\":\"PT30S\"}",
            "{\"retention\":\"P3651D\"}",
            "{\"retention\":\"P99999999999999D\"}",
            "{\"retention\":7}",
            "{\"retention\":\"PT1.0005S\"}",
            "{\"dedupWindow\":\"P31D\"}",
            "{\"dedupWindow\":\"-PT1S\"}",
            "{\"retention\":\"PT1H\",\"dedupWindow\":\"PT2H\"}",
            "{\"defaultTtl\":\"PT0S\"}",
            "{\"defaultTtl\":\"PT0.5S\"}",
            "{\"retention\":\"PT1H\",\"defaultTtl\":\"PT2H\"}",
            "{\"maxPayloadBytes\":0}",
            "{\"maxPayloadBytes\":2000000}",
            "{\"schemaVersions\":{\"min\":0,\"max\":1}}",
            "{\"schemaVersions\":{\"min\":3,\"max\":2}}",
            "{\"schemaVersions\":{\"min\":1,\"max\":1000001}}",
            "{\"schemaVersions\":{\"min\":2}}",
            "{\"schemaVersions\":{\"from\":1}}",
            "{\"schemaVersions\":7}",
            "{\"maxLag\":0}",
            "{\"maxLag\":10000000001}",
            "{\"lagPolicy\":\"drop\"}",
            "{\"lagPolicy\":\"THROTTLE\"}",
            "{\"maxAttempts\":0}",
            "{\"maxAttempts\":101}",
            "{\"publishRate\":{\"perSecond\":0,\"burst\":1}}",
            "{\"publishRate\":{\"perSecond\":100,\"burst\":50}}",
            "{\"publishRate\":{\"perSecond\":5000}}",
            "{\"publishRate\":{\"perSecond\":1,\"burst\":10000001}}",
            "{\"retension\":\"P1D\"}",
            "{\"partitions\":1",
            "[]"})
    void badTopicSettingsAreRefused(String json) {
        String before = state();
        // a new declaration and a replacement of the existing one are refused alike
        rejected(putTopic("orders", json), HttpStatus.BAD_REQUEST, "invalid_request", before);
        rejected(putTopic("chat.*", json), HttpStatus.BAD_REQUEST, "invalid_request", before);
    }

    @Test
    void rejectionsSayWhatIsWrong() {
        putTopic("orders", "{\"retention\":\"PT1H\",\"dedupWindow\":\"PT2H\"}").expectBody()
                .jsonPath("$.detail").isEqualTo("dedupWindow (PT2H) must not be longer than retention (PT1H).");
        putTopic("orders", "{\"partitions\":0}").expectBody()
                .jsonPath("$.detail").isEqualTo("partitions must be an integer from 1 to 256, got 0.");
        putTopic("orders", "{\"retention\":\"7 days\"}").expectBody()
                .jsonPath("$.detail").isEqualTo("retention must be an ISO-8601 duration such as P7D or PT30M, got \"7 days\".");
        putTopic("orders", "{\"publishRate\":{\"perSecond\":100,\"burst\":50}}").expectBody()
                .jsonPath("$.detail").isEqualTo("publishRate.burst (50) must be at least publishRate.perSecond (100).");
        putTopic("orders", "{\"retension\":\"P1D\"}").expectBody()
                .jsonPath("$.detail").value(detail -> assertThat((String) detail).startsWith("Unknown field 'retension'"));
        admin().put().uri("/admin/v1/tenants/{t}/quotas", t).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"maxConnections\":0}").exchange().expectBody()
                .jsonPath("$.detail").isEqualTo("maxConnections must be an integer from 1 to 10000000, got 0.");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"scopes\":[\"publish\"]}",
            "{\"name\":\"k\"}",
            "{\"name\":\"k\",\"scopes\":[]}",
            "{\"name\":\"k\",\"scopes\":[\"write\"]}",
            "{\"name\":\"k\",\"scopes\":\"publish\"}",
            "{\"name\":\"k\",\"scopes\":[1]}",
            "{\"name\":\"k\",\"scopes\":[\"publish\"],\"key\":\"sb_mine\"}"})
    void badKeysAreRefused(String json) {
        String before = state();
        rejected(admin().post().uri("/admin/v1/tenants/{t}/keys", t).contentType(MediaType.APPLICATION_JSON).bodyValue(json)
                .exchange(), HttpStatus.BAD_REQUEST, "invalid_request", before);
    }

    @Test
    void unknownTenantsAreNotFound() {
        String before = state();
        for (String missing : List.of("nobody-here", "Not-A-Valid-Id")) {
            assertProblem(admin().get().uri("/admin/v1/tenants/{t}", missing).exchange(), HttpStatus.NOT_FOUND, "not_found");
            rejected(admin().patch().uri("/admin/v1/tenants/{t}", missing).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue("{\"name\":\"x\"}").exchange(), HttpStatus.NOT_FOUND, "not_found", before);
            rejected(admin().delete().uri("/admin/v1/tenants/{t}", missing).exchange(), HttpStatus.NOT_FOUND, "not_found", before);
            rejected(admin().post().uri("/admin/v1/tenants/{t}/client-secret", missing).exchange(),
                    HttpStatus.NOT_FOUND, "not_found", before);
            assertProblem(admin().get().uri("/admin/v1/tenants/{t}/keys", missing).exchange(), HttpStatus.NOT_FOUND, "not_found");
            rejected(admin().post().uri("/admin/v1/tenants/{t}/keys", missing).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(Map.of("name", "k", "scopes", List.of("publish"))).exchange(), HttpStatus.NOT_FOUND, "not_found", before);
            rejected(admin().delete().uri("/admin/v1/tenants/{t}/keys/key_abcdefghijkl", missing).exchange(),
                    HttpStatus.NOT_FOUND, "not_found", before);
            assertProblem(admin().get().uri("/admin/v1/tenants/{t}/topics", missing).exchange(), HttpStatus.NOT_FOUND, "not_found");
            rejected(admin().put().uri("/admin/v1/tenants/{t}/topics/orders", missing).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue("{}").exchange(), HttpStatus.NOT_FOUND, "not_found", before);
            assertProblem(admin().get().uri("/admin/v1/tenants/{t}/topics/orders", missing).exchange(), HttpStatus.NOT_FOUND, "not_found");
            rejected(admin().delete().uri("/admin/v1/tenants/{t}/topics/orders", missing).exchange(),
                    HttpStatus.NOT_FOUND, "not_found", before);
            assertProblem(admin().get().uri("/admin/v1/tenants/{t}/quotas", missing).exchange(), HttpStatus.NOT_FOUND, "not_found");
            rejected(admin().put().uri("/admin/v1/tenants/{t}/quotas", missing).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue("{}").exchange(), HttpStatus.NOT_FOUND, "not_found", before);
        }
        assertThat(count("SELECT count(*) FROM tenants WHERE id IN ('nobody-here', 'Not-A-Valid-Id')")).isZero();
    }

    @Test
    void unknownKeysAndTopicsAreNotFound() {
        String before = state();
        rejected(admin().delete().uri("/admin/v1/tenants/{t}/keys/{id}", t, "key_abcdefghijkl").exchange(),
                HttpStatus.NOT_FOUND, "not_found", before);
        rejected(admin().delete().uri("/admin/v1/tenants/{t}/keys/{id}", t, "whatever").exchange(),
                HttpStatus.NOT_FOUND, "not_found", before);
        rejected(admin().delete().uri("/admin/v1/tenants/{t}/topics/{n}", t, "orders").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found", before);
        assertProblem(admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "orders").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
        // a pattern is never "effective": only its exact declaration is found
        assertProblem(admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.x.*").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
    }
}
