package dev.switchboard.registry;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.env.Environment;

import static org.assertj.core.api.Assertions.assertThat;

class RegistryApplicationIntegrationTests extends RegistryIntegrationTest {

    @Autowired
    Environment environment;

    @Test
    void readsItsOwnConfigFile() {
        assertThat(environment.getProperty("spring.application.name")).isEqualTo("registry-service");
        assertThat(environment.getProperty("spring.flyway.schemas")).isEqualTo("registry");
    }
}
