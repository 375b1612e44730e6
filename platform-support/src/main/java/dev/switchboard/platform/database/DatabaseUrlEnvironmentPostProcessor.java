package dev.switchboard.platform.database;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.util.HashMap;
import java.util.Map;

/**
 * Turns the one database setting of every service, {@code switchboard.database.url}
 * ({@code SWITCHBOARD_DATABASE_URL}, a {@code postgresql://} URI), into the R2DBC and Flyway
 * connection properties, and points both at the service's own schema
 * ({@code switchboard.database.schema}). Explicit {@code spring.r2dbc.*} / {@code spring.flyway.*}
 * settings win, so tests and operators can still set them directly.
 */
public class DatabaseUrlEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

    public static final String URL_PROPERTY = "switchboard.database.url";
    public static final String SCHEMA_PROPERTY = "switchboard.database.schema";
    static final String SOURCE_NAME = "switchboardDatabaseUrl";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String url = environment.getProperty(URL_PROPERTY);
        String schema = environment.getProperty(SCHEMA_PROPERTY);
        Map<String, Object> props = new HashMap<>();
        if (url != null && !url.isBlank()) {
            props.putAll(connectionProperties(PostgresUri.parse(url)));
        }
        if (schema != null && !schema.isBlank()) {
            props.putAll(schemaProperties(schema));
        }
        if (!props.isEmpty()) {
            environment.getPropertySources().addLast(new MapPropertySource(SOURCE_NAME, props));
        }
    }

    /** The R2DBC and Flyway connection properties for one database. */
    public static Map<String, Object> connectionProperties(PostgresUri uri) {
        Map<String, Object> props = new HashMap<>();
        props.put("spring.r2dbc.url", uri.r2dbcUrl());
        props.put("spring.r2dbc.username", uri.user());
        props.put("spring.r2dbc.password", uri.password());
        props.put("spring.flyway.url", uri.jdbcUrl());
        props.put("spring.flyway.user", uri.user());
        props.put("spring.flyway.password", uri.password());
        return props;
    }

    /** Flyway owns the schema; every R2DBC connection searches it first. */
    public static Map<String, Object> schemaProperties(String schema) {
        Map<String, Object> props = new HashMap<>();
        props.put("spring.flyway.schemas", schema);
        props.put("spring.flyway.default-schema", schema);
        props.put("spring.r2dbc.properties.schema", schema);
        return props;
    }

    @Override
    public int getOrder() {
        // After config data, so application properties and the environment can set the URL.
        return Ordered.LOWEST_PRECEDENCE;
    }
}
