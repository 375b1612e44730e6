package dev.switchboard.registry;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The internal API's key, secret and quota lookups, as the other services call them. */
class InternalApiIntegrationTests extends RegistryIntegrationTest {

    @Test
    void resolvesALiveKeyToItsPrincipal() {
        String t = newTenantId();
        createTenant(t);
        String key = createKey(t, "subscribe", "publish");
        service().post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("key", key))
                .exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.tenant").isEqualTo(t)
                .jsonPath("$.keyId").isEqualTo(key.substring("sb_".length(), "sb_".length() + "key_".length() + 12))
                .jsonPath("$.scopes.length()").isEqualTo(2)
                .jsonPath("$.scopes[?(@ == 'publish')]").exists()
                .jsonPath("$.scopes[?(@ == 'subscribe')]").exists()
                .jsonPath("$.key").doesNotExist();
    }

    @Test
    void unknownMalformedOrDeletedTenantsKeysAreUnauthenticated() {
        String t = newTenantId();
        createTenant(t);
        String key = createKey(t, "publish");
        for (String bad : new String[] {"", "nope", key + "x", key.substring(0, key.length() - 1), "sb_key_abcdefghijkl_" + "x".repeat(43)}) {
            assertProblem(service().post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(Map.of("key", bad)).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        }
        assertProblem(service().post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        assertProblem(service().post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"key\":").exchange(), HttpStatus.BAD_REQUEST, "invalid_request");
        assertProblem(service().post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                .exchange(), HttpStatus.BAD_REQUEST, "invalid_request");

        admin().delete().uri("/admin/v1/tenants/{t}", t).exchange().expectStatus().isNoContent().expectBody(Void.class);
        assertProblem(service().post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("key", key)).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
    }

    @Test
    void quotasAndSecretsOfUnknownTenantsAreNotFound() {
        for (String missing : new String[] {"nobody-here", "NOT_VALID"}) {
            assertProblem(service().get().uri("/internal/v1/tenants/{t}/quotas", missing).exchange(),
                    HttpStatus.NOT_FOUND, "not_found");
            assertProblem(service().get().uri("/internal/v1/tenants/{t}/client-secrets", missing).exchange(),
                    HttpStatus.NOT_FOUND, "not_found");
            assertProblem(service().get().uri("/internal/v1/tenants/{t}/topics/resolve?name=x", missing).exchange(),
                    HttpStatus.NOT_FOUND, "topic_not_found");
        }
    }

    @Test
    void quotasAreTheTenantsOwn() {
        String t = newTenantId();
        admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", t, "name", "q", "quotas", Map.of("maxSubscriptionsPerConnection", 3)))
                .exchange().expectStatus().isCreated().expectBody(Void.class);
        service().get().uri("/internal/v1/tenants/{t}/quotas", t).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.publishPerSecond").isEqualTo(1000)
                .jsonPath("$.burst").isEqualTo(2000)
                .jsonPath("$.maxConnections").isEqualTo(10_000)
                .jsonPath("$.maxSubscriptionsPerConnection").isEqualTo(3)
                .jsonPath("$.maxPayloadBytes").isEqualTo(65_536);
    }

    @Test
    void gatewaysReportTheirSocketsAndLearnTheOthers() throws Exception {
        String a = newTenantId();
        String b = newTenantId();
        String g1 = "gw-" + java.util.UUID.randomUUID();
        String g2 = "gw-" + java.util.UUID.randomUUID();
        service().put().uri("/internal/v1/gateways/{g}/connections", g1).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(a, 3, b, 1)))
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.others." + a).doesNotExist();
        service().put().uri("/internal/v1/gateways/{g}/connections", g2).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(a, 2)))
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.others." + a).isEqualTo(3).jsonPath("$.others." + b).isEqualTo(1);
        // A new report replaces the gateway's previous one: b is gone, a is 1.
        service().put().uri("/internal/v1/gateways/{g}/connections", g1).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 1_000, "counts", Map.of(a, 1, b, 0)))
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.others." + a).isEqualTo(2);
        service().put().uri("/internal/v1/gateways/{g}/connections", g2).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(a, 2)))
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.others." + a).isEqualTo(1).jsonPath("$.others." + b).doesNotExist();
        // g1 stops reporting: its report expires by itself.
        Thread.sleep(1_200);
        service().put().uri("/internal/v1/gateways/{g}/connections", g2).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of()))
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.others." + a).doesNotExist();
        assertThat(count("SELECT count(*) FROM registry.gateway_connections WHERE gateway_id IN (?, ?)", g1, g2)).isZero();
    }

    @Test
    void badConnectionReportsAreRefusedAndChangeNothing() {
        String t = newTenantId();
        String g = "gw-" + java.util.UUID.randomUUID();
        service().put().uri("/internal/v1/gateways/{g}/connections", g).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(t, 4))).exchange().expectStatus().isOk().expectBody(Void.class);
        for (Object body : new Object[] {
                Map.of("ttlMs", 10, "counts", Map.of(t, 1)),
                Map.of("ttlMs", 60_000, "counts", Map.of("Not A Tenant", 1)),
                Map.of("ttlMs", 60_000, "counts", Map.of(t, -1)),
                "{\"ttlMs\":", "[1,2]"}) {
            assertProblem(service().put().uri("/internal/v1/gateways/{g}/connections", g).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(body).exchange(), HttpStatus.BAD_REQUEST, "invalid_request");
        }
        assertProblem(service().put().uri("/internal/v1/gateways/{g}/connections", "bad id!").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of())).exchange(), HttpStatus.BAD_REQUEST, "invalid_request");
        assertProblem(admin().put().uri("/internal/v1/gateways/{g}/connections", g).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of())).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        assertThat(count("SELECT connections FROM registry.gateway_connections WHERE gateway_id = ? AND tenant_id = ?", g, t)).isEqualTo(4);
    }

    @Test
    void watchedTopicsCountWhileTheirGatewaysReportThemAndATenantWithTooManyWatchesEverything() {
        String a = newTenantId();
        String b = newTenantId();
        String g1 = "gw-" + java.util.UUID.randomUUID();
        String g2 = "gw-" + java.util.UUID.randomUUID();
        service().put().uri("/internal/v1/gateways/{g}/connections", g1).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(a, 1), "watched", Map.of(a, List.of("chat.one", "chat.two"))))
                .exchange().expectStatus().isOk().expectBody().returnResult();
        service().put().uri("/internal/v1/gateways/{g}/connections", g2).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(b, 1), "watched", Map.of(b, List.of("*"))))
                .exchange().expectStatus().isOk().expectBody().returnResult();
        assertThat(watched(a, "chat.one", "chat.three", "chat.two")).containsExactly("chat.one", "chat.two");
        assertThat(watched(b, "anything", "at.all")).as("'*': every topic of b").containsExactly("anything", "at.all");
        // The same name of another tenant is not watched; a new report replaces the old one.
        assertThat(watched(newTenantId(), "chat.one")).isEmpty();
        service().put().uri("/internal/v1/gateways/{g}/connections", g1).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(a, 1), "watched", Map.of(a, List.of("chat.two"))))
                .exchange().expectStatus().isOk().expectBody().returnResult();
        assertThat(watched(a, "chat.one", "chat.two")).containsExactly("chat.two");

        for (Object body : new Object[] {Map.of("topics", List.of("Not A Topic")), Map.of("topics", java.util.Collections.nCopies(1001, "a")), "[1]"}) {
            assertProblem(service().post().uri("/internal/v1/tenants/{t}/watched", a).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(body).exchange(), HttpStatus.BAD_REQUEST, "invalid_request");
        }
        assertProblem(service().put().uri("/internal/v1/gateways/{g}/connections", g1).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("ttlMs", 60_000, "counts", Map.of(), "watched", Map.of(a, List.of("bad topic")))).exchange(),
                HttpStatus.BAD_REQUEST, "invalid_request");
        assertThat(watched(a, "chat.two")).as("a refused report changes nothing").containsExactly("chat.two");
    }

    private List<String> watched(String tenant, String... topics) {
        JsonNode answer = service().post().uri("/internal/v1/tenants/{t}/watched", tenant).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("topics", List.of(topics))).exchange().expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        List<String> found = new java.util.ArrayList<>();
        answer.path("topics").forEach(t -> found.add(t.asString()));
        return found;
    }
}
