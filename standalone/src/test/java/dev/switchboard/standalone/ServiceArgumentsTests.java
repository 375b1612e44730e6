package dev.switchboard.standalone;

import dev.switchboard.platform.database.PostgresUri;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ServiceArgumentsTests {

    static final ServiceDescriptor REGISTRY = Services.ALL.get(0);
    static final ServiceArguments.Shared SHARED = new ServiceArguments.Shared(
            new PostgresUri("localhost", 54329, "switchboard", "postgres", "p@ss"), "admin", "service", "key", "http://127.0.0.1:8081", "http://127.0.0.1:8082",
            "http://127.0.0.1:8083");

    @Test
    void givesEachServiceItsPortSchemaDatabaseAndTheSharedSecrets() {
        List<String> args = List.of(ServiceArguments.of(REGISTRY, 18081, "127.0.0.1", SHARED));

        assertThat(args).contains(
                "--server.port=18081",
                "--server.address=127.0.0.1",
                "--switchboard.database.url=postgresql://postgres:p%40ss@localhost:54329/switchboard",
                "--switchboard.database.schema=registry",
                "--switchboard.registry.admin-token=admin",
                "--switchboard.registry.service-token=service",
                "--switchboard.registry.secret-key=key",
                "--switchboard.registry-client.base-url=http://127.0.0.1:8081",
                "--switchboard.registry-client.service-token=service");
    }

    @Test
    void letsLauncherArgumentsWinWithoutRepeatingAName() {
        List<String> args = List.of(ServiceArguments.of(REGISTRY, 18081, "127.0.0.1", SHARED,
                "--server.address=0.0.0.0", "--logging.level.dev.switchboard=DEBUG", "plain"));

        assertThat(args).contains("--server.address=0.0.0.0", "--logging.level.dev.switchboard=DEBUG", "plain")
                .doesNotContain("--server.address=127.0.0.1");
        assertThat(args.stream().filter(a -> a.startsWith("--server.address="))).hasSize(1);
    }

    @Test
    void neverPrintsTheSharedSecrets() {
        assertThat(SHARED.toString()).doesNotContain("p@ss", "admin", "service", "key=");
    }
}
