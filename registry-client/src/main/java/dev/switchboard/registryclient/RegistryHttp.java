package dev.switchboard.registryclient;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.registry.AppliedReport;
import dev.switchboard.contracts.registry.ClientSecrets;
import dev.switchboard.contracts.registry.ConnectionReport;
import dev.switchboard.contracts.registry.InstanceReport;
import dev.switchboard.contracts.registry.InternalApi;
import dev.switchboard.contracts.registry.KeyPrincipal;
import dev.switchboard.contracts.registry.KeyResolveRequest;
import dev.switchboard.contracts.registry.ResolvedTopic;
import dev.switchboard.contracts.registry.TenantQuotas;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP side of the client: one method per internal endpoint, each with the service token, a
 * deadline, bounded retries, and every failure translated into a {@link SwitchboardException}.
 */
final class RegistryHttp {

    /** Answers that are facts about the registry's data, not failures of the call: cached briefly. */
    static final Set<ErrorCode> NEGATIVE = EnumSet.of(ErrorCode.UNAUTHENTICATED, ErrorCode.TOPIC_NOT_FOUND, ErrorCode.NOT_FOUND);

    static final String REQUESTS_METRIC = "switchboard.registry.client.requests";

    private static final Logger log = LoggerFactory.getLogger(RegistryHttp.class);
    private static final String UNAVAILABLE_DETAIL = "The registry is unavailable; retry later.";

    private final WebClient web;
    private final Duration timeout;
    private final Retry retry;
    private final MeterRegistry meters;

    RegistryHttp(WebClient.Builder builder, RegistryClientProperties properties, MeterRegistry meters) {
        this.web = builder.clone()
                .baseUrl(properties.baseUrl())
                .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + properties.serviceToken())
                .build();
        this.timeout = properties.requestTimeout();
        this.retry = Retry.backoff(properties.retries(), properties.retryBackoff())
                .filter(RegistryHttp::retryable)
                .onRetryExhaustedThrow((spec, signal) -> signal.failure());
        this.meters = meters;
    }

    /**
     * The key travels in a POST body to stay out of URLs and logs, but the call only reads, so it is
     * retried like the GETs.
     */
    Mono<KeyPrincipal> resolveKey(String apiKey) {
        return call(Call.RESOLVE_KEY, web.post().uri(InternalApi.RESOLVE_KEY)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(new KeyResolveRequest(apiKey)), KeyPrincipal.class);
    }

    Mono<ResolvedTopic> resolveTopic(String tenant, String topic) {
        return call(Call.RESOLVE_TOPIC, web.get().uri(InternalApi.RESOLVE_TOPIC + "?name={name}", tenant, topic), ResolvedTopic.class);
    }

    Mono<ClientSecrets> clientSecrets(String tenant) {
        return call(Call.CLIENT_SECRETS, web.get().uri(InternalApi.CLIENT_SECRETS, tenant), ClientSecrets.class);
    }

    Mono<TenantQuotas> quotas(String tenant) {
        return call(Call.QUOTAS, web.get().uri(InternalApi.QUOTAS, tenant), TenantQuotas.class);
    }

    Mono<ConnectionReport.ConnectionTotals> reportConnections(String gateway, ConnectionReport report) {
        return call(Call.CONNECTIONS, web.put().uri(InternalApi.GATEWAY_CONNECTIONS, gateway)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(report), ConnectionReport.ConnectionTotals.class);
    }

    Mono<InstanceReport.LiveInstances> reportDeliveryInstance(String instance, InstanceReport report) {
        return call(Call.DELIVERY_INSTANCE, web.put().uri(InternalApi.DELIVERY_INSTANCE, instance)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(report), InstanceReport.LiveInstances.class);
    }

    Mono<Void> leaveDeliveryInstance(String instance) {
        return call(Call.DELIVERY_INSTANCE, web.delete().uri(InternalApi.DELIVERY_INSTANCE, instance), Void.class);
    }

    Mono<Void> reportApplied(String subscriber, AppliedReport report) {
        return call(Call.CHANGE_SUBSCRIBER, web.put().uri(InternalApi.CHANGE_SUBSCRIBER, subscriber)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(report), Void.class);
    }

    Mono<Void> leaveChanges(String subscriber) {
        return call(Call.CHANGE_SUBSCRIBER, web.delete().uri(InternalApi.CHANGE_SUBSCRIBER, subscriber), Void.class);
    }

    /**
     * One connection of the change feed, replayed from {@code after}. {@code onOpen} runs when the
     * registry has accepted the stream, before its first line. Ends when the registry ends it; never
     * retried here (the feed owns reconnection).
     */
    Flux<ChangeLine> changes(long after, Runnable onOpen) {
        return web.get().uri(InternalApi.CHANGES + "?after={after}", after)
                .accept(MediaType.APPLICATION_NDJSON)
                .exchangeToFlux(response -> {
                    if (response.statusCode().is2xxSuccessful()) {
                        onOpen.run();
                        return response.bodyToFlux(ChangeLine.class);
                    }
                    int status = response.statusCode().value();
                    return response.releaseBody().thenMany(Flux.<ChangeLine>error(new FeedRejectedException(status)));
                });
    }

    private <T> Mono<T> call(Call call, WebClient.RequestHeadersSpec<?> request, Class<T> type) {
        request.accept(MediaType.APPLICATION_JSON);
        return Mono.defer(() -> {
            long start = System.nanoTime();
            return request.exchangeToMono(response -> read(response, type))
                    .retryWhen(retry)
                    .timeout(timeout)
                    .onErrorMap(error -> translate(call, error))
                    .doOnSuccess(value -> record(call, "success", start))
                    .doOnError(error -> record(call, outcome((SwitchboardException) error), start));
        });
    }

    private static <T> Mono<T> read(ClientResponse response, Class<T> type) {
        int status = response.statusCode().value();
        if (response.statusCode().is2xxSuccessful()) {
            if (type == Void.class) {
                // 204: nothing to read, and nothing missing.
                return response.releaseBody().then(Mono.empty());
            }
            return response.bodyToMono(type)
                    .switchIfEmpty(Mono.error(() -> new UpstreamProblem(status, null, "empty body")));
        }
        return response.bodyToMono(ProblemBody.class)
                .onErrorResume(error -> Mono.empty())
                .defaultIfEmpty(new ProblemBody(null, null))
                .flatMap(problem -> Mono.error(new UpstreamProblem(status, problem.code(), problem.detail())));
    }

    private static boolean retryable(Throwable error) {
        return error instanceof WebClientRequestException
                || (error instanceof UpstreamProblem problem && problem.status >= 500);
    }

    /** Only the registry's own verdicts on the data pass through; anything else is "try later". */
    private static SwitchboardException translate(Call call, Throwable error) {
        if (error instanceof SwitchboardException known) {
            return known;
        }
        if (error instanceof UpstreamProblem problem) {
            ErrorCode code = ErrorCode.fromCode(problem.code == null ? "" : problem.code).orElse(null);
            if (problem.status >= 500 || problem.status == 429) {
                log.debug("registry-service answered {} with {}", call.tag, problem.status);
                return unavailable(error);
            }
            if (call == Call.RESOLVE_KEY && problem.status == 401 && code == ErrorCode.UNAUTHENTICATED) {
                return new SwitchboardException(ErrorCode.UNAUTHENTICATED, "The API key is unknown or revoked.");
            }
            if (problem.status == 401 || problem.status == 403) {
                // Nothing a caller did: our service token is wrong. Say so loudly, answer "try later".
                log.warn("registry-service rejected the service token on {} ({}); check switchboard.registry-client.service-token",
                        call.tag, problem.status);
                return unavailable(error);
            }
            if (code != null && problem.status >= 400 && code.status() == problem.status) {
                String detail = problem.detail == null || problem.detail.isBlank() ? code.title() : problem.detail;
                return new SwitchboardException(code, detail);
            }
            log.warn("registry-service answered {} with status {} and no problem code this client knows", call.tag, problem.status);
            return unavailable(error);
        }
        if (error instanceof TimeoutException || error instanceof WebClientRequestException) {
            log.debug("registry-service unreachable on {}: {}", call.tag, error.toString());
            return unavailable(error);
        }
        log.warn("registry-service call {} failed", call.tag, error);
        return unavailable(error);
    }

    private static SwitchboardException unavailable(Throwable cause) {
        return new SwitchboardException(ErrorCode.UNAVAILABLE, UNAVAILABLE_DETAIL, cause);
    }

    private static String outcome(SwitchboardException error) {
        if (NEGATIVE.contains(error.code())) {
            return "negative";
        }
        return error.code() == ErrorCode.UNAVAILABLE ? "unavailable" : "rejected";
    }

    private void record(Call call, String outcome, long start) {
        Timer.builder(REQUESTS_METRIC)
                .description("Calls to registry-service's internal API (cache misses)")
                .tag("call", call.tag)
                .tag("outcome", outcome)
                .register(meters)
                .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }

    private enum Call {
        RESOLVE_KEY("resolve_key"), RESOLVE_TOPIC("resolve_topic"), CLIENT_SECRETS("client_secrets"), QUOTAS("quotas"),
        CONNECTIONS("connections"), DELIVERY_INSTANCE("delivery_instance"), CHANGE_SUBSCRIBER("change_subscriber");

        private final String tag;

        Call(String tag) {
            this.tag = tag;
        }
    }

    /** The parts of an RFC 9457 problem this client reads. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ProblemBody(String code, String detail) {
    }

    /**
     * One change-feed line as sent. {@code kind} stays a string so that a kind this client does not
     * know yet is handled (conservatively) instead of breaking the stream.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ChangeLine(long id, String kind, String tenant, String ref, Instant at) {
    }

    /** A non-2xx answer, before translation. No stack trace: it is a value, and retries are frequent. */
    static final class UpstreamProblem extends RuntimeException {
        final int status;
        final String code;
        final String detail;

        UpstreamProblem(int status, String code, String detail) {
            super("registry answered " + status + (code == null ? "" : " " + code), null, false, false);
            this.status = status;
            this.code = code;
            this.detail = detail;
        }
    }

    /** The registry refused to open the feed. */
    static final class FeedRejectedException extends RuntimeException {
        FeedRejectedException(int status) {
            super("registry refused the change feed with status " + status, null, false, false);
        }
    }
}
