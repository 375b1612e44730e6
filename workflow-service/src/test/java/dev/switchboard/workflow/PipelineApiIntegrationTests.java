package dev.switchboard.workflow;

import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** workflow-service's internal pipeline API (what the gateway calls), on real PostgreSQL. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=" + WorkflowApplication.CONFIG_NAME,
                "switchboard.workflow.service-token=test-service-token"})
class PipelineApiIntegrationTests {

    static final String SCHEMA = "workflow_api";
    static final String PIPELINE = """
            {"steps": [{"id": "ask", "type": "prompt", "template": "Answer briefly: {{data.text}}"},
                       {"id": "draft", "type": "model", "input": "ask", "provider": "echo", "model": "echo-1"}]}
            """;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, SCHEMA);
    }

    @LocalServerPort
    int port;

    WebTestClient client() {
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(30))
                .defaultHeader("Authorization", "Bearer test-service-token").build();
    }

    static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    JsonNode put(String tenant, String name, String body, MediaType type, int status) {
        return client().put().uri("/internal/v1/tenants/{t}/pipelines/{n}", tenant, name).contentType(type).bodyValue(body)
                .exchange().expectStatus().isEqualTo(status).expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    @Test
    void everySaveIsANewVersionAndEachStaysReadable() {
        String tenant = tenant();
        JsonNode first = put(tenant, "answer", PIPELINE, MediaType.APPLICATION_JSON, 201);
        assertThat(first.path("name").asString()).isEqualTo("answer");
        assertThat(first.path("version").asInt()).isEqualTo(1);
        assertThat(first.path("createdAt").asString()).isNotEmpty();
        assertThat(first.path("definition").path("steps").get(1).path("timeout").asString()).isEqualTo("PT1M");
        JsonNode second = put(tenant, "answer", PIPELINE.replace("briefly", "at length"), MediaType.APPLICATION_JSON, 201);
        assertThat(second.path("version").asInt()).isEqualTo(2);

        JsonNode latest = get(tenant, "/answer", 200);
        assertThat(latest).isEqualTo(second);
        assertThat(get(tenant, "/answer?version=1", 200)).isEqualTo(first);
        assertThat(get(tenant, "/answer?version=3", 404).path("code").asString()).isEqualTo("not_found");
        assertThat(get(tenant, "/answer?version=0", 400).path("code").asString()).isEqualTo("invalid_request");
    }

    @Test
    void yamlIsStoredAsTheSameJson() {
        String tenant = tenant();
        JsonNode json = put(tenant, "a", PIPELINE, MediaType.APPLICATION_JSON, 201);
        JsonNode yaml = put(tenant, "b", """
                steps:
                  - {id: ask, type: prompt, template: "Answer briefly: {{data.text}}"}
                  - {id: draft, type: model, input: ask, provider: echo, model: echo-1}
                """, MediaType.parseMediaType("application/yaml"), 201);
        assertThat(yaml.path("definition")).isEqualTo(json.path("definition"));
    }

    @Test
    void anInvalidDefinitionIsRefusedAndNothingIsStored() throws Exception {
        String tenant = tenant();
        JsonNode problem = put(tenant, "broken", PIPELINE.replace("\"echo\"", "\"nobody\""), MediaType.APPLICATION_JSON, 400);
        assertThat(problem.path("code").asString()).isEqualTo("invalid_request");
        assertThat(problem.path("step").asString()).isEqualTo("draft");
        assertThat(problem.path("detail").asString()).contains("Step 'draft'", "unknown provider 'nobody'");
        assertThat(rows("SELECT count(*) FROM " + SCHEMA + ".pipeline_versions WHERE tenant_id = '" + tenant + "'")).isZero();
        assertThat(rows("SELECT count(*) FROM " + SCHEMA + ".pipelines WHERE tenant_id = '" + tenant + "'")).isZero();
        get(tenant, "/broken", 404);

        // A valid save after a refused one is version 1: the refusal took no number.
        put(tenant, "broken", PIPELINE, MediaType.APPLICATION_JSON, 201);
        assertThat(get(tenant, "/broken", 200).path("version").asInt()).isEqualTo(1);
    }

    @Test
    void refusesOtherContentTypesBadNamesAndOversizedBodies() {
        String tenant = tenant();
        assertThat(put(tenant, "x", PIPELINE, MediaType.TEXT_PLAIN, 400).path("detail").asString()).contains("Unsupported content type");
        assertThat(put(tenant, "Bad_Name", PIPELINE, MediaType.APPLICATION_JSON, 400).path("detail").asString()).contains("pipeline name");
        String big = "{\"steps\":[{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"" + "x".repeat(300 * 1024) + "\"}]}";
        assertThat(put(tenant, "x", big, MediaType.APPLICATION_JSON, 413).path("code").asString()).isEqualTo("payload_too_large");
    }

    @Test
    void tenantsAreIsolated() {
        String a = tenant();
        String b = tenant();
        put(a, "mine", PIPELINE, MediaType.APPLICATION_JSON, 201);
        get(b, "/mine", 404);
        client().delete().uri("/internal/v1/tenants/{t}/pipelines/mine", b).exchange().expectStatus().isNotFound().expectBody().returnResult();
        assertThat(get(b, "", 200).path("pipelines")).isEmpty();
        assertThat(get(a, "", 200).path("pipelines")).hasSize(1);
        get(a, "/mine", 200);
    }

    @Test
    void listsTheLatestVersionOfEachByPages() {
        String tenant = tenant();
        for (String name : new String[]{"c", "a", "b"}) {
            put(tenant, name, PIPELINE, MediaType.APPLICATION_JSON, 201);
        }
        put(tenant, "b", PIPELINE, MediaType.APPLICATION_JSON, 201);
        JsonNode page = get(tenant, "?limit=2", 200);
        assertThat(page.path("pipelines")).hasSize(2);
        assertThat(page.path("pipelines").get(0).path("name").asString()).isEqualTo("a");
        assertThat(page.path("pipelines").get(1).path("version").asInt()).isEqualTo(2);
        assertThat(page.path("pipelines").get(0).has("definition")).isFalse();
        assertThat(page.path("next").asString()).isEqualTo("b");
        JsonNode rest = get(tenant, "?limit=2&after=b", 200);
        assertThat(rest.path("pipelines")).hasSize(1);
        assertThat(rest.has("next")).isFalse();
        get(tenant, "?limit=101", 400);
    }

    @Test
    void deleteHidesThePipelineAndAResaveContinuesItsNumbering() {
        String tenant = tenant();
        put(tenant, "gone", PIPELINE, MediaType.APPLICATION_JSON, 201);
        put(tenant, "gone", PIPELINE, MediaType.APPLICATION_JSON, 201);
        client().delete().uri("/internal/v1/tenants/{t}/pipelines/gone", tenant).exchange().expectStatus().isNoContent().expectBody().isEmpty();
        get(tenant, "/gone", 404);
        get(tenant, "/gone?version=1", 404);
        assertThat(get(tenant, "", 200).path("pipelines")).isEmpty();
        client().delete().uri("/internal/v1/tenants/{t}/pipelines/gone", tenant).exchange().expectStatus().isNotFound().expectBody().returnResult();
        // Runs pin (name, version): a number is never given to a second definition.
        assertThat(put(tenant, "gone", PIPELINE, MediaType.APPLICATION_JSON, 201).path("version").asInt()).isEqualTo(3);
    }

    @Test
    void onlyTheServiceTokenReachesTheApiAndHealthIsOpen() {
        WebTestClient anonymous = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).build();
        anonymous.get().uri("/internal/v1/tenants/t/pipelines").exchange().expectStatus().isUnauthorized()
                .expectHeader().contentType("application/problem+json");
        anonymous.get().uri("/internal/v1/tenants/t/pipelines").header("Authorization", "Bearer wrong")
                .exchange().expectStatus().isUnauthorized().expectBody().returnResult();
        anonymous.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk().expectBody().returnResult();
        anonymous.get().uri("/actuator/prometheus").exchange().expectStatus().isOk().expectBody().returnResult();
    }

    JsonNode get(String tenant, String path, int status) {
        return client().get().uri("/internal/v1/tenants/" + tenant + "/pipelines" + path)
                .exchange().expectStatus().isEqualTo(status).expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    static long rows(String sql) throws Exception {
        try (Connection c = TestDatabase.get().openConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
