package dev.switchboard.registryclient;

import java.time.Duration;

/** Client settings for tests: the defaults, except what a test changes. */
final class TestProperties {
    String baseUrl;
    String serviceToken = RegistryStub.TOKEN;
    Duration requestTimeout;
    Integer retries;
    Duration retryBackoff;
    Duration negativeTtl;
    Duration maxAge;
    Duration degradedMaxAge;
    Integer maxEntries;
    Duration feedHeartbeat;
    Duration feedLivenessTimeout;
    // Quick reconnects keep feed tests short.
    Duration feedReconnectBackoff = Duration.ofMillis(20);
    Duration feedReconnectMaxBackoff = Duration.ofMillis(200);

    TestProperties(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    RegistryClientProperties build() {
        return new RegistryClientProperties(baseUrl, serviceToken, requestTimeout, retries, retryBackoff, negativeTtl, maxAge,
                degradedMaxAge, maxEntries, feedHeartbeat, feedLivenessTimeout, feedReconnectBackoff, feedReconnectMaxBackoff);
    }
}
