package dev.switchboard.standalone;

import dev.switchboard.registry.RegistryApplication;
import dev.switchboard.testsupport.TestDatabase;
import dev.switchboard.workflow.WorkflowApplication;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.netty.resources.LoopResources;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** The development-mode demo tenant, against the real registry-service and PostgreSQL. */
class DemoTenantIntegrationTests {

    static final String ADMIN_TOKEN = "demo-admin-token";

    @Test
    void createsTheDemoTenantItsTopicPatternAndPipelinesOnceAndLeavesThemAloneAfterwards() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        LoopResources loops = SharedJvm.newLoops();
        String database = "--switchboard.database.url=" + TestDatabase.get().createDatabase("sbdemo").toUriString();
        try (ConfigurableApplicationContext registry = SharedJvm.prepare(RegistryApplication.application(), loops).run(
                "--server.port=0", "--server.address=127.0.0.1", database,
                "--switchboard.registry.admin-token=" + ADMIN_TOKEN,
                "--switchboard.registry.service-token=demo-service-token",
                "--switchboard.registry.secret-key=" + Base64.getEncoder().encodeToString(key));
             ConfigurableApplicationContext workflow = SharedJvm.prepare(WorkflowApplication.application(), loops).run(
                "--server.port=0", "--server.address=127.0.0.1", database,
                "--switchboard.workflow.service-token=demo-service-token")) {
            String url = "http://127.0.0.1:" + registry.getEnvironment().getProperty("local.server.port");
            String workflowUrl = "http://127.0.0.1:" + workflow.getEnvironment().getProperty("local.server.port");
            DemoTenant demo = new DemoTenant(url, ADMIN_TOKEN, workflowUrl, "demo-service-token");

            assertThat(demo.ensure()).isEqualTo("tenant 'demo' with topics demo.> created for the demo page, "
                    + "pipelines demo-ask and demo-panel saved");
            HttpResponse<String> topic = get(url + "/admin/v1/tenants/demo/topics/demo.%3E", ADMIN_TOKEN);
            assertThat(topic.statusCode()).isEqualTo(200);
            assertThat(topic.body()).contains("\"demo.>\"");
            HttpResponse<String> pipeline = get(workflowUrl + "/internal/v1/tenants/demo/pipelines/demo-panel", "demo-service-token");
            assertThat(pipeline.statusCode()).isEqualTo(200);
            assertThat(pipeline.body()).contains("\"topic\":\"demo.ask-panel\"", "\"strategy\":\"vote\"", "\"version\":1");

            assertThat(demo.ensure()).isEqualTo("tenant 'demo' with topics demo.> (already there), pipelines demo-ask and demo-panel");
            assertThat(get(workflowUrl + "/internal/v1/tenants/demo/pipelines/demo-panel", "demo-service-token").body())
                    .as("not saved again").contains("\"version\":1");
            assertThat(new DemoTenant(url, "wrong-token", workflowUrl, "demo-service-token").ensure())
                    .startsWith("could not prepare the demo tenant");
            assertThat(new DemoTenant(url, ADMIN_TOKEN, workflowUrl, "wrong-token").ensure())
                    .startsWith("could not prepare the demo tenant");
        } finally {
            loops.dispose();
        }
    }

    private static HttpResponse<String> get(String url, String token) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
