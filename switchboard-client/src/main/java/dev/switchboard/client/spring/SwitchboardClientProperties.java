package dev.switchboard.client.spring;

import dev.switchboard.client.RetryPolicy;
import dev.switchboard.client.SwitchboardClient;
import org.springframework.boot.context.properties.ConfigurationProperties;

import java.time.Duration;

/**
 * {@code switchboard.client.*}: the {@link SwitchboardClient} the auto-configuration makes.
 *
 * @param baseUrl        the gateway's URL, e.g. {@code http://switchboard:8080}; the client is made only when set
 * @param apiKey         the tenant's API key ({@code sb_…}), sent as {@code Authorization: Bearer …}
 * @param connectTimeout how long opening a connection may take (default 5 s)
 * @param requestTimeout how long one attempt waits for its response (default 10 s)
 * @param callTimeout    how long one call may take with its retries (default 60 s)
 * @param maxAttempts    attempts per call in all (default 5)
 * @param initialBackoff the wait before the first retry, doubling after (default 200 ms)
 * @param maxBackoff     the longest wait between attempts (default 5 s)
 * @param maxRetryAfter  the longest {@code Retry-After} waited out (default 30 s)
 */
@ConfigurationProperties("switchboard.client")
public record SwitchboardClientProperties(String baseUrl, String apiKey, Duration connectTimeout,
                                          Duration requestTimeout, Duration callTimeout, Integer maxAttempts,
                                          Duration initialBackoff, Duration maxBackoff, Duration maxRetryAfter) {

    public SwitchboardClientProperties {
        connectTimeout = connectTimeout == null ? SwitchboardClient.DEFAULT_CONNECT_TIMEOUT : connectTimeout;
        requestTimeout = requestTimeout == null ? SwitchboardClient.DEFAULT_REQUEST_TIMEOUT : requestTimeout;
        callTimeout = callTimeout == null ? SwitchboardClient.DEFAULT_CALL_TIMEOUT : callTimeout;
        maxAttempts = maxAttempts == null ? RetryPolicy.DEFAULT_MAX_ATTEMPTS : maxAttempts;
        initialBackoff = initialBackoff == null ? RetryPolicy.DEFAULT_INITIAL_BACKOFF : initialBackoff;
        maxBackoff = maxBackoff == null ? RetryPolicy.DEFAULT_MAX_BACKOFF : maxBackoff;
        maxRetryAfter = maxRetryAfter == null ? RetryPolicy.DEFAULT_MAX_RETRY_AFTER : maxRetryAfter;
    }

    /** The client these properties describe. */
    public SwitchboardClient build() {
        return SwitchboardClient.builder(baseUrl)
                .apiKey(apiKey)
                .connectTimeout(connectTimeout)
                .requestTimeout(requestTimeout)
                .callTimeout(callTimeout)
                .retryPolicy(new RetryPolicy(maxAttempts, initialBackoff, maxBackoff, maxRetryAfter))
                .build();
    }
}
