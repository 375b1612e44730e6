package dev.switchboard.delivery.config;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Settings of delivery-service ({@code switchboard.delivery.*}).
 *
 * @param serviceToken          bearer token callers (the gateway, workflow) present on {@code /internal/v1} ({@code SWITCHBOARD_SERVICE_TOKEN})
 * @param maxBatchEvents        most events one group-commit transaction carries
 * @param maxConcurrentCommits  group-commit transactions in flight at once (each holds one connection)
 * @param maxQueuedEvents       accepted-but-uncommitted events an instance holds before it answers 503
 * @param maxBatchSize          most events in one batch request ({@code PROTOCOL.md}: 1000)
 * @param pageSize              rows one stream read fetches at most
 * @param pollInterval          how often a caught-up stream re-checks the log even without a NOTIFY (covers a lost notification)
 * @param retentionInterval     how often the retention sweep runs
 * @param retentionBatch        rows one retention DELETE removes at most
 * @param lockTimeout           how long a statement waits for a row lock before PostgreSQL ends it ({@code lock_timeout});
 *                              a publish transaction that times out runs again lock-first
 * @param lagRefreshInterval    how often each instance reads its per-topic consumer-lag view from PostgreSQL; lag
 *                              backpressure ({@code maxLag}, {@code lagPolicy}) starts and stops within this long of the
 *                              lag crossing the limit, on every instance
 */
@Validated
@ConfigurationProperties("switchboard.delivery")
public record DeliveryProperties(
        String serviceToken,
        @Min(1) @Max(10_000) int maxBatchEvents,
        @Min(1) @Max(64) int maxConcurrentCommits,
        @Min(1) int maxQueuedEvents,
        @Min(1) @Max(1000) int maxBatchSize,
        @Min(1) @Max(10_000) int pageSize,
        @NotNull Duration pollInterval,
        @NotNull Duration retentionInterval,
        @Min(1) int retentionBatch,
        @NotNull Duration lockTimeout,
        @NotNull Duration lagRefreshInterval) {

    public static final int DEFAULT_MAX_BATCH_EVENTS = 2000;
    public static final int DEFAULT_MAX_CONCURRENT_COMMITS = 4;
    public static final int DEFAULT_MAX_QUEUED_EVENTS = 50_000;
    public static final int DEFAULT_MAX_BATCH_SIZE = 1000;
    public static final int DEFAULT_PAGE_SIZE = 500;
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_RETENTION_INTERVAL = Duration.ofSeconds(30);
    public static final int DEFAULT_RETENTION_BATCH = 5000;
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_LAG_REFRESH_INTERVAL = Duration.ofSeconds(1);

    public DeliveryProperties {
        maxBatchEvents = maxBatchEvents == 0 ? DEFAULT_MAX_BATCH_EVENTS : maxBatchEvents;
        maxConcurrentCommits = maxConcurrentCommits == 0 ? DEFAULT_MAX_CONCURRENT_COMMITS : maxConcurrentCommits;
        maxQueuedEvents = maxQueuedEvents == 0 ? DEFAULT_MAX_QUEUED_EVENTS : maxQueuedEvents;
        maxBatchSize = maxBatchSize == 0 ? DEFAULT_MAX_BATCH_SIZE : maxBatchSize;
        pageSize = pageSize == 0 ? DEFAULT_PAGE_SIZE : pageSize;
        pollInterval = pollInterval == null ? DEFAULT_POLL_INTERVAL : pollInterval;
        retentionInterval = retentionInterval == null ? DEFAULT_RETENTION_INTERVAL : retentionInterval;
        retentionBatch = retentionBatch == 0 ? DEFAULT_RETENTION_BATCH : retentionBatch;
        lockTimeout = lockTimeout == null ? DEFAULT_LOCK_TIMEOUT : lockTimeout;
        lagRefreshInterval = lagRefreshInterval == null ? DEFAULT_LAG_REFRESH_INTERVAL : lagRefreshInterval;
    }
}
