package dev.switchboard.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

import java.util.Map;

/** gateway-service: the public edge — REST publish, history and SSE streams. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GatewayApplication {

    /** The service's own config file, {@code gateway-service.yml}, so it can share a JVM with the others. */
    public static final String CONFIG_NAME = "gateway-service";

    public static void main(String[] args) {
        application().run(args);
    }

    /** The application with its defaults; the standalone launcher runs the same thing. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(GatewayApplication.class);
        app.setDefaultProperties(Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }
}
