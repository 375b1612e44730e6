package dev.switchboard.gateway.admission;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Edge admission ({@code switchboard.gateway.admission.*}): the cheap refusals this gateway makes
 * before a request costs anything (its body read, a topic look-up, the hop to delivery).
 *
 * @param enabled             whether the gateway refuses at the edge at all (default on); off, every request goes on to
 *                            delivery, whose buckets still hold
 * @param maxInflightRequests how many {@code /v1} requests and WebSocket {@code publish} frames of one tenant this
 *                            gateway works on at once (long polls included, SSE streams and sockets not); one more is
 *                            {@code 429 rate_limited} with {@code Retry-After: busyRetryAfter}. Default 256
 * @param busyRetryAfter      the {@code Retry-After} of a refusal for too many concurrent requests. Default 1 s
 * @param authFailureBurst    how many refused credentials (REST bearer tokens, WebSocket {@code connect} tokens) one
 *                            client address may send before its requests are refused unchecked: {@code 429
 *                            rate_limited} with {@code Retry-After}, until the allowance comes back. Default 20
 * @param authFailuresPerMinute how fast that allowance comes back. Default 20 (one every 3 s)
 * @param maxLiveStreamReads  how many Durable Streams live reads (long-polls and SSE on {@code /v1/stream/…}, which the
 *                            in-flight bound does not count) one tenant holds open on this gateway at once; one more is
 *                            {@code 429 rate_limited} with {@code Retry-After: busyRetryAfter}. Default 10,000
 */
@Validated
@ConfigurationProperties("switchboard.gateway.admission")
public record AdmissionProperties(
        Boolean enabled,
        @Min(1) int maxInflightRequests,
        @NotNull Duration busyRetryAfter,
        @Min(1) int authFailureBurst,
        @Min(1) int authFailuresPerMinute,
        @Min(1) int maxLiveStreamReads) {

    public static final int DEFAULT_MAX_INFLIGHT_REQUESTS = 256;
    public static final Duration DEFAULT_BUSY_RETRY_AFTER = Duration.ofSeconds(1);
    public static final int DEFAULT_AUTH_FAILURE_BURST = 20;
    public static final int DEFAULT_AUTH_FAILURES_PER_MINUTE = 20;
    public static final int DEFAULT_MAX_LIVE_STREAM_READS = 10_000;

    public AdmissionProperties {
        enabled = enabled == null || enabled;
        maxInflightRequests = maxInflightRequests == 0 ? DEFAULT_MAX_INFLIGHT_REQUESTS : maxInflightRequests;
        busyRetryAfter = busyRetryAfter == null ? DEFAULT_BUSY_RETRY_AFTER : busyRetryAfter;
        authFailureBurst = authFailureBurst == 0 ? DEFAULT_AUTH_FAILURE_BURST : authFailureBurst;
        authFailuresPerMinute = authFailuresPerMinute == 0 ? DEFAULT_AUTH_FAILURES_PER_MINUTE : authFailuresPerMinute;
        maxLiveStreamReads = maxLiveStreamReads == 0 ? DEFAULT_MAX_LIVE_STREAM_READS : maxLiveStreamReads;
    }
}
