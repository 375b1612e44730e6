package dev.switchboard.gateway.config;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;
import java.util.List;

/**
 * Settings of the WebSocket endpoint {@code /v1/ws} ({@code switchboard.gateway.websocket.*}).
 *
 * @param allowedOrigins  browser origins allowed besides the gateway's own, as Spring CORS origin patterns
 *                        ({@code https://app.example.com}, {@code https://*.example.com}, {@code http://localhost:[*]});
 *                        default none. Same-origin pages and clients that send no {@code Origin} (backends, CLIs)
 *                        are always allowed; any other origin is refused with 403 before the upgrade
 * @param connectTimeout  how long a socket may take to send a valid {@code connect} frame before close 4001
 * @param pingInterval    how often the server sends a WebSocket ping; also announced in {@code connected}
 * @param idleTimeout     a socket from which nothing (no frame, no pong) arrived for this long is closed (1001)
 * @param maxFrameBytes   the largest client message taken (the payload of a frame, or of all fragments of one message);
 *                        a larger one gets {@code error payload_too_large} and close 4009, and is not buffered
 * @param queueFrames     bound of a socket's outbound queue, in frames: a socket that falls this far behind is lagging
 * @param queueBytes      bound of a socket's outbound queue, in bytes (UTF-8 of the queued frames)
 * @param closeTimeout    how long the last frames before a close ({@code reconnect}, {@code error}) may take to be
 *                        written before the connection is cut anyway
 * @param maxInflight     how many requests of one socket ({@code publish}, {@code subscribe}) are worked on at once;
 *                        more frames wait unread (TCP backpressure)
 * @param upstreamLinger  how long a topic's upstream stream stays open after its last local subscriber left
 * @param shutdownJitter  on shutdown each socket's {@code reconnect.delayMs} is uniform in [0, this], so clients
 *                        do not all reconnect at once
 * @param shutdownTimeout how long shutdown waits for sockets to close after sending {@code reconnect}
 * @param connectionReportInterval how often this gateway reports its sockets per tenant to the registry and learns
 *                        the other gateways' (the tenant's {@code maxConnections} holds across all gateways; a burst
 *                        of connects spread over several gateways within one interval can overshoot it)
 */
@Validated
@ConfigurationProperties("switchboard.gateway.websocket")
public record WebSocketProperties(
        List<String> allowedOrigins,
        @NotNull Duration connectTimeout,
        @NotNull Duration pingInterval,
        @NotNull Duration idleTimeout,
        @Min(256) int maxFrameBytes,
        @Min(16) int queueFrames,
        @Min(4096) long queueBytes,
        @NotNull Duration closeTimeout,
        @Min(1) int maxInflight,
        @NotNull Duration upstreamLinger,
        @NotNull Duration shutdownJitter,
        @NotNull Duration shutdownTimeout,
        @NotNull Duration connectionReportInterval) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(25);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_FRAME_BYTES = 128 * 1024;
    public static final int DEFAULT_QUEUE_FRAMES = 1000;
    public static final long DEFAULT_QUEUE_BYTES = 1024 * 1024;
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_INFLIGHT = 16;
    public static final Duration DEFAULT_UPSTREAM_LINGER = Duration.ofSeconds(2);
    public static final Duration DEFAULT_SHUTDOWN_JITTER = Duration.ofSeconds(5);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CONNECTION_REPORT_INTERVAL = Duration.ofSeconds(2);

    public WebSocketProperties {
        allowedOrigins = allowedOrigins == null ? List.of() : List.copyOf(allowedOrigins);
        connectTimeout = connectTimeout == null ? DEFAULT_CONNECT_TIMEOUT : connectTimeout;
        pingInterval = pingInterval == null ? DEFAULT_PING_INTERVAL : pingInterval;
        idleTimeout = idleTimeout == null ? DEFAULT_IDLE_TIMEOUT : idleTimeout;
        maxFrameBytes = maxFrameBytes == 0 ? DEFAULT_MAX_FRAME_BYTES : maxFrameBytes;
        queueFrames = queueFrames == 0 ? DEFAULT_QUEUE_FRAMES : queueFrames;
        queueBytes = queueBytes == 0 ? DEFAULT_QUEUE_BYTES : queueBytes;
        closeTimeout = closeTimeout == null ? DEFAULT_CLOSE_TIMEOUT : closeTimeout;
        maxInflight = maxInflight == 0 ? DEFAULT_MAX_INFLIGHT : maxInflight;
        upstreamLinger = upstreamLinger == null ? DEFAULT_UPSTREAM_LINGER : upstreamLinger;
        shutdownJitter = shutdownJitter == null ? DEFAULT_SHUTDOWN_JITTER : shutdownJitter;
        shutdownTimeout = shutdownTimeout == null ? DEFAULT_SHUTDOWN_TIMEOUT : shutdownTimeout;
        connectionReportInterval = connectionReportInterval == null ? DEFAULT_CONNECTION_REPORT_INTERVAL : connectionReportInterval;
    }
}
