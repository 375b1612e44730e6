package dev.switchboard.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pipeline definitions through the public edge, end to end: gateway → workflow-service →
 * PostgreSQL, with real API keys from the registry. The gateway checks the scope and names the
 * tenant; workflow-service's answers, problems included, arrive unchanged.
 */
class GatewayPipelinesIntegrationTests {

    static final String PIPELINE = """
            {"trigger": {"topic": "chat.*", "types": ["chat.question"]},
             "output": "{trigger.topic}",
             "steps": [
               {"id": "ask",   "type": "prompt", "template": "Answer briefly: {{data.text}}"},
               {"id": "draft", "type": "model",  "input": "ask", "provider": "echo", "model": "echo-1",
                "timeout": "PT30S", "retry": {"attempts": 3, "backoff": "PT1S"}},
               {"id": "clean", "type": "postprocess", "input": "draft", "ops": ["trim"]}]}
            """;
    static final String PIPELINE_YAML = """
            trigger: {topic: chat.*, types: [chat.question]}
            output: "{trigger.topic}"
            steps:
              - {id: ask, type: prompt, template: "Answer briefly: {{data.text}}"}
              - id: draft
                type: model
                input: ask
                provider: echo
                model: echo-1
                timeout: PT30S
                retry: {attempts: 3, backoff: PT1S}
              - {id: clean, type: postprocess, input: draft, ops: [trim]}
            """;

    static TestPlatform platform;
    static TestPlatform.Key acmeAdmin;
    static TestPlatform.Key acmePublisher;
    static TestPlatform.Key globexAdmin;
    static String acmeSecret;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1);
        acmeSecret = platform.createTenant("acme-wf");
        platform.createTenant("globex-wf");
        acmeAdmin = platform.createKey("acme-wf", "admin");
        acmePublisher = platform.createKey("acme-wf", "publish", "subscribe");
        globexAdmin = platform.createKey("globex-wf", "admin");
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    WebTestClient gateway() {
        return platform.gatewayClient(0);
    }

    EntityExchangeResult<JsonNode> put(String bearer, String name, String body, MediaType type) {
        return gateway().put().uri("/v1/pipelines/{n}", name).header("Authorization", bearer).contentType(type).bodyValue(body)
                .exchange().expectBody(JsonNode.class).returnResult();
    }

    EntityExchangeResult<JsonNode> get(String bearer, String path) {
        return gateway().get().uri("/v1/pipelines" + path).header("Authorization", bearer)
                .exchange().expectBody(JsonNode.class).returnResult();
    }

    @Test
    void savesVersionsInJsonOrYamlAndReadsThemBack() {
        EntityExchangeResult<JsonNode> first = put(acmeAdmin.bearer(), "answer", PIPELINE, MediaType.APPLICATION_JSON);
        assertThat(first.getStatus().value()).as("%s", first.getResponseBody()).isEqualTo(201);
        assertThat(first.getResponseHeaders().getLocation()).hasToString("/v1/pipelines/answer?version=1");
        assertThat(first.getResponseBody().path("version").asInt()).isEqualTo(1);
        EntityExchangeResult<JsonNode> second = put(acmeAdmin.bearer(), "answer", PIPELINE_YAML, MediaType.parseMediaType("application/yaml"));
        assertThat(second.getStatus().value()).isEqualTo(201);
        assertThat(second.getResponseBody().path("version").asInt()).isEqualTo(2);
        assertThat(second.getResponseBody().path("definition")).isEqualTo(first.getResponseBody().path("definition"));

        assertThat(get(acmeAdmin.bearer(), "/answer").getResponseBody()).isEqualTo(second.getResponseBody());
        assertThat(get(acmeAdmin.bearer(), "/answer?version=1").getResponseBody()).isEqualTo(first.getResponseBody());
        JsonNode list = get(acmeAdmin.bearer(), "?limit=10").getResponseBody();
        assertThat(list.path("pipelines").findValuesAsString("name")).contains("answer");
    }

    @Test
    void passesRefusalsThroughUnchanged() {
        EntityExchangeResult<JsonNode> refused = put(acmeAdmin.bearer(), "broken",
                PIPELINE.replace("\"provider\": \"echo\"", "\"provider\": \"nobody\""), MediaType.APPLICATION_JSON);
        assertThat(refused.getStatus().value()).isEqualTo(400);
        assertThat(refused.getResponseHeaders().getContentType()).hasToString("application/problem+json");
        assertThat(refused.getResponseBody().path("code").asString()).isEqualTo("invalid_request");
        assertThat(refused.getResponseBody().path("step").asString()).isEqualTo("draft");
        assertThat(refused.getResponseBody().path("detail").asString()).contains("Step 'draft'", "unknown provider 'nobody'");

        EntityExchangeResult<JsonNode> unknownField = put(acmeAdmin.bearer(), "broken",
                PIPELINE.replace("\"ops\": [\"trim\"]", "\"ops\": [\"trim\"], \"colour\": \"blue\""), MediaType.APPLICATION_JSON);
        assertThat(unknownField.getStatus().value()).isEqualTo(400);
        assertThat(unknownField.getResponseBody().path("step").asString()).isEqualTo("clean");
        assertThat(unknownField.getResponseBody().path("detail").asString()).contains("unknown field 'colour'");

        assertThat(get(acmeAdmin.bearer(), "/broken").getStatus().value()).isEqualTo(404);
        assertThat(get(acmeAdmin.bearer(), "/broken").getResponseBody().path("code").asString()).isEqualTo("not_found");
        assertThat(get(acmeAdmin.bearer(), "/answer?version=abc").getStatus().value()).isEqualTo(400);
    }

    @Test
    void needsAnAdminKey() {
        assertThat(put(acmePublisher.bearer(), "answer", PIPELINE, MediaType.APPLICATION_JSON).getStatus().value()).isEqualTo(403);
        EntityExchangeResult<JsonNode> forbidden = get(acmePublisher.bearer(), "");
        assertThat(forbidden.getStatus().value()).isEqualTo(403);
        assertThat(forbidden.getResponseBody().path("detail").asString()).contains("scope admin");
        gateway().delete().uri("/v1/pipelines/answer").header("Authorization", acmePublisher.bearer())
                .exchange().expectStatus().isForbidden().expectBody().returnResult();
        String browser = WsClient.jwt(acmeSecret, "acme-wf", Instant.now().plusSeconds(300), List.of(">"), List.of(">"));
        assertThat(get("Bearer " + browser, "").getStatus().value()).isEqualTo(403);
        gateway().get().uri("/v1/pipelines").exchange().expectStatus().isUnauthorized().expectBody().returnResult();
    }

    @Test
    void tenantsSeeAndDeleteOnlyTheirOwn() {
        assertThat(put(acmeAdmin.bearer(), "private", PIPELINE, MediaType.APPLICATION_JSON).getStatus().value()).isEqualTo(201);
        assertThat(get(globexAdmin.bearer(), "/private").getStatus().value()).isEqualTo(404);
        assertThat(get(globexAdmin.bearer(), "").getResponseBody().path("pipelines").findValuesAsString("name"))
                .doesNotContain("private");
        gateway().delete().uri("/v1/pipelines/private").header("Authorization", globexAdmin.bearer())
                .exchange().expectStatus().isNotFound().expectBody().returnResult();
        assertThat(get(acmeAdmin.bearer(), "/private").getStatus().value()).isEqualTo(200);

        gateway().delete().uri("/v1/pipelines/private").header("Authorization", acmeAdmin.bearer())
                .exchange().expectStatus().isNoContent().expectBody().isEmpty();
        assertThat(get(acmeAdmin.bearer(), "/private").getStatus().value()).isEqualTo(404);
    }
}
