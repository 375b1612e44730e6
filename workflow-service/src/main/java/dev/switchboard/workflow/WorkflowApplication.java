package dev.switchboard.workflow;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

import java.util.Map;

/** workflow-service: AI pipeline definitions and their durable runs. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class WorkflowApplication {

    /** The service's own config file, {@code workflow-service.yml}, so it can share a JVM with the others. */
    public static final String CONFIG_NAME = "workflow-service";

    public static void main(String[] args) {
        application().run(args);
    }

    /** The application with its defaults; the standalone launcher runs the same thing. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(WorkflowApplication.class);
        app.setDefaultProperties(Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }
}
