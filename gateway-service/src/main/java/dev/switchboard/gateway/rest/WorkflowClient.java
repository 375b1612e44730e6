package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.gateway.config.GatewayProperties;
import dev.switchboard.platform.problem.SwitchboardException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.stereotype.Component;
import org.springframework.util.MultiValueMap;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The gateway's calls to workflow-service ({@code /v1/pipelines}, {@code /v1/runs}), for the
 * caller's tenant, authenticated with the service token. Answers are relayed as they are (status,
 * problem bodies, {@code Location}); an unreachable or slow workflow-service becomes
 * {@code 503 unavailable}, and one that refuses this gateway's service token too (with a WARN:
 * the caller cannot fix that).
 */
@Component
class WorkflowClient {

    private static final Logger log = LoggerFactory.getLogger(WorkflowClient.class);

    private final WebClient web;
    private final Duration timeout;

    WorkflowClient(WebClient.Builder builder, GatewayProperties properties, ObjectProvider<ReactorResourceFactory> resources) {
        this.web = UpstreamHttp.client(builder, "workflow", 100, properties.workflowUrl(), properties.serviceToken(),
                properties.connectTimeout(), resources.getIfAvailable());
        this.timeout = properties.workflowTimeout();
    }

    /**
     * @param path  below the tenant, e.g. {@code /pipelines/{name}}, with its variables
     * @param query the query parameters to pass on (the caller has kept only those the endpoint takes)
     * @param body  with its content type, or null. Only reads are retried (once, on a failed connection):
     *              a save whose answer was lost may have made a version
     */
    Mono<ResponseEntity<byte[]>> forward(HttpMethod method, String tenant, String path, Object[] variables,
                                         MultiValueMap<String, String> query, MediaType contentType, byte[] body) {
        List<Object> values = new ArrayList<>();
        values.add(tenant);
        values.addAll(List.of(variables));
        WebClient.RequestBodySpec request = web.method(method).uri(b -> {
            b.path("/internal/v1/tenants/{tenant}" + path);
            // Values as template variables, so they are encoded, never read as templates themselves.
            query.forEach((name, given) -> given.forEach(value -> {
                b.queryParam(name, "{q" + values.size() + "}");
                values.add(value);
            }));
            return b.build(values.toArray());
        });
        WebClient.RequestHeadersSpec<?> withBody = body == null ? request
                : request.contentType(contentType == null ? MediaType.APPLICATION_JSON : contentType).bodyValue(body);
        Mono<ResponseEntity<byte[]>> call = withBody.exchangeToMono(UpstreamHttp::relay);
        if (method == HttpMethod.GET) {
            call = call.retryWhen(Retry.backoff(1, Duration.ofMillis(100)).filter(WebClientRequestException.class::isInstance));
        }
        return call.timeout(timeout)
                .map(WorkflowClient::refusedToken)
                .onErrorMap(WorkflowClient::unavailable);
    }

    private static ResponseEntity<byte[]> refusedToken(ResponseEntity<byte[]> answer) {
        if (answer.getStatusCode() == HttpStatus.UNAUTHORIZED) {
            log.warn("workflow-service rejected this gateway's service token: check SWITCHBOARD_SERVICE_TOKEN");
            throw new SwitchboardException(ErrorCode.UNAVAILABLE, "The workflow service is unavailable; retry shortly.");
        }
        return answer;
    }

    private static Throwable unavailable(Throwable e) {
        return UpstreamHttp.unavailable(e, "The workflow service", "workflow-service");
    }
}
