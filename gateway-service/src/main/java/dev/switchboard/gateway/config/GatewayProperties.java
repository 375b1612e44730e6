package dev.switchboard.gateway.config;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;
import java.util.List;

/**
 * Settings of gateway-service ({@code switchboard.gateway.*}).
 *
 * @param deliveryUrl      base URL of delivery-service ({@code SWITCHBOARD_DELIVERY_URL})
 * @param serviceToken     bearer token this gateway presents to delivery-service ({@code SWITCHBOARD_SERVICE_TOKEN})
 * @param requestTimeout   how long a publish or history call to delivery may take
 * @param connectTimeout   how long opening a connection to delivery or workflow may take
 * @param workflowUrl      base URL of workflow-service ({@code SWITCHBOARD_WORKFLOW_URL}), where {@code /v1/pipelines}
 *                         and {@code /v1/runs} are forwarded
 * @param workflowTimeout  how long a call to workflow-service may take
 * @param dev              development mode ({@code SWITCHBOARD_DEV}): the demo page ({@code /}, {@code /demo.js}) and
 *                         {@code POST /dev/token}, which mints browser JWTs for any tenant; never on in production. Default off
 * @param streamCorsOrigins origins whose browser pages may call Durable Streams ({@code /v1/stream/…}) across origins
 *                         ({@code SWITCHBOARD_GATEWAY_STREAMCORSORIGINS}, comma-separated; {@code *} for any — safe here, since
 *                         the credential is a bearer header a page must add itself, never a cookie). Default none
 * @param upstreamSilence  how long delivery's live stream of a topic may say nothing (it sends a heartbeat every 15 s)
 *                         before this gateway takes the connection for dead — half-open, stalled — and opens it again
 */
@Validated
@ConfigurationProperties("switchboard.gateway")
public record GatewayProperties(
        @NotBlank String deliveryUrl,
        String serviceToken,
        @NotNull Duration requestTimeout,
        @NotNull Duration connectTimeout,
        @NotBlank String workflowUrl,
        @NotNull Duration workflowTimeout,
        boolean dev,
        List<String> streamCorsOrigins,
        Duration upstreamSilence) {

    public static final String DEFAULT_DELIVERY_URL = "http://127.0.0.1:8082";
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final String DEFAULT_WORKFLOW_URL = "http://127.0.0.1:8083";
    public static final Duration DEFAULT_WORKFLOW_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_UPSTREAM_SILENCE = Duration.ofSeconds(40);

    public GatewayProperties {
        deliveryUrl = deliveryUrl == null || deliveryUrl.isBlank() ? DEFAULT_DELIVERY_URL : deliveryUrl;
        requestTimeout = requestTimeout == null ? DEFAULT_REQUEST_TIMEOUT : requestTimeout;
        connectTimeout = connectTimeout == null ? DEFAULT_CONNECT_TIMEOUT : connectTimeout;
        workflowUrl = workflowUrl == null || workflowUrl.isBlank() ? DEFAULT_WORKFLOW_URL : workflowUrl;
        workflowTimeout = workflowTimeout == null ? DEFAULT_WORKFLOW_TIMEOUT : workflowTimeout;
        upstreamSilence = upstreamSilence == null ? DEFAULT_UPSTREAM_SILENCE : upstreamSilence;
        streamCorsOrigins = streamCorsOrigins == null ? List.of()
                : streamCorsOrigins.stream().map(String::trim).filter(o -> !o.isEmpty()).toList();
    }
}
