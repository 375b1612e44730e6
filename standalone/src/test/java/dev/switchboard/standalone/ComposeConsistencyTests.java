package dev.switchboard.standalone;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every service module has a Dockerfile and a docker-compose.yml entry that builds it, waits for
 * a healthy PostgreSQL and has a memory limit. A module counts as a service once it has code, so
 * this covers each new service the day it lands.
 */
class ComposeConsistencyTests {

    static Path root;
    static List<String> serviceModules;
    static Map<String, Object> compose;

    @BeforeAll
    static void read() throws IOException {
        root = RepositoryLayout.root();
        serviceModules = RepositoryLayout.serviceModules(root);
        compose = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(root.resolve("docker-compose.yml")));
    }

    @Test
    void findsTheServicesThatExist() {
        assertThat(serviceModules).contains("registry-service");
    }

    @Test
    void keepsToWhatDockerCompose129Accepts() {
        assertThat(compose.get("version")).isEqualTo("2.4");
        assertThat(compose.keySet())
                .allSatisfy(key -> assertThat(Set.of("version", "services", "volumes", "networks").contains(key) || key.startsWith("x-"))
                        .as("top-level key %s", key).isTrue());
    }

    @Test
    void postgresHasAHealthcheck() {
        Map<String, Object> postgres = service("postgres");
        assertThat(postgres).containsKey("healthcheck");
        assertThat(String.valueOf(map(postgres, "healthcheck").get("test"))).contains("pg_isready");
        assertThat(postgres).containsKey("mem_limit");
    }

    @Test
    void everyServiceModuleHasADockerfile() {
        assertThat(serviceModules).allSatisfy(module -> {
            Path dockerfile = root.resolve(module).resolve("Dockerfile");
            assertThat(dockerfile).as("%s/Dockerfile", module).isRegularFile();
            String text = Files.readString(dockerfile);
            assertThat(text).as("%s/Dockerfile builds %s", module, module).contains("-pl " + module + " ");
            assertThat(text).as("%s/Dockerfile has a build stage and a runtime stage", module).containsPattern("(?s)FROM .+ AS build.+FROM ");
            assertThat(text).as("%s/Dockerfile runs as a non-root user", module).containsPattern("(?m)^USER \\S+");
        });
    }

    @Test
    void everyServiceModuleHasAComposeEntry() {
        assertThat(serviceModules).allSatisfy(module -> {
            Map<String, Object> service = service(module);
            Map<String, Object> build = map(service, "build");
            assertThat(build.get("context")).as("%s build context", module).isEqualTo(".");
            assertThat(build.get("dockerfile")).as("%s dockerfile", module).isEqualTo(module + "/Dockerfile");
            assertThat(map(map(service, "depends_on"), "postgres").get("condition"))
                    .as("%s waits for a healthy postgres", module).isEqualTo("service_healthy");
            assertThat(String.valueOf(service.get("mem_limit"))).as("%s memory limit", module).matches("\\d+[kmg]");
            // Which variables exactly: ConfigurationTableTests (each what it reads, nothing else).
            assertThat(map(service, "environment")).as("%s environment", module).containsKey("SWITCHBOARD_SERVICE_TOKEN");
        });
    }

    @Test
    void onlyThePublicEdgeAndTheAdminApiArePublishedOnTheHost() {
        Map<String, Object> services = map(compose, "services");
        Map<String, Object> published = new TreeMap<>();
        Map<String, Object> observability = new TreeMap<>();
        services.forEach((name, service) -> {
            Object ports = ((Map<?, ?>) service).get("ports");
            if (ports != null) {
                // The observability profile's Prometheus and Grafana run only when asked for, on loopback.
                boolean optional = List.of("observability").equals(((Map<?, ?>) service).get("profiles"));
                (optional ? observability : published).put(name, ports);
            }
        });
        assertThat(published).isEqualTo(Map.of(
                "gateway-service", List.of("127.0.0.1:8080:8080"),
                "registry-service", List.of("127.0.0.1:8081:8081")));
        assertThat(observability).isEqualTo(Map.of(
                "prometheus", List.of("127.0.0.1:9090:9090"),
                "grafana", List.of("127.0.0.1:3000:3000")));
    }

    private static Map<String, Object> service(String name) {
        Map<String, Object> services = map(compose, "services");
        assertThat(services).as("docker-compose.yml services").containsKey(name);
        return map(services, name);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }
}
