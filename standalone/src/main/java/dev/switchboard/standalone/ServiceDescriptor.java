package dev.switchboard.standalone;

import org.springframework.boot.SpringApplication;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * One service the launcher runs in its JVM.
 *
 * @param name         the service's module and application name, e.g. {@code registry-service}
 * @param portVariable the environment variable that moves its port, e.g. {@code REGISTRY_PORT}
 * @param defaultPort  its port when that variable is unset
 * @param schema       the PostgreSQL schema it owns
 * @param application  the service's own {@code application()}: the same SpringApplication its
 *                     {@code main} runs, so standalone and the service's own jar cannot drift apart
 */
record ServiceDescriptor(String name, String portVariable, int defaultPort, String schema,
                         Supplier<SpringApplication> application) {

    ServiceDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(portVariable, "portVariable");
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(application, "application");
    }
}
