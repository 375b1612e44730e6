package dev.switchboard.gateway.admission;

import dev.switchboard.gateway.auth.Caller;
import org.springframework.http.HttpMethod;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.http.server.PathContainer;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Mono;

/**
 * {@link EdgeAdmission} for REST: runs in the security chain right after authorization, so the
 * tenant is known from the credential while nothing of the request has been read or forwarded
 * yet. A refusal is the usual problem+json ({@code 429 rate_limited}, {@code Retry-After}); the
 * unread body is discarded by the server. SSE streams ({@code /v1/topics/{topic}/stream}), the
 * WebSocket upgrade and Durable Streams' live reads ({@code GET /v1/stream/…?live=…}, long-polls and
 * SSE that wait for data by design) are long-lived and not counted here.
 */
public class EdgeAdmissionFilter implements WebFilter {

    private static final PathPattern PUBLISH = PathPatternParser.defaultInstance.parse("/v1/topics/{topic}/events");
    private static final PathPattern STREAM = PathPatternParser.defaultInstance.parse("/v1/topics/{topic}/stream");
    private static final PathPattern WEBSOCKET = PathPatternParser.defaultInstance.parse("/v1/ws");
    private static final PathPattern DURABLE_STREAM = PathPatternParser.defaultInstance.parse("/v1/stream/**");
    static final PathPattern PUBLIC_API = PathPatternParser.defaultInstance.parse("/v1/**");

    private final EdgeAdmission admission;

    public EdgeAdmissionFilter(EdgeAdmission admission) {
        this.admission = admission;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        PathContainer path = exchange.getRequest().getPath().pathWithinApplication();
        if (!admission.enabled() || !PUBLIC_API.matches(path) || STREAM.matches(path) || WEBSOCKET.matches(path) || liveRead(exchange, path)) {
            return chain.filter(exchange);
        }
        boolean publish = exchange.getRequest().getMethod() == HttpMethod.POST && PUBLISH.matches(path);
        return ReactiveSecurityContextHolder.getContext()
                .map(SecurityContext::getAuthentication)
                .map(Authentication::getPrincipal)
                .filter(Caller.class::isInstance)
                .cast(Caller.class)
                .flatMap(caller -> admission.admit(caller.tenant(), EdgeAdmission.Transport.HTTP, publish))
                .map(admitted -> chain.filter(exchange).doFinally(signal -> admitted.release()))
                // Not authenticated as a tenant: authorization has already answered, or the path is public.
                .switchIfEmpty(Mono.fromSupplier(() -> chain.filter(exchange)))
                .flatMap(work -> work);
    }

    private static boolean liveRead(ServerWebExchange exchange, PathContainer path) {
        return exchange.getRequest().getMethod() == HttpMethod.GET && exchange.getRequest().getQueryParams().containsKey("live")
                && DURABLE_STREAM.matches(path);
    }
}
