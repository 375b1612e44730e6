package dev.switchboard.registry.config;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Settings of registry-service ({@code switchboard.registry.*}).
 *
 * @param adminToken            the platform operator's bearer token ({@code SWITCHBOARD_ADMIN_TOKEN}); generated and printed once when blank
 * @param serviceToken          the bearer token other services use on {@code /internal/v1} ({@code SWITCHBOARD_SERVICE_TOKEN}); generated when blank
 * @param secretKey             base64 of the 32-byte AES key that encrypts client secrets ({@code SWITCHBOARD_SECRET_KEY}); generated with a loud warning when blank
 * @param clientSecretGrace     how long the previous client secret still verifies JWTs after a rotation
 * @param changeRetention       how long change-feed rows are kept for callers that resume
 * @param heartbeatInterval     how often an idle change feed sends a heartbeat line
 * @param maxPageSize           the largest {@code limit} a list accepts
 * @param maxRequestBytes       the largest request body the admin API accepts
 * @param maintenanceInterval   how often expired change rows are pruned and expired previous client secrets wiped
 * @param revocationBarrier     the longest a revocation (a key or tenant deleted) waits for every live change-feed
 *                              subscriber to confirm it applied it before it is answered anyway; by then a
 *                              subscriber that has not confirmed has a silent feed and trusts no cached answer
 *                              older than its {@code degraded-max-age} (feed heartbeat + 2 × that, by default)
 */
@Validated
@ConfigurationProperties("switchboard.registry")
public record RegistryProperties(
        String adminToken,
        String serviceToken,
        String secretKey,
        @NotNull Duration clientSecretGrace,
        @NotNull Duration changeRetention,
        @NotNull Duration heartbeatInterval,
        @Min(1) @Max(1000) int maxPageSize,
        @Min(1024) int maxRequestBytes,
        @NotNull Duration maintenanceInterval,
        @NotNull Duration revocationBarrier) {

    public static final Duration DEFAULT_CLIENT_SECRET_GRACE = Duration.ofHours(1);
    public static final Duration DEFAULT_CHANGE_RETENTION = Duration.ofHours(1);
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_PAGE_SIZE = 100;
    public static final int DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;
    public static final Duration DEFAULT_MAINTENANCE_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_REVOCATION_BARRIER = Duration.ofSeconds(7);

    public RegistryProperties {
        clientSecretGrace = clientSecretGrace == null ? DEFAULT_CLIENT_SECRET_GRACE : clientSecretGrace;
        changeRetention = changeRetention == null ? DEFAULT_CHANGE_RETENTION : changeRetention;
        heartbeatInterval = heartbeatInterval == null ? DEFAULT_HEARTBEAT_INTERVAL : heartbeatInterval;
        maxPageSize = maxPageSize == 0 ? DEFAULT_MAX_PAGE_SIZE : maxPageSize;
        maxRequestBytes = maxRequestBytes == 0 ? DEFAULT_MAX_REQUEST_BYTES : maxRequestBytes;
        maintenanceInterval = maintenanceInterval == null ? DEFAULT_MAINTENANCE_INTERVAL : maintenanceInterval;
        revocationBarrier = revocationBarrier == null ? DEFAULT_REVOCATION_BARRIER : revocationBarrier;
    }
}
