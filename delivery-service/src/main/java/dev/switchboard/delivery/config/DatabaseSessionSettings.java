package dev.switchboard.delivery.config;

import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import org.springframework.boot.r2dbc.autoconfigure.ConnectionFactoryOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.Map;

/** Session settings every connection of delivery-service starts with. */
@Configuration(proxyBeanMethods = false)
class DatabaseSessionSettings {

    /**
     * {@code lock_timeout}: no statement waits for a row lock without end. Publish transactions of
     * several instances could otherwise wait for each other in a circle PostgreSQL cannot see (part
     * of it is an instance waiting for its own earlier transaction); the one that times out runs
     * again lock-first.
     */
    @Bean
    ConnectionFactoryOptionsBuilderCustomizer lockTimeout(DeliveryProperties properties) {
        String millis = properties.lockTimeout().toMillis() + "ms";
        return builder -> builder.option(PostgresqlConnectionFactoryProvider.OPTIONS, Map.of("lock_timeout", millis));
    }
}
