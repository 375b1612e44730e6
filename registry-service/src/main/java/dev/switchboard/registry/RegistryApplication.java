package dev.switchboard.registry;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

import java.util.Map;

/** registry-service: tenants, keys, client secrets, topics, quotas; admin REST {@code /admin/v1}. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class RegistryApplication {

    /** The service's own config file, {@code registry-service.yml}, so it can share a JVM with the others. */
    public static final String CONFIG_NAME = "registry-service";

    public static void main(String[] args) {
        application().run(args);
    }

    /** The application with its defaults; the standalone launcher runs the same thing. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(RegistryApplication.class);
        app.setDefaultProperties(Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }
}
