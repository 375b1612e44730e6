package dev.switchboard.standalone;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every overlay of {@code deploy/} rendered as {@code kubectl kustomize} renders it, each object
 * read into its Kubernetes API type (fabric8's model; a field the type does not have fails), and
 * checked for what running Switchboard needs: probes, requests and limits, pinned images, a
 * non-root read-only security context, ports and variables that agree with the services'
 * configuration, every Secret referenced existing (or made by the operator or the README's
 * commands), the gateway's drain, the network policies and the Ingress.
 */
class KubernetesManifestsTests {

    private static final ObjectMapper KUBERNETES = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
    private static final Map<String, Class<? extends HasMetadata>> TYPES = Map.of(
            "Namespace", Namespace.class, "ConfigMap", ConfigMap.class, "Secret", Secret.class, "Service", Service.class,
            "Deployment", Deployment.class, "PodDisruptionBudget", PodDisruptionBudget.class,
            "HorizontalPodAutoscaler", HorizontalPodAutoscaler.class, "NetworkPolicy", NetworkPolicy.class, "Ingress", Ingress.class);
    /** The gateway's WebSocket drain (WebSocketProperties defaults: 5 s jitter, 10 s timeout) and HTTP's graceful end. */
    private static final long GATEWAY_DRAIN_SECONDS = 5 + 10 + 10;

    static Path root;
    static Map<String, ConfigurationTableTests.Row> variables;

    @BeforeAll
    static void read() throws Exception {
        root = RepositoryLayout.root();
        variables = ConfigurationTableTests.variablesRead();
    }

    /** One rendered overlay: its objects, by kind, and the raw documents. */
    record Rendered(List<HasMetadata> objects, List<Map<String, Object>> documents) {
        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> T named(Class<T> type, String name) {
            return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
        }

        List<Map<String, Object>> ofKind(String kind) {
            return documents.stream().filter(d -> kind.equals(d.get("kind"))).toList();
        }
    }

    static Rendered render(String overlay) throws Exception {
        Process kubectl;
        try {
            kubectl = new ProcessBuilder("kubectl", "kustomize", root.resolve("deploy/overlays").resolve(overlay).toString())
                    .redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("kubectl is needed to render deploy/ (.ci/run installs it): " + e.getMessage(), e);
        }
        String out = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(kubectl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(kubectl.exitValue()).as("kubectl kustomize %s:%n%s", overlay, out).isZero();
        List<HasMetadata> objects = new ArrayList<>();
        List<Map<String, Object>> documents = new ArrayList<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(out)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> document = (Map<String, Object>) doc;
            documents.add(document);
            String kind = (String) document.get("kind");
            if ("Cluster".equals(kind) && "postgresql.cnpg.io/v1".equals(document.get("apiVersion"))) {
                continue;
            }
            Class<? extends HasMetadata> type = TYPES.get(kind);
            assertThat(type).as("a known kind: %s", kind).isNotNull();
            HasMetadata object = KUBERNETES.convertValue(document, type);
            noUnknownFields(object, kind + " " + object.getMetadata().getName(), new IdentityHashMap<>());
            objects.add(object);
        }
        return new Rendered(objects, documents);
    }

    /** fabric8's types keep fields they do not know in additionalProperties: there must be none, anywhere. */
    private static void noUnknownFields(Object node, String where, Map<Object, Boolean> seen) throws Exception {
        if (node == null || seen.put(node, true) != null) {
            return;
        }
        if (node instanceof Collection<?> list) {
            for (Object item : list) {
                noUnknownFields(item, where, seen);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (Object value : map.values()) {
                noUnknownFields(value, where, seen);
            }
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (PropertyDescriptor property : Introspector.getBeanInfo(node.getClass()).getPropertyDescriptors()) {
            Method getter = property.getReadMethod();
            if (getter == null || getter.getParameterCount() > 0) {
                continue;
            }
            Object value = getter.invoke(node);
            if (property.getName().equals("additionalProperties")) {
                assertThat((Map<?, ?>) value).as("fields %s does not have, in %s", node.getClass().getSimpleName(), where).isNullOrEmpty();
            } else {
                noUnknownFields(value, where, seen);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyServiceRunsWithProbesLimitsPinnedImagesAndALockedDownContext(String overlay) throws Exception {
        Rendered rendered = render(overlay);
        for (ServiceDescriptor service : Services.ALL) {
            Deployment deployment = rendered.named(Deployment.class, service.name());
            assertThat(deployment.getSpec().getReplicas()).as("replicas are the autoscaler's").isNull();
            var pod = deployment.getSpec().getTemplate().getSpec();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
            assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
            assertThat(pod.getAutomountServiceAccountToken()).isFalse();
            assertThat(pod.getContainers()).hasSize(1);
            Container container = pod.getContainers().get(0);
            String where = overlay + " " + service.name();
            assertThat(container.getImage()).as(where).matches("switchboard/" + service.name() + ":[0-9][^:]*").doesNotEndWith(":latest");
            for (Probe probe : List.of(container.getStartupProbe(), container.getLivenessProbe(), container.getReadinessProbe())) {
                assertThat(probe).as(where + " probes").isNotNull();
                assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
            }
            assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
            assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/readiness");
            assertThat(container.getResources().getRequests()).as(where).containsKeys("cpu", "memory");
            assertThat(container.getResources().getLimits()).as(where).containsKeys("cpu", "memory");
            assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).as(where).isTrue();
            assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).as(where).isFalse();
            assertThat(container.getSecurityContext().getCapabilities().getDrop()).as(where).containsExactly("ALL");
            // The port the service listens on by default is the one its container, Service and probes use.
            assertThat(container.getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getName()).isEqualTo("http");
                assertThat(p.getContainerPort()).as(where + " port").isEqualTo(service.defaultPort());
            });
            Service svc = rendered.named(Service.class, service.name());
            assertThat(svc.getSpec().getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getPort()).isEqualTo(service.defaultPort());
                assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
            });
            assertThat(svc.getSpec().getSelector()).isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
            assertThat(rendered.named(PodDisruptionBudget.class, service.name()).getSpec().getSelector().getMatchLabels())
                    .isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
            HorizontalPodAutoscaler hpa = rendered.named(HorizontalPodAutoscaler.class, service.name());
            assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(service.name());
            assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(overlay.equals("prod") ? 2 : 1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void eachServiceGetsTheVariablesItReadsAndEverySecretReferencedExists(String overlay) throws Exception {
        Rendered rendered = render(overlay);
        Set<String> secrets = new HashSet<>();
        rendered.all(Secret.class).forEach(s -> secrets.add(s.getMetadata().getName()));
        // CloudNativePG makes <cluster>-app (with uri) for each Cluster.
        rendered.ofKind("Cluster").forEach(c -> secrets.add(((Map<?, ?>) c.get("metadata")).get("name") + "-app"));
        if (overlay.equals("prod")) {
            String readme = Files.readString(root.resolve("README.md"));
            assertThat(readme).as("the README's deploy commands create switchboard-secrets")
                    .contains("kubectl create secret generic switchboard-secrets", "--from-literal=admin-token=",
                            "--from-literal=service-token=", "--from-literal=secret-key=");
            secrets.add("switchboard-secrets");
        }
        Map<String, String> configMaps = new java.util.HashMap<>();
        rendered.all(ConfigMap.class).forEach(c -> c.getData().forEach(configMaps::put));
        for (ServiceDescriptor service : Services.ALL) {
            String reader = service.name().replaceFirst("-service$", "");
            Container container = rendered.named(Deployment.class, service.name()).getSpec().getTemplate().getSpec().getContainers().get(0);
            Set<String> names = new TreeSet<>();
            for (EnvVar env : container.getEnv()) {
                names.add(env.getName());
                if (env.getName().equals("JAVA_TOOL_OPTIONS")) {
                    continue;
                }
                assertThat(variables).as("%s sets %s, which nothing reads", service.name(), env.getName()).containsKey(env.getName());
                assertThat(variables.get(env.getName()).readers()).as("%s reads %s", service.name(), env.getName()).contains(reader);
                if (env.getValueFrom() != null && env.getValueFrom().getSecretKeyRef() != null) {
                    String secret = env.getValueFrom().getSecretKeyRef().getName();
                    assertThat(secrets).as("%s %s: Secret %s exists", overlay, service.name(), secret).contains(secret);
                }
                if (env.getValueFrom() != null && env.getValueFrom().getConfigMapKeyRef() != null) {
                    assertThat(configMaps).as("%s: ConfigMap key %s", service.name(), env.getValueFrom().getConfigMapKeyRef().getKey())
                            .containsKey(env.getValueFrom().getConfigMapKeyRef().getKey());
                }
            }
            variables.forEach((variable, row) -> {
                if (row.readers().contains(reader) && row.defaultValue().isEmpty()) {
                    assertThat(names).as("%s %s has %s (no default)", overlay, service.name(), variable).contains(variable);
                }
            });
        }
        // The URLs in the ConfigMap name Services that exist, on their ports.
        for (String url : List.of("SWITCHBOARD_REGISTRY_URL", "SWITCHBOARD_DELIVERY_URL", "SWITCHBOARD_WORKFLOW_URL")) {
            String target = configMaps.get(url).replace("http://", "");
            String host = target.substring(0, target.indexOf(':'));
            int port = Integer.parseInt(target.substring(target.indexOf(':') + 1));
            assertThat(rendered.named(Service.class, host).getSpec().getPorts().get(0).getPort()).as(url).isEqualTo(port);
        }
        for (Ingress ingress : rendered.all(Ingress.class)) {
            if (ingress.getSpec().getTls() != null) {
                ingress.getSpec().getTls().forEach(tls -> assertThat(secrets.contains(tls.getSecretName())
                        || ingress.getMetadata().getAnnotations().containsKey("cert-manager.io/cluster-issuer"))
                        .as("TLS Secret %s exists or cert-manager issues it", tls.getSecretName()).isTrue());
            }
        }
        if (overlay.equals("prod")) {
            assertThat(rendered.ofKind("Cluster")).as("PostgreSQL through CloudNativePG").hasSize(1);
            assertThat(rendered.all(Deployment.class)).noneMatch(d -> d.getMetadata().getName().equals("postgres"));
        } else {
            assertThat(rendered.named(Deployment.class, "postgres").getSpec().getReplicas()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void onlyThePublicEdgeAndTheAdminApiAreReachableFromOutside(String overlay) throws Exception {
        Rendered rendered = render(overlay);
        NetworkPolicy deny = rendered.named(NetworkPolicy.class, "default-deny-ingress");
        assertThat(deny.getSpec().getPodSelector().getMatchLabels()).isNullOrEmpty();
        assertThat(deny.getSpec().getIngress()).isNullOrEmpty();
        for (String internal : List.of("delivery-service", "workflow-service")) {
            List<NetworkPolicy> policies = rendered.all(NetworkPolicy.class).stream()
                    .filter(p -> internal.equals(p.getSpec().getPodSelector().getMatchLabels() == null ? null
                            : p.getSpec().getPodSelector().getMatchLabels().get("app.kubernetes.io/name")))
                    .toList();
            assertThat(policies).as(internal).isNotEmpty();
            policies.forEach(p -> p.getSpec().getIngress().forEach(rule -> {
                assertThat(rule.getFrom()).as("%s is reached only from named pods", internal).isNotEmpty();
                rule.getFrom().forEach(peer -> {
                    assertThat(peer.getPodSelector()).isNotNull();
                    assertThat(peer.getNamespaceSelector()).isNull();
                    assertThat(peer.getIpBlock()).isNull();
                });
            }));
        }
        Ingress ingress = rendered.named(Ingress.class, "switchboard");
        Map<String, String> routes = new java.util.TreeMap<>();
        ingress.getSpec().getRules().forEach(rule -> rule.getHttp().getPaths()
                .forEach(path -> routes.put(path.getPath(), path.getBackend().getService().getName())));
        assertThat(routes).containsEntry("/v1/ws", "gateway-service").containsEntry("/v1", "gateway-service")
                .containsEntry("/admin/v1", "registry-service")
                .allSatisfy((path, backend) -> assertThat(backend).isIn("gateway-service", "registry-service"));
        assertThat(Long.parseLong(ingress.getMetadata().getAnnotations().get("nginx.ingress.kubernetes.io/proxy-read-timeout")))
                .as("WebSockets outlive the default 60 s").isGreaterThanOrEqualTo(3600);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void theGatewayHasTimeToSendReconnectAndDrainBeforeItIsKilled(String overlay) throws Exception {
        Rendered rendered = render(overlay);
        var pod = rendered.named(Deployment.class, "gateway-service").getSpec().getTemplate().getSpec();
        List<String> preStop = pod.getContainers().get(0).getLifecycle().getPreStop().getExec().getCommand();
        assertThat(preStop).hasSize(2).startsWith("sleep");
        long sleep = Long.parseLong(preStop.get(1));
        assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(sleep + GATEWAY_DRAIN_SECONDS);
    }

    @org.junit.jupiter.api.Test
    void unknownFieldsAreRefused() {
        // The check itself: a misspelt field (readinesProbe) must not pass as an "additional property".
        Map<String, Object> container = Map.of("name", "x", "image", "x:1", "readinesProbe", Map.of());
        Map<String, Object> deployment = Map.of("apiVersion", "apps/v1", "kind", "Deployment", "metadata", Map.of("name", "x"),
                "spec", Map.of("template", Map.of("spec", Map.of("containers", List.of(container)))));
        try {
            Deployment read = KUBERNETES.convertValue(deployment, Deployment.class);
            noUnknownFields(read, "a test Deployment", new IdentityHashMap<>());
        } catch (AssertionError expected) {
            return;
        } catch (Exception e) {
            fail("unexpected", e);
        }
        fail("a misspelt field passed");
    }
}
