package dev.switchboard.registry;

import dev.switchboard.registry.crypto.ApiKeys;
import dev.switchboard.registry.crypto.SecretCipher;
import org.junit.jupiter.api.Test;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The flows an operator runs: tenant → key → topic → quotas, rotation, deletion; and what is stored. */
class AdminFlowIntegrationTests extends RegistryIntegrationTest {

    private static final ParameterizedTypeReference<Map<String, Object>> MAP = new ParameterizedTypeReference<>() {
    };

    @Test
    void tenantKeyTopicQuotaFlow() {
        String t = newTenantId();
        // tenant: created with defaults and a client secret shown once
        admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", t, "name", "Acme", "quotas", Map.of("publishPerSecond", 50, "burst", 100)))
                .exchange()
                .expectStatus().isCreated()
                .expectBody()
                .jsonPath("$.id").isEqualTo(t)
                .jsonPath("$.name").isEqualTo("Acme")
                .jsonPath("$.quotas.publishPerSecond").isEqualTo(50)
                .jsonPath("$.quotas.burst").isEqualTo(100)
                .jsonPath("$.quotas.maxConnections").isEqualTo(10_000)
                .jsonPath("$.quotas.maxSubscriptionsPerConnection").isEqualTo(100)
                .jsonPath("$.quotas.maxPayloadBytes").isEqualTo(65_536)
                .jsonPath("$.createdAt").isNotEmpty()
                .jsonPath("$.updatedAt").isNotEmpty()
                .jsonPath("$.clientSecret").isNotEmpty();
        admin().get().uri("/admin/v1/tenants/{t}", t).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.name").isEqualTo("Acme")
                .jsonPath("$.clientSecret").doesNotExist();

        // key: shown once, listed without secrets
        Map<String, Object> key = admin().post().uri("/admin/v1/tenants/{t}/keys", t).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("name", "backend", "scopes", List.of("subscribe", "publish", "admin")))
                .exchange()
                .expectStatus().isCreated()
                .expectBody(MAP).returnResult().getResponseBody();
        assertThat(key).containsKeys("id", "key", "name", "scopes", "createdAt");
        assertThat(key.get("scopes")).isEqualTo(List.of("publish", "subscribe", "admin"));
        assertThat((String) key.get("key")).startsWith("sb_" + key.get("id") + "_");
        admin().get().uri("/admin/v1/tenants/{t}/keys", t).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.items.length()").isEqualTo(1)
                .jsonPath("$.items[0].id").isEqualTo(key.get("id"))
                .jsonPath("$.items[0].name").isEqualTo("backend")
                .jsonPath("$.items[0].key").doesNotExist()
                .jsonPath("$.items[0].keyHash").doesNotExist()
                .jsonPath("$.nextCursor").isEmpty();

        // topic: declared by the tenant's own admin key, all defaults
        String tenantKey = (String) key.get("key");
        as(tenantKey).put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}")
                .exchange()
                .expectStatus().isCreated()
                .expectBody()
                .jsonPath("$.name").isEqualTo("chat.*")
                .jsonPath("$.pattern").isEqualTo(true)
                .jsonPath("$.partitions").isEqualTo(1)
                .jsonPath("$.retention").isEqualTo("P7D")
                .jsonPath("$.dedupWindow").isEqualTo("P1D")
                .jsonPath("$.defaultTtl").isEmpty()
                .jsonPath("$.maxPayloadBytes").isEqualTo(65_536)
                .jsonPath("$.schemaVersions.min").isEqualTo(1)
                .jsonPath("$.schemaVersions.max").isEqualTo(1)
                .jsonPath("$.maxLag").isEqualTo(100_000)
                .jsonPath("$.lagPolicy").isEqualTo("throttle")
                .jsonPath("$.maxAttempts").isEqualTo(5)
                .jsonPath("$.publishRate.perSecond").isEqualTo(1000)
                .jsonPath("$.publishRate.burst").isEqualTo(2000)
                .jsonPath("$.createdAt").isNotEmpty();
        // replace: every field, durations echoed readably
        as(tenantKey).put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("""
                        {"partitions":4,"retention":"PT36H","dedupWindow":"PT90M","defaultTtl":"PT30S","maxPayloadBytes":1024,
                         "schemaVersions":{"min":2,"max":3},"maxLag":5000,"lagPolicy":"shed","maxAttempts":3,
                         "publishRate":{"perSecond":10,"burst":20}}""")
                .exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.partitions").isEqualTo(4)
                .jsonPath("$.retention").isEqualTo("PT36H")
                .jsonPath("$.dedupWindow").isEqualTo("PT1H30M")
                .jsonPath("$.defaultTtl").isEqualTo("PT30S")
                .jsonPath("$.schemaVersions.min").isEqualTo(2)
                .jsonPath("$.lagPolicy").isEqualTo("shed")
                .jsonPath("$.publishRate.burst").isEqualTo(20);
        // a concrete name gets the pattern's settings
        admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.room-1").exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.name").isEqualTo("chat.room-1")
                .jsonPath("$.pattern").isEqualTo(false)
                .jsonPath("$.declaredBy").isEqualTo("chat.*")
                .jsonPath("$.partitions").isEqualTo(4);
        // partitions only grow
        assertProblem(admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"partitions\":2}").exchange(), HttpStatus.CONFLICT, "conflict");
        admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").exchange()
                .expectStatus().isOk().expectBody().jsonPath("$.partitions").isEqualTo(4).jsonPath("$.retention").isEqualTo("PT36H");

        // quotas: the tenant's key may read them, only the platform may set them
        as(tenantKey).get().uri("/admin/v1/tenants/{t}/quotas", t).exchange()
                .expectStatus().isOk().expectBody().jsonPath("$.publishPerSecond").isEqualTo(50);
        assertProblem(as(tenantKey).put().uri("/admin/v1/tenants/{t}/quotas", t).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange(), HttpStatus.FORBIDDEN, "forbidden");
        admin().put().uri("/admin/v1/tenants/{t}/quotas", t).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"maxConnections\":7}")
                .exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.maxConnections").isEqualTo(7)
                .jsonPath("$.publishPerSecond").isEqualTo(1000) // PUT replaces: missing fields take defaults
                .jsonPath("$.burst").isEqualTo(2000);
        service().get().uri("/internal/v1/tenants/{t}/quotas", t).exchange()
                .expectStatus().isOk().expectBody().jsonPath("$.maxConnections").isEqualTo(7);

        // patch: name and one quota; the rest stays
        admin().patch().uri("/admin/v1/tenants/{t}", t).contentType(MediaType.parseMediaType("application/merge-patch+json"))
                .bodyValue("{\"name\":\"Acme 2\",\"quotas\":{\"maxPayloadBytes\":2048}}")
                .exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.name").isEqualTo("Acme 2")
                .jsonPath("$.quotas.maxPayloadBytes").isEqualTo(2048)
                .jsonPath("$.quotas.maxConnections").isEqualTo(7);
        admin().patch().uri("/admin/v1/tenants/{t}", t).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"quotas\":{\"maxConnections\":null}}")
                .exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.name").isEqualTo("Acme 2")
                .jsonPath("$.quotas.maxConnections").isEqualTo(10_000)
                .jsonPath("$.quotas.maxPayloadBytes").isEqualTo(2048);

        // topic delete
        admin().delete().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").exchange().expectStatus().isNoContent().expectBody(Void.class);
        assertProblem(admin().get().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.room-1").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
        assertProblem(admin().delete().uri("/admin/v1/tenants/{t}/topics/{n}", t, "chat.*").exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");

        // key revoke
        admin().delete().uri("/admin/v1/tenants/{t}/keys/{id}", t, key.get("id")).exchange().expectStatus().isNoContent().expectBody(Void.class);
        assertProblem(admin().delete().uri("/admin/v1/tenants/{t}/keys/{id}", t, key.get("id")).exchange(),
                HttpStatus.NOT_FOUND, "not_found");
        assertProblem(as(tenantKey).get().uri("/admin/v1/tenants/{t}", t).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
    }

    @Test
    void clientSecretIsStoredEncryptedAndKeysOnlyHashed() throws Exception {
        String t = newTenantId();
        String secret = (String) createTenant(t).get("clientSecret");
        String key = createKey(t, "publish");

        List<Object> row = sql("SELECT client_secret_enc FROM tenants WHERE id = ?", t).get(0);
        byte[] stored = (byte[]) row.get(0);
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(secret);
        SecretCipher cipher = new SecretCipher(Base64.getDecoder().decode(SECRET_KEY));
        assertThat(cipher.decrypt(t, stored)).isEqualTo(secret);

        List<List<Object>> keys = sql("SELECT key_hash, id, name FROM api_keys WHERE tenant_id = ?", t);
        assertThat(keys).hasSize(1);
        assertThat((byte[]) keys.get(0).get(0)).isEqualTo(ApiKeys.hash(key));
        String everything = sql("SELECT row_to_json(k)::text FROM api_keys k WHERE tenant_id = ?", t).get(0).get(0).toString();
        assertThat(everything).doesNotContain(key).doesNotContain(key.substring(key.lastIndexOf('_') + 1));

        service().get().uri("/internal/v1/tenants/{t}/client-secrets", t).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.tenant").isEqualTo(t)
                .jsonPath("$.secrets.length()").isEqualTo(1)
                .jsonPath("$.secrets[0]").isEqualTo(secret);
    }

    @Test
    void rotatedClientSecretKeepsThePreviousOneForTheGracePeriod() throws Exception {
        String t = newTenantId();
        String first = (String) createTenant(t).get("clientSecret");
        Map<String, Object> rotated = admin().post().uri("/admin/v1/tenants/{t}/client-secret", t).exchange()
                .expectStatus().isOk()
                .expectBody(MAP).returnResult().getResponseBody();
        String second = (String) rotated.get("clientSecret");
        assertThat(second).isNotEqualTo(first);
        assertThat(rotated.get("previousValidUntil")).isNotNull();

        service().get().uri("/internal/v1/tenants/{t}/client-secrets", t).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.secrets.length()").isEqualTo(2)
                .jsonPath("$.secrets[0]").isEqualTo(second)
                .jsonPath("$.secrets[1]").isEqualTo(first);

        // the grace is 2 s in tests; afterwards only the new secret, and the old one is wiped from disk
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(6)).untilAsserted(() ->
                service().get().uri("/internal/v1/tenants/{t}/client-secrets", t).exchange()
                        .expectStatus().isOk()
                        .expectBody()
                        .jsonPath("$.secrets.length()").isEqualTo(1)
                        .jsonPath("$.secrets[0]").isEqualTo(second));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(3)).untilAsserted(() ->
                assertThat(count("SELECT count(*) FROM tenants WHERE id = ? AND previous_secret_enc IS NULL", t)).isEqualTo(1));
        assertThat(count("SELECT count(*) FROM changes WHERE tenant_id = ? AND kind = 'client_secret'", t)).isEqualTo(2);
    }

    /**
     * Deleting a tenant retires its id forever: the row stays (secrets wiped), keys and topics go,
     * and the id can never be created again.
     */
    @Test
    void deletedTenantIsGoneButItsIdIsRetiredForever() {
        String t = newTenantId();
        createTenant(t);
        String key = createKey(t, "admin");
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, "orders").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange().expectStatus().isCreated().expectBody(Void.class);

        admin().delete().uri("/admin/v1/tenants/{t}", t).exchange().expectStatus().isNoContent().expectBody(Void.class);

        assertProblem(admin().get().uri("/admin/v1/tenants/{t}", t).exchange(), HttpStatus.NOT_FOUND, "not_found");
        assertProblem(admin().delete().uri("/admin/v1/tenants/{t}", t).exchange(), HttpStatus.NOT_FOUND, "not_found");
        assertProblem(as(key).get().uri("/admin/v1/tenants/{t}/topics", t).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        assertProblem(service().get().uri("/internal/v1/tenants/{t}/client-secrets", t).exchange(), HttpStatus.NOT_FOUND, "not_found");
        assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name=orders", t).exchange(),
                HttpStatus.NOT_FOUND, "topic_not_found");
        admin().get().uri("/admin/v1/tenants?limit=20").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.items[?(@.id == '" + t + "')]").isEmpty();

        List<Object> row = sql("SELECT deleted_at IS NOT NULL, client_secret_enc IS NULL, previous_secret_enc IS NULL "
                + "FROM tenants WHERE id = ?", t).get(0);
        assertThat(row).containsExactly(true, true, true);
        assertThat(count("SELECT count(*) FROM api_keys WHERE tenant_id = ?", t)).isZero();
        assertThat(count("SELECT count(*) FROM topics WHERE tenant_id = ?", t)).isZero();

        assertProblem(admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", t, "name", "again")).exchange(), HttpStatus.CONFLICT, "conflict");
        assertThat(count("SELECT count(*) FROM tenants WHERE id = ? AND name = 'again'", t)).isZero();
    }
}
