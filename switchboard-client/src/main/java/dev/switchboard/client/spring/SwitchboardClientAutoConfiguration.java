package dev.switchboard.client.spring;

import dev.switchboard.client.SwitchboardClient;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * A {@link SwitchboardClient} bean from {@code switchboard.client.*} when
 * {@code switchboard.client.base-url} is set and the application has not made its own. Closed
 * with the context.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "switchboard.client", name = "base-url")
@EnableConfigurationProperties(SwitchboardClientProperties.class)
public class SwitchboardClientAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    SwitchboardClient switchboardClient(SwitchboardClientProperties properties) {
        return properties.build();
    }
}
