package dev.switchboard.delivery;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

import java.util.Map;

/** delivery-service: the event log — sequencing, idempotency, TTL, retention, live streams. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class DeliveryApplication {

    /** The service's own config file, {@code delivery-service.yml}, so it can share a JVM with the others. */
    public static final String CONFIG_NAME = "delivery-service";

    public static void main(String[] args) {
        application().run(args);
    }

    /** The application with its defaults; the standalone launcher runs the same thing. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(DeliveryApplication.class);
        app.setDefaultProperties(Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }
}
