package dev.switchboard.standalone;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Each service's own jar as a process of its own, given only the variables the README's
 * "Configuration" table says it reads ({@link ServiceProcesses}): all four become ready and serve
 * the README's flow together — tenant, key, topic, publish through the gateway, read back.
 */
class SeparateProcessesIntegrationTests {

    static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void everyServiceRunsAloneWithTheDocumentedVariables(@TempDir Path dir) throws Exception {
        try (ServiceProcesses services = new ServiceProcesses(dir)) {
            services.startAll();
            String adminToken = services.adminToken;
            int registry = services.port("registry");
            int gateway = services.port("gateway");
            assertThat(send("POST", registry, "/admin/v1/tenants", adminToken, "{\"id\":\"acme\",\"name\":\"Acme\"}").statusCode()).isEqualTo(201);
            String apiKey = send("POST", registry, "/admin/v1/tenants/acme/keys", adminToken,
                    "{\"name\":\"backend\",\"scopes\":[\"publish\",\"subscribe\"]}").body().replaceAll(".*\"key\":\"([^\"]+)\".*", "$1");
            assertThat(send("PUT", registry, "/admin/v1/tenants/acme/topics/orders", adminToken, "{}").statusCode()).isEqualTo(201);
            HttpResponse<String> published = send("POST", gateway, "/v1/topics/orders/events", apiKey,
                    "{\"id\":\"order-1\",\"type\":\"order.created\",\"data\":{\"total\":42}}");
            assertThat(published.statusCode()).as(published.body()).isEqualTo(201);
            HttpResponse<String> history = send("GET", gateway, "/v1/topics/orders/events?after=0", apiKey, null);
            assertThat(history.body()).contains("\"id\":\"order-1\"", "\"total\":42", "\"head\":1");
            // A group poll reaches delivery's other half; the pipelines list reaches workflow-service.
            HttpResponse<String> polled = send("POST", gateway, "/v1/topics/orders/groups/billing/poll", apiKey, "{\"max\":10}");
            assertThat(polled.body()).contains("\"id\":\"order-1\"", "\"attempt\":1");
            String adminKey = send("POST", registry, "/admin/v1/tenants/acme/keys", adminToken,
                    "{\"name\":\"ops\",\"scopes\":[\"admin\"]}").body().replaceAll(".*\"key\":\"([^\"]+)\".*", "$1");
            assertThat(send("GET", gateway, "/v1/pipelines", adminKey, null).statusCode()).isEqualTo(200);
            // A run crosses all four: gateway → workflow → delivery (its answer published) → PostgreSQL, read back by the gateway.
            HttpResponse<String> saved = LoopbackHttp.send(http, "PUT", gateway, "/v1/pipelines/echo", adminKey,
                    "{\"output\":\"orders\",\"steps\":[{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{data.q}}\"},"
                            + "{\"id\":\"say\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"e\"}]}");
            assertThat(saved.statusCode()).as(saved.body()).isEqualTo(201);
            HttpResponse<String> ran = send("POST", gateway, "/v1/pipelines/echo/runs", apiKey, "{\"data\":{\"q\":\"four processes\"}}");
            assertThat(ran.statusCode()).as(ran.body()).isEqualTo(201);
            await("the run's answer").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> send("GET", gateway, "/v1/topics/orders/events?after=1", apiKey, null).body()
                            .contains("\"type\":\"ai.completed\""));
            assertThat(send("GET", gateway, "/v1/topics/orders/events?after=1", apiKey, null).body()).contains("\"answer\":\"four processes\"");
            // No secret in any log, and no service fell back to a generated password of its own.
            for (ServiceProcesses.Child child : services.started()) {
                assertThat(child.output()).as(child.service())
                        .doesNotContain(adminToken, services.serviceToken, services.secretKey, "Using generated security password");
            }
            // SWITCHBOARD_LOG_FORMAT=json (what the images set): every line one ECS object naming its service.
            for (ServiceProcesses.Child child : services.started()) {
                List<String> lines = child.output().lines().filter(l -> !l.isBlank()).toList();
                assertThat(lines).as(child.service() + " logged").isNotEmpty();
                for (String line : lines) {
                    tools.jackson.databind.JsonNode json = JSON.readTree(line);
                    assertThat(json.path("service").path("name").asString()).as(line).isEqualTo(child.service());
                    assertThat(json.has("@timestamp") && json.path("log").has("level") && json.has("message")).as(line).isTrue();
                }
            }
        }
    }

    private HttpResponse<String> send(String method, int port, String path, String bearer, String json) throws Exception {
        return LoopbackHttp.send(http, method, port, path, bearer, json);
    }
}
