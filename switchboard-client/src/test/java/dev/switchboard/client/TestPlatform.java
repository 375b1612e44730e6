package dev.switchboard.client;

import dev.switchboard.delivery.DeliveryApplication;
import dev.switchboard.gateway.GatewayApplication;
import dev.switchboard.registry.RegistryApplication;
import dev.switchboard.testsupport.TestDatabase;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The real platform for the client's tests, as gateway-service's tests start it: registry,
 * delivery and one gateway, each its own Spring application on a random loopback port, on one real
 * PostgreSQL database ({@link TestDatabase}), each on event loops of its own.
 */
final class TestPlatform implements AutoCloseable {

    static final String ADMIN_TOKEN = "test-admin-token";
    static final String SERVICE_TOKEN = "test-service-token";

    private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
    private final ConfigurableApplicationContext registry;
    private final ConfigurableApplicationContext gateway;

    private TestPlatform() {
        String secretKey = Base64.getEncoder().encodeToString(random(32));
        String database = "--switchboard.database.url=" + TestDatabase.get().uri().toUriString();
        registry = start(ownResources(RegistryApplication.application()).run(
                "--server.port=0", "--server.address=127.0.0.1", database,
                "--switchboard.registry.admin-token=" + ADMIN_TOKEN,
                "--switchboard.registry.service-token=" + SERVICE_TOKEN,
                "--switchboard.registry.secret-key=" + secretKey));
        String registryUrl = "--switchboard.registry-client.base-url=" + url(registry);
        String clientToken = "--switchboard.registry-client.service-token=" + SERVICE_TOKEN;
        ConfigurableApplicationContext delivery = start(ownResources(DeliveryApplication.application()).run(
                "--server.port=0", "--server.address=127.0.0.1", database, registryUrl, clientToken,
                "--switchboard.delivery.service-token=" + SERVICE_TOKEN));
        gateway = start(ownResources(GatewayApplication.application()).run(
                "--server.port=0", "--server.address=127.0.0.1", registryUrl, clientToken,
                "--switchboard.gateway.delivery-url=" + url(delivery),
                "--switchboard.gateway.service-token=" + SERVICE_TOKEN));
    }

    static TestPlatform start() {
        return new TestPlatform();
    }

    /** Each service on event loops of its own: closing one must not dispose the JVM-wide resources under the others. */
    private static SpringApplication ownResources(SpringApplication application) {
        application.addInitializers(context -> ((GenericApplicationContext) context).registerBean(
                "reactorResourceFactory", ReactorResourceFactory.class, () -> {
                    ReactorResourceFactory factory = new ReactorResourceFactory();
                    factory.setUseGlobalResources(false);
                    return factory;
                }));
        return application;
    }

    private ConfigurableApplicationContext start(ConfigurableApplicationContext context) {
        contexts.add(context);
        return context;
    }

    static String url(ConfigurableApplicationContext context) {
        return "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
    }

    String gatewayUrl() {
        return url(gateway);
    }

    int gatewayPort() {
        return Integer.parseInt(gateway.getEnvironment().getProperty("local.server.port"));
    }

    WebTestClient gatewayClient() {
        return WebTestClient.bindToServer().baseUrl(gatewayUrl()).responseTimeout(Duration.ofSeconds(30)).build();
    }

    WebTestClient admin() {
        return WebTestClient.bindToServer().baseUrl(url(registry)).responseTimeout(Duration.ofSeconds(30))
                .defaultHeader("Authorization", "Bearer " + ADMIN_TOKEN).build();
    }

    /** Creates a tenant with these publish quotas. */
    void createTenant(String id, int publishPerSecond, int burst) {
        admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", id, "name", id, "quotas", Map.of("publishPerSecond", publishPerSecond, "burst", burst)))
                .exchange().expectStatus().isCreated().expectBody().returnResult();
    }

    /** Creates an API key with the given scopes; returns the key. */
    String createKey(String tenant, String... scopes) {
        JsonNode created = admin().post().uri("/admin/v1/tenants/{t}/keys", tenant).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("name", "test", "scopes", List.of(scopes)))
                .exchange().expectStatus().isCreated()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        return created.get("key").asString();
    }

    /** Declares a topic or pattern; unless {@code settings} say otherwise, with a publish rate far above the default. */
    void declareTopic(String tenant, String nameOrPattern, Map<String, Object> settings) {
        Map<String, Object> body = new HashMap<>(settings);
        body.putIfAbsent("publishRate", Map.of("perSecond", 100_000, "burst", 100_000));
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", tenant, nameOrPattern).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body)
                .exchange().expectStatus().is2xxSuccessful().expectBody().returnResult();
    }

    /** Every retained event of a topic (up to 1000), read over the gateway's REST history. */
    List<JsonNode> history(String key, String topic) {
        JsonNode page = gatewayClient().get().uri("/v1/topics/{t}/events?after=0&limit=1000", topic)
                .header("Authorization", "Bearer " + key)
                .exchange().expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        List<JsonNode> events = new ArrayList<>();
        page.get("events").forEach(events::add);
        return events;
    }

    @Override
    public void close() {
        for (int i = contexts.size() - 1; i >= 0; i--) {
            contexts.get(i).close();
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
