package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.errors.Headers;
import dev.switchboard.platform.problem.SwitchboardException;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** What the gateway's clients of internal services (delivery, workflow) share: the HTTP client and the relay of answers. */
final class UpstreamHttp {

    private static final Logger log = LoggerFactory.getLogger(UpstreamHttp.class);

    private UpstreamHttp() {
    }

    /**
     * A client of one internal service, authenticated with the service token, on the server's own
     * event loops when there are some: a forward opened from a request's loop stays on it.
     */
    static WebClient client(WebClient.Builder builder, String pool, int maxConnections, String baseUrl, String serviceToken,
                            Duration connectTimeout, ReactorResourceFactory resources) {
        HttpClient http = HttpClient.create(ConnectionProvider.builder(pool)
                        .maxConnections(maxConnections)
                        .pendingAcquireMaxCount(10_000)
                        .build())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis());
        if (resources != null) {
            http = http.runOn(resources.getLoopResources());
        }
        return builder.clone()
                .baseUrl(baseUrl)
                .clientConnector(new ReactorClientHttpConnector(http))
                .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + (serviceToken == null ? "" : serviceToken))
                .build();
    }

    /**
     * A failed call as the caller's {@code 503 unavailable} (a problem the upstream answered stays as it is).
     *
     * @param what    what the caller is told is unavailable, e.g. "The event log"
     * @param service the service's name, for the WARN log
     */
    static Throwable unavailable(Throwable e, String what, String service) {
        if (e instanceof SwitchboardException) {
            return e;
        }
        if (e instanceof TimeoutException) {
            return new SwitchboardException(ErrorCode.UNAVAILABLE, what + " did not answer in time; retry shortly.", e);
        }
        log.warn("{} call failed: {}", service, e.toString());
        return new SwitchboardException(ErrorCode.UNAVAILABLE, what + " is unavailable; retry shortly.", e);
    }

    /** The upstream's answer as it is: status, content type, {@code Location}, {@code Retry-After} and body. */
    static Mono<ResponseEntity<byte[]>> relay(ClientResponse response) {
        return response.bodyToMono(byte[].class).defaultIfEmpty(new byte[0]).map(body -> {
            ResponseEntity.BodyBuilder out = ResponseEntity.status(response.statusCode());
            response.headers().contentType().ifPresent(out::contentType);
            response.headers().header(Headers.RETRY_AFTER).forEach(v -> out.header(Headers.RETRY_AFTER, v));
            response.headers().header(HttpHeaders.LOCATION).forEach(v -> out.header(HttpHeaders.LOCATION, v));
            return out.body(body);
        });
    }
}
