package dev.switchboard.registry;

import dev.switchboard.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=" + RegistryApplication.CONFIG_NAME)
class RegistryApplicationIntegrationTests {

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        TestDatabase.register(registry, "registry");
    }

    @Autowired
    Environment environment;

    @Test
    void readsItsOwnConfigFile() {
        assertThat(environment.getProperty("spring.application.name")).isEqualTo("registry-service");
        assertThat(environment.getProperty("spring.flyway.schemas")).isEqualTo("registry");
    }
}
