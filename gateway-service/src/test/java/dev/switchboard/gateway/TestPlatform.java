package dev.switchboard.gateway;

import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.delivery.DeliveryApplication;
import dev.switchboard.registry.RegistryApplication;
import dev.switchboard.workflow.WorkflowApplication;
import dev.switchboard.testsupport.TestDatabase;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The real platform for end-to-end tests: registry-service, delivery-service, workflow-service and one or more
 * gateways, each its own Spring application on a random loopback port, sharing one real
 * PostgreSQL database (each in its own schema) and one service token — as in production, minus
 * the network.
 */
public final class TestPlatform implements AutoCloseable {

    public static final String ADMIN_TOKEN = "test-admin-token";
    public static final String SERVICE_TOKEN = "test-service-token";

    private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
    private final ConfigurableApplicationContext registry;
    private final ConfigurableApplicationContext delivery;
    private final ConfigurableApplicationContext workflow;
    private final List<ConfigurableApplicationContext> gateways = new ArrayList<>();
    private final List<String> gatewayBaseArgs;
    private final List<String> deliveryBaseArgs;

    private TestPlatform(int gatewayCount, String... gatewayArgs) {
        this(gatewayCount, List.of(), List.of(), gatewayArgs);
    }

    private TestPlatform(int gatewayCount, List<String> deliveryArgs, List<String> workflowArgs, String... gatewayArgs) {
        String secretKey = Base64.getEncoder().encodeToString(random(32));
        String database = "--switchboard.database.url=" + TestDatabase.get().uri().toUriString();
        registry = start(ownResources(RegistryApplication.application()).run(
                "--server.port=0", "--server.address=127.0.0.1", database,
                "--switchboard.registry.admin-token=" + ADMIN_TOKEN,
                "--switchboard.registry.service-token=" + SERVICE_TOKEN,
                "--switchboard.registry.secret-key=" + secretKey));
        String registryUrl = "--switchboard.registry-client.base-url=" + url(registry);
        String clientToken = "--switchboard.registry-client.service-token=" + SERVICE_TOKEN;
        deliveryBaseArgs = new ArrayList<>(List.of("--server.port=0", "--server.address=127.0.0.1", database, registryUrl, clientToken,
                "--switchboard.delivery.service-token=" + SERVICE_TOKEN));
        deliveryBaseArgs.addAll(deliveryArgs);
        delivery = startDelivery();
        List<String> workflowAll = new ArrayList<>(List.of("--server.port=0", "--server.address=127.0.0.1", database,
                "--switchboard.workflow.service-token=" + SERVICE_TOKEN,
                "--switchboard.workflow.delivery-url=" + url(delivery),
                "--switchboard.workflow.registry-url=" + url(registry),
                "--switchboard.workflow.runs.poll-interval=50ms"));
        workflowAll.addAll(workflowArgs);
        workflow = start(ownResources(WorkflowApplication.application()).run(workflowAll.toArray(String[]::new)));
        gatewayBaseArgs = List.of("--server.port=0", "--server.address=127.0.0.1", registryUrl, clientToken,
                "--switchboard.gateway.delivery-url=" + url(delivery),
                "--switchboard.gateway.workflow-url=" + url(workflow),
                "--switchboard.gateway.service-token=" + SERVICE_TOKEN);
        for (int i = 0; i < gatewayCount; i++) {
            startGateway(gatewayArgs);
        }
    }

    /**
     * One more gateway with these arguments (besides the platform's own); its index is the next one. An
     * argument replaces the platform's own of the same name (e.g. another {@code --switchboard.gateway.delivery-url}).
     */
    public ConfigurableApplicationContext startGateway(String... gatewayArgs) {
        List<String> given = List.of(gatewayArgs);
        List<String> args = new ArrayList<>(gatewayBaseArgs.stream()
                .filter(base -> given.stream().noneMatch(g -> name(g).equals(name(base)))).toList());
        args.addAll(given);
        if (args.stream().noneMatch(a -> a.startsWith("--switchboard.gateway.admission.auth-failure-burst="))) {
            // Tests of refused credentials send dozens from 127.0.0.1; the per-address limit has a test of its own.
            args.add("--switchboard.gateway.admission.auth-failure-burst=100000");
        }
        ConfigurableApplicationContext gateway = start(ownResources(GatewayApplication.application()).run(args.toArray(String[]::new)));
        gateways.add(gateway);
        return gateway;
    }

    /** One more delivery instance on the same database and registry, with the platform's delivery arguments. */
    public ConfigurableApplicationContext startDelivery() {
        return start(ownResources(DeliveryApplication.application()).run(deliveryBaseArgs.toArray(String[]::new)));
    }

    /** A platform whose delivery instances get {@code deliveryArgs} too. */
    public static TestPlatform start(int gateways, List<String> deliveryArgs, String... gatewayArgs) {
        return new TestPlatform(gateways, deliveryArgs, List.of(), gatewayArgs);
    }

    /** A platform whose delivery instances get {@code deliveryArgs} and whose workflow-service gets {@code workflowArgs} too. */
    public static TestPlatform start(int gateways, List<String> deliveryArgs, List<String> workflowArgs, String... gatewayArgs) {
        return new TestPlatform(gateways, deliveryArgs, workflowArgs, gatewayArgs);
    }

    public static TestPlatform start(int gateways, String... gatewayArgs) {
        return new TestPlatform(gateways, gatewayArgs);
    }

    /**
     * Each service on event loops and connection pools of its own, as in its own process (the
     * standalone launcher does the same): on the JVM-wide {@code HttpResources}, the first context
     * closed — a gateway shut down mid-test — would dispose them under all the others.
     */
    private static SpringApplication ownResources(SpringApplication application) {
        application.addInitializers(context -> ((GenericApplicationContext) context).registerBean(
                "reactorResourceFactory", ReactorResourceFactory.class, () -> {
                    ReactorResourceFactory factory = new ReactorResourceFactory();
                    factory.setUseGlobalResources(false);
                    return factory;
                }));
        return application;
    }

    private static String name(String argument) {
        int equals = argument.indexOf('=');
        return equals < 0 ? argument : argument.substring(0, equals);
    }

    private ConfigurableApplicationContext start(ConfigurableApplicationContext context) {
        contexts.add(context);
        return context;
    }

    public static String url(ConfigurableApplicationContext context) {
        return "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
    }

    public String deliveryUrl() {
        return url(delivery);
    }

    public String registryUrl() {
        return url(registry);
    }

    public ConfigurableApplicationContext registry() {
        return registry;
    }

    public ConfigurableApplicationContext delivery() {
        return delivery;
    }

    public String gatewayUrl(int i) {
        return url(gateways.get(i));
    }

    public ConfigurableApplicationContext gateway(int i) {
        return gateways.get(i);
    }

    public WebTestClient gatewayClient(int i) {
        return WebTestClient.bindToServer().baseUrl(gatewayUrl(i)).responseTimeout(Duration.ofSeconds(30)).build();
    }

    public WebTestClient admin() {
        return WebTestClient.bindToServer().baseUrl(url(registry)).responseTimeout(Duration.ofSeconds(30))
                .defaultHeader("Authorization", "Bearer " + ADMIN_TOKEN).build();
    }

    /**
     * Creates a tenant; returns its client secret. Its publish quota is far above the default, as a
     * tenant that publishes in volume would set it: tests that are about throttling set their own.
     */
    public String createTenant(String id) {
        JsonNode created = admin().post().uri("/admin/v1/tenants").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("id", id, "name", id, "quotas", Map.of("publishPerSecond", 100_000, "burst", 100_000)))
                .exchange().expectStatus().isCreated()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        return created.get("clientSecret").asString();
    }

    /** Sets a tenant's publish quota (the other quotas at their defaults). */
    public void setPublishQuota(String tenant, int perSecond, int burst) {
        TenantQuotas defaults = TenantQuotas.DEFAULT;
        admin().put().uri("/admin/v1/tenants/{t}/quotas", tenant).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("publishPerSecond", perSecond, "burst", burst, "maxConnections", defaults.maxConnections(),
                        "maxSubscriptionsPerConnection", defaults.maxSubscriptionsPerConnection(),
                        "maxPayloadBytes", defaults.maxPayloadBytes()))
                .exchange().expectStatus().is2xxSuccessful().expectBody(Void.class);
    }

    /** An API key as created: its id (for revocation) and the key itself. */
    public record Key(String id, String key) {
        public String bearer() {
            return "Bearer " + key;
        }
    }

    /** Creates an API key with the given scopes. */
    public Key createKey(String tenant, String... scopes) {
        JsonNode created = admin().post().uri("/admin/v1/tenants/{t}/keys", tenant).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(Map.of("name", "test", "scopes", List.of(scopes)))
                .exchange().expectStatus().isCreated()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
        return new Key(created.get("id").asString(), created.get("key").asString());
    }

    /** Declares a topic or pattern; unless {@code settings} say otherwise, with a publish rate far above the default. */
    public void declareTopic(String tenant, String nameOrPattern, Map<String, Object> settings) {
        Map<String, Object> body = new java.util.HashMap<>(settings);
        body.putIfAbsent("publishRate", Map.of("perSecond", 100_000, "burst", 100_000));
        admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", tenant, nameOrPattern).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body)
                .exchange().expectStatus().is2xxSuccessful().expectBody(Void.class);
    }

    /**
     * Publishes the events (CloudEvent JSON objects) as one batch over gateway {@code gateway}'s REST
     * edge; asserts 201 and returns their seqs in order.
     */
    public List<Long> publishBatch(int gateway, Key key, String topic, List<String> events) {
        org.springframework.test.web.reactive.server.EntityExchangeResult<JsonNode> result = gatewayClient(gateway).post()
                .uri("/v1/topics/{t}/events", topic)
                .header("Authorization", key.bearer())
                .contentType(MediaType.parseMediaType("application/cloudevents-batch+json"))
                .bodyValue("[" + String.join(",", events) + "]")
                .exchange()
                .expectBody(JsonNode.class).returnResult();
        org.assertj.core.api.Assertions.assertThat(result.getStatus().value()).as("publish: %s", result.getResponseBody()).isEqualTo(201);
        List<Long> seqs = new ArrayList<>();
        result.getResponseBody().get("results").forEach(r -> seqs.add(r.get("seq").asLong()));
        return seqs;
    }

    /** The seqs after {@code fromExclusive} up to {@code toInclusive}. */
    public static List<Long> seqsAfter(long fromExclusive, long toInclusive) {
        List<Long> seqs = new ArrayList<>();
        for (long s = fromExclusive + 1; s <= toInclusive; s++) {
            seqs.add(s);
        }
        return seqs;
    }

    /** The seqs of the {@code event} frames among {@code frames}, in order. */
    public static List<Long> eventSeqs(List<JsonNode> frames) {
        return frames.stream().filter(f -> f.path("op").asString().equals("event"))
                .map(f -> f.path("event").path("seq").asLong()).toList();
    }

    public void revokeKey(String tenant, Key key) {
        admin().delete().uri("/admin/v1/tenants/{t}/keys/{id}", tenant, key.id())
                .exchange().expectStatus().isNoContent().expectBody(Void.class);
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
