package dev.switchboard.delivery;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;

@TestConfiguration(proxyBeanMethods = false)
public class DeliveryTestConfiguration {

    @Bean
    InMemoryRegistry inMemoryRegistry() {
        return new InMemoryRegistry();
    }
}
