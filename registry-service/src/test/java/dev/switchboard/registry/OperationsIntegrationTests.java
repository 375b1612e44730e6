package dev.switchboard.registry;

import org.junit.jupiter.api.Test;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What operators and tooling see: the OpenAPI document, health probes, metrics, and nothing more. */
class OperationsIntegrationTests extends RegistryIntegrationTest {

    @Test
    void openApiDescribesEveryAdminEndpointWithBearerAuth() {
        Map<String, Object> doc = anonymous().get().uri("/v3/api-docs").exchange()
                .expectStatus().isOk()
                .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {
                })
                .returnResult().getResponseBody();
        Map<String, Object> paths = map(doc.get("paths"));
        assertThat(paths.keySet()).containsExactlyInAnyOrder(
                "/admin/v1/tenants",
                "/admin/v1/tenants/{tenant}",
                "/admin/v1/tenants/{tenant}/client-secret",
                "/admin/v1/tenants/{tenant}/keys",
                "/admin/v1/tenants/{tenant}/keys/{id}",
                "/admin/v1/tenants/{tenant}/topics",
                "/admin/v1/tenants/{tenant}/topics/{name}",
                "/admin/v1/tenants/{tenant}/quotas");
        assertThat(methods(paths, "/admin/v1/tenants")).containsExactlyInAnyOrder("get", "post");
        assertThat(methods(paths, "/admin/v1/tenants/{tenant}")).containsExactlyInAnyOrder("get", "patch", "delete");
        assertThat(methods(paths, "/admin/v1/tenants/{tenant}/client-secret")).containsExactly("post");
        assertThat(methods(paths, "/admin/v1/tenants/{tenant}/keys")).containsExactlyInAnyOrder("get", "post");
        assertThat(methods(paths, "/admin/v1/tenants/{tenant}/keys/{id}")).containsExactly("delete");
        assertThat(methods(paths, "/admin/v1/tenants/{tenant}/topics")).containsExactly("get");
        assertThat(methods(paths, "/admin/v1/tenants/{tenant}/topics/{name}")).containsExactlyInAnyOrder("get", "put", "delete");
        assertThat(methods(paths, "/admin/v1/tenants/{tenant}/quotas")).containsExactlyInAnyOrder("get", "put");

        Map<String, Object> schemes = map(map(doc.get("components")).get("securitySchemes"));
        assertThat(map(schemes.get("bearer"))).containsEntry("type", "http").containsEntry("scheme", "bearer");
        assertThat(doc.get("security")).isEqualTo(List.of(Map.of("bearer", List.of())));
        // request bodies are documented with their real shapes
        Map<String, Object> put = map(map(paths.get("/admin/v1/tenants/{tenant}/topics/{name}")).get("put"));
        assertThat(put.get("requestBody").toString()).contains("TopicDeclaration");
        assertThat(map(map(doc.get("components")).get("schemas")).keySet())
                .contains("TopicDeclaration", "TenantCreate", "TenantPatch", "KeyCreate", "TenantQuotas");
    }

    @Test
    void swaggerUiIsServed() {
        String location = anonymous().get().uri("/swagger-ui.html").exchange()
                .expectStatus().is3xxRedirection()
                .expectBody(Void.class).returnResult().getResponseHeaders().getLocation().getPath();
        anonymous().get().uri(location).exchange().expectStatus().isOk().expectBody(Void.class);
        anonymous().get().uri("/v3/api-docs/swagger-config").exchange().expectStatus().isOk().expectBody(Void.class);
    }

    @Test
    void healthProbesAndPrometheusAreOpenAndNothingElse() {
        anonymous().get().uri("/actuator/health").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP");
        anonymous().get().uri("/actuator/health/liveness").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP");
        anonymous().get().uri("/actuator/health/readiness").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP");

        admin().put().uri("/admin/v1/tenants/{t}/quotas", "nobody").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange().expectStatus().isNotFound().expectBody(Void.class);
        String metrics = anonymous().get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(metrics)
                .contains("registry_admin_mutations_total{action=\"replace\",outcome=\"not_found\",resource=\"quotas\"")
                .contains("registry_changes_listen_connected");
        assertThat(metrics).doesNotContain("nobody");

        for (String hidden : List.of("/actuator/env", "/actuator/beans", "/actuator/configprops", "/actuator/heapdump",
                "/actuator/metrics", "/actuator/loggers", "/actuator/shutdown")) {
            assertProblem(anonymous().get().uri(hidden).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
            assertProblem(admin().get().uri(hidden).exchange(), HttpStatus.UNAUTHORIZED, "unauthenticated");
        }
    }

    @Test
    void adminMutationsAreCountedByOutcome() {
        String t = newTenantId();
        createTenant(t);
        admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", t, "name", "dup")).exchange().expectStatus().isEqualTo(HttpStatus.CONFLICT).expectBody(Void.class);
        admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"id\":\"BAD\",\"name\":\"x\"}").exchange().expectStatus().isBadRequest().expectBody(Void.class);
        String metrics = anonymous().get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(metrics)
                .contains("registry_admin_mutations_total{action=\"create\",outcome=\"success\",resource=\"tenant\"")
                .contains("registry_admin_mutations_total{action=\"create\",outcome=\"conflict\",resource=\"tenant\"")
                .contains("registry_admin_mutations_total{action=\"create\",outcome=\"invalid_request\",resource=\"tenant\"")
                .doesNotContain(t);
    }

    private static List<String> methods(Map<String, Object> paths, String path) {
        return List.copyOf(map(paths.get(path)).keySet());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }
}
