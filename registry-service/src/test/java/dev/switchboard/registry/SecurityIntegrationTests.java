package dev.switchboard.registry;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Who may do what: the admin token, tenant keys by scope and tenant, the service token, and no one. */
class SecurityIntegrationTests extends RegistryIntegrationTest {

    private String a;
    private String b;
    private String aAdminKey;
    private String aPublishKey;

    @BeforeEach
    void tenants() {
        a = newTenantId();
        b = newTenantId();
        createTenant(a);
        createTenant(b);
        aAdminKey = createKey(a, "admin");
        aPublishKey = createKey(a, "publish", "subscribe");
    }

    @Test
    void tenantAdminKeyManagesItsOwnTenant() {
        WebTestClient key = as(aAdminKey);
        key.get().uri("/admin/v1/tenants/{t}", a).exchange().expectStatus().isOk().expectBody(Void.class);
        key.get().uri("/admin/v1/tenants/{t}/quotas", a).exchange().expectStatus().isOk().expectBody(Void.class);
        key.get().uri("/admin/v1/tenants/{t}/keys", a).exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.items.length()").isEqualTo(2);
        key.post().uri("/admin/v1/tenants/{t}/keys", a).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("name", "more", "scopes", List.of("publish"))).exchange().expectStatus().isCreated().expectBody(Void.class);
        key.put().uri("/admin/v1/tenants/{t}/topics/{n}", a, "orders.*").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange().expectStatus().isCreated().expectBody(Void.class);
        key.get().uri("/admin/v1/tenants/{t}/topics", a).exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.items[0].name").isEqualTo("orders.*");
        key.delete().uri("/admin/v1/tenants/{t}/topics/{n}", a, "orders.*").exchange().expectStatus().isNoContent().expectBody(Void.class);
        key.post().uri("/admin/v1/tenants/{t}/client-secret", a).exchange().expectStatus().isOk().expectBody(Void.class);
    }

    @Test
    void tenantAdminKeyMayNotManageTenantsOrQuotas() {
        WebTestClient key = as(aAdminKey);
        assertProblem(key.post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", newTenantId(), "name", "x")).exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.get().uri("/admin/v1/tenants").exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.patch().uri("/admin/v1/tenants/{t}", a).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"name\":\"mine now\"}").exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.delete().uri("/admin/v1/tenants/{t}", a).exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.put().uri("/admin/v1/tenants/{t}/quotas", a).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"publishPerSecond\":1000000,\"burst\":10000000}").exchange(), HttpStatus.FORBIDDEN, "forbidden");
        // nothing changed
        getJson(admin(), "/admin/v1/tenants/{t}", a);
        assertThat(getJson(admin(), "/admin/v1/tenants/{t}", a).get("name")).isEqualTo("Tenant " + a);
        assertThat(getJson(admin(), "/admin/v1/tenants/{t}/quotas", a).get("publishPerSecond")).isEqualTo(1000);
    }

    @Test
    void anotherTenantsKeyLearnsNothing() {
        WebTestClient key = as(aAdminKey);
        String missing = newTenantId();
        List<Request> requests = List.of(
                new Request(HttpMethod.GET, "/admin/v1/tenants/%s", null),
                new Request(HttpMethod.PATCH, "/admin/v1/tenants/%s", "{\"name\":\"x\"}"),
                new Request(HttpMethod.DELETE, "/admin/v1/tenants/%s", null),
                new Request(HttpMethod.POST, "/admin/v1/tenants/%s/client-secret", null),
                new Request(HttpMethod.GET, "/admin/v1/tenants/%s/keys", null),
                new Request(HttpMethod.POST, "/admin/v1/tenants/%s/keys", "{\"name\":\"x\",\"scopes\":[\"admin\"]}"),
                new Request(HttpMethod.DELETE, "/admin/v1/tenants/%s/keys/key_abcdefghijkl", null),
                new Request(HttpMethod.GET, "/admin/v1/tenants/%s/topics", null),
                new Request(HttpMethod.PUT, "/admin/v1/tenants/%s/topics/stolen", "{}"),
                new Request(HttpMethod.GET, "/admin/v1/tenants/%s/topics/stolen", null),
                new Request(HttpMethod.DELETE, "/admin/v1/tenants/%s/topics/stolen", null),
                new Request(HttpMethod.GET, "/admin/v1/tenants/%s/quotas", null),
                new Request(HttpMethod.PUT, "/admin/v1/tenants/%s/quotas", "{}"));
        for (Request request : requests) {
            String existing = body(request.send(key, b), HttpStatus.NOT_FOUND).replace(b, "{t}");
            String absent = body(request.send(key, missing), HttpStatus.NOT_FOUND).replace(missing, "{t}");
            assertThat(existing).as(request.toString()).isEqualTo(absent).contains("\"code\":\"not_found\"");
            // a key without the admin scope learns no more
            body(request.send(as(aPublishKey), b), HttpStatus.NOT_FOUND);
        }
        assertThat(getJson(admin(), "/admin/v1/tenants/{t}", b).get("name")).isEqualTo("Tenant " + b);
        assertThat(count("SELECT count(*) FROM topics WHERE tenant_id = ?", b)).isZero();
        assertThat(count("SELECT count(*) FROM api_keys WHERE tenant_id = ?", b)).isZero();
        assertThat(count("SELECT count(*) FROM changes WHERE tenant_id = ? AND kind <> 'tenant'", b)).isZero();
    }

    @Test
    void keyWithoutAdminScopeIsForbiddenOnItsOwnTenant() {
        WebTestClient key = as(aPublishKey);
        assertProblem(key.get().uri("/admin/v1/tenants/{t}", a).exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.get().uri("/admin/v1/tenants/{t}/keys", a).exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.post().uri("/admin/v1/tenants/{t}/keys", a).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("name", "escalate", "scopes", List.of("admin"))).exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.put().uri("/admin/v1/tenants/{t}/topics/{n}", a, "x").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertProblem(key.post().uri("/admin/v1/tenants/{t}/client-secret", a).exchange(), HttpStatus.FORBIDDEN, "forbidden");
        assertThat(count("SELECT count(*) FROM api_keys WHERE tenant_id = ?", a)).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM topics WHERE tenant_id = ?", a)).isZero();
    }

    @Test
    void missingMalformedOrUnknownCredentialsAreUnauthenticated() {
        for (WebTestClient client : List.of(
                anonymous(),
                as("garbage"),
                as(""),
                as(aAdminKey + "x"),
                as("sb_key_abcdefghijkl_" + "A".repeat(43)),
                as("x".repeat(5000)),
                anonymous().mutate().defaultHeader(HttpHeaders.AUTHORIZATION, "Basic " + java.util.Base64.getEncoder()
                        .encodeToString(("admin:" + ADMIN_TOKEN).getBytes(StandardCharsets.UTF_8))).build(),
                anonymous().mutate().defaultHeader(HttpHeaders.AUTHORIZATION, ADMIN_TOKEN).build())) {
            WebTestClient.ResponseSpec response = client.get().uri("/admin/v1/tenants/{t}", a).exchange();
            response.expectHeader().valueEquals(HttpHeaders.WWW_AUTHENTICATE, "Bearer").expectBody(Void.class);
            assertProblem(client.get().uri("/admin/v1/tenants/{t}", a).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(client.post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(Map.of("id", newTenantId(), "name", "x")).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        }
        // the bearer scheme is case-insensitive
        anonymous().get().uri("/admin/v1/tenants/{t}", a).header(HttpHeaders.AUTHORIZATION, "bearer " + ADMIN_TOKEN)
                .exchange().expectStatus().isOk().expectBody(Void.class);
    }

    @Test
    void revokedKeyFailsOnTheVeryNextRequest() {
        WebTestClient key = as(aAdminKey);
        key.get().uri("/admin/v1/tenants/{t}", a).exchange().expectStatus().isOk().expectBody(Void.class);
        String id = (String) ((Map<?, ?>) ((List<?>) getJson(admin(), "/admin/v1/tenants/{t}/keys", a).get("items")).stream()
                .map(Map.class::cast)
                .filter(item -> ((List<?>) item.get("scopes")).equals(List.of("admin")))
                .findFirst().orElseThrow()).get("id");
        admin().delete().uri("/admin/v1/tenants/{t}/keys/{id}", a, id).exchange().expectStatus().isNoContent().expectBody(Void.class);
        assertProblem(key.get().uri("/admin/v1/tenants/{t}", a).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        assertProblem(service().post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("key", aAdminKey)).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
    }

    @Test
    void serviceTokenIsNoAdminCredential() {
        assertProblem(service().get().uri("/admin/v1/tenants").exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        assertProblem(service().get().uri("/admin/v1/tenants/{t}", a).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        assertProblem(service().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", newTenantId(), "name", "x")).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
    }

    @Test
    void internalApiTakesOnlyTheServiceToken() {
        for (WebTestClient client : List.of(admin(), as(aAdminKey), as(aPublishKey), anonymous(), as("garbage"))) {
            assertProblem(client.get().uri("/internal/v1/tenants/{t}/client-secrets", a).exchange(),
                    HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(client.get().uri("/internal/v1/tenants/{t}/quotas", a).exchange(),
                    HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(client.post().uri("/internal/v1/keys/resolve").contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(Map.of("key", aAdminKey)).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(client.get().uri("/internal/v1/changes").exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        }
        service().get().uri("/internal/v1/tenants/{t}/quotas", a).exchange().expectStatus().isOk().expectBody(Void.class);
    }

    @Test
    void everythingElseIsDeniedByDefault() {
        for (WebTestClient client : List.of(anonymous(), admin())) {
            assertProblem(client.get().uri("/").exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(client.get().uri("/anything").exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(client.get().uri("/actuator/env").exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(client.get().uri("/actuator").exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        }
        // an unknown admin path, once authenticated, is simply not found
        assertProblem(admin().get().uri("/admin/v1/nothing-here").exchange(), HttpStatus.NOT_FOUND, "not_found");
    }

    private record Request(HttpMethod method, String path, String body) {
        WebTestClient.ResponseSpec send(WebTestClient client, String tenant) {
            WebTestClient.RequestBodySpec spec = client.method(method).uri(String.format(path, tenant));
            return body == null ? spec.exchange() : spec.contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange();
        }
    }

    private static String body(WebTestClient.ResponseSpec response, HttpStatus status) {
        return new String(response.expectStatus().isEqualTo(status).expectBody().returnResult().getResponseBodyContent(),
                StandardCharsets.UTF_8);
    }
}
