package dev.switchboard.platform.security;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.observation.SecurityObservationSettings;

/**
 * No Micrometer observation around each security filter, authentication and authorization: with an
 * observation registry present, Spring Security otherwise starts and stops several observations per
 * request (one per filter of the chain), which cost more CPU than the checks themselves on the
 * publish path (measured: about a tenth of the platform's CPU under batched publishing). Requests
 * are still timed as a whole by the HTTP server's own {@code http.server.requests} observation, and
 * rejected credentials still show in the services' problem responses and counters.
 */
@AutoConfiguration
@ConditionalOnClass(SecurityObservationSettings.class)
public class SecurityObservationAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SecurityObservationSettings securityObservationSettings() {
        return SecurityObservationSettings.noObservations();
    }
}
