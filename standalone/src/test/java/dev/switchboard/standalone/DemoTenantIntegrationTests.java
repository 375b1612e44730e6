package dev.switchboard.standalone;

import dev.switchboard.registry.RegistryApplication;
import dev.switchboard.testsupport.TestDatabase;
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
    void createsTheDemoTenantAndItsTopicPatternOnceAndLeavesThemAloneAfterwards() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        LoopResources loops = SharedJvm.newLoops();
        try (ConfigurableApplicationContext registry = SharedJvm.prepare(RegistryApplication.application(), loops).run(
                "--server.port=0", "--server.address=127.0.0.1",
                "--switchboard.database.url=" + TestDatabase.get().createDatabase("sbdemo").toUriString(),
                "--switchboard.registry.admin-token=" + ADMIN_TOKEN,
                "--switchboard.registry.service-token=demo-service-token",
                "--switchboard.registry.secret-key=" + Base64.getEncoder().encodeToString(key))) {
            String url = "http://127.0.0.1:" + registry.getEnvironment().getProperty("local.server.port");
            DemoTenant demo = new DemoTenant(url, ADMIN_TOKEN);

            assertThat(demo.ensure()).isEqualTo("tenant 'demo' with topics demo.> created for the demo page");
            HttpResponse<String> topic = get(url + "/admin/v1/tenants/demo/topics/demo.%3E");
            assertThat(topic.statusCode()).isEqualTo(200);
            assertThat(topic.body()).contains("\"demo.>\"");

            assertThat(demo.ensure()).isEqualTo("tenant 'demo' with topics demo.> (already there)");
            assertThat(new DemoTenant(url, "wrong-token").ensure()).startsWith("could not prepare the demo tenant");
        } finally {
            loops.dispose();
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + ADMIN_TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
