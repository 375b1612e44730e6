package dev.switchboard.gateway.auth;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.gateway.admission.AuthFailureFilter;
import dev.switchboard.gateway.admission.AuthFailureLimiter;
import dev.switchboard.gateway.admission.EdgeAdmission;
import dev.switchboard.gateway.admission.EdgeAdmissionFilter;
import dev.switchboard.gateway.config.GatewayProperties;
import dev.switchboard.platform.problem.ProblemMapper;
import dev.switchboard.platform.problem.ProblemWebExceptionHandler;
import dev.switchboard.platform.security.StatelessSecurity;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.reactive.CorsConfigurationSource;
import org.springframework.web.cors.reactive.UrlBasedCorsConfigurationSource;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

import java.util.List;

/**
 * The public edge authenticates every {@code /v1} request by bearer token: a tenant API key
 * ({@code sb_…}) resolved through the registry (cached; a revoked key fails within a second), or a
 * browser's client JWT, verified like the WebSocket's {@code connect} token ({@link ClientTokens}).
 * Failures are problem+json: 401 for a missing or refused credential, with {@code WWW-Authenticate:
 * Bearer} ({@code error="invalid_token"} and the reason when a token was given) and a detail that
 * says what was wrong and what is accepted; 503 when the registry cannot be asked. What a caller may do with a topic is decided per request from its {@link Caller}.
 */
@Configuration(proxyBeanMethods = false)
class GatewaySecurity {

    /** The end of every 401 detail: what {@code /v1} takes. */
    static final String ACCEPTED = "Accepted: an API key (sb_…) or " + ClientTokens.ACCEPTS + ".";
    static final String MISSING = "A bearer credential is required (Authorization: Bearer <token>). " + ACCEPTED;
    static final String NEITHER = "The token is neither an API key (sb_…) nor a JWT"
            + " (the platform admin token is for the registry's /admin/v1, not for /v1).";

    @Bean
    SecurityWebFilterChain gatewayFilterChain(ServerHttpSecurity http, RegistryClient registry, ClientTokens tokens,
                                              ProblemWebExceptionHandler problems, EdgeAdmission admission,
                                              AuthFailureLimiter authFailures, GatewayProperties properties) {
        AuthenticationWebFilter bearer = new AuthenticationWebFilter(authenticationManager(registry, tokens));
        bearer.setServerAuthenticationConverter(GatewaySecurity::bearerToken);
        bearer.setSecurityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        bearer.setAuthenticationFailureHandler((webExchange, e) -> {
            if (!(e instanceof AuthenticationServiceException)) {
                authFailures.failed(webExchange.getExchange().getRequest().getRemoteAddress());
            }
            return unauthenticated(problems, webExchange.getExchange(), e);
        });
        return StatelessSecurity.base(http, problems, MISSING, "This credential may not do this.")
                // Durable Streams may be read and written from other origins' pages, if the operator allows them.
                .cors(cors -> cors.configurationSource(streamCors(properties.streamCorsOrigins())))
                // An address that had too many credentials refused is turned away before its credential is looked at.
                .addFilterBefore(new AuthFailureFilter(authFailures), SecurityWebFiltersOrder.AUTHENTICATION)
                .addFilterAt(bearer, SecurityWebFiltersOrder.AUTHENTICATION)
                // A tenant's excess is refused here, before its body is read or anything is looked up or forwarded.
                .addFilterAfter(new EdgeAdmissionFilter(admission), SecurityWebFiltersOrder.AUTHORIZATION)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers("/actuator/health/**", "/actuator/prometheus").permitAll()
                        // The browser SDK and the demo page: static files, public by nature.
                        .pathMatchers(HttpMethod.GET, "/", "/index.html", "/demo.js", "/favicon.ico", "/sdk/switchboard.js",
                                "/sdk/switchboard.d.ts").permitAll()
                        // Exists only in development mode (DevTokenController); otherwise no handler answers: 404.
                        .pathMatchers(HttpMethod.POST, "/dev/token").permitAll()
                        // WebSocket: authenticated by its connect frame (a client JWT), not at the HTTP level.
                        .pathMatchers("/v1/ws").permitAll()
                        .pathMatchers("/v1/**").authenticated()
                        .anyExchange().denyAll())
                .build();
    }

    /**
     * CORS for {@code /v1/stream/**} only: the protocol's methods and headers, and its answer headers
     * exposed to the page. A preflight is answered here, before authentication (it carries no credential).
     */
    static CorsConfigurationSource streamCors(List<String> origins) {
        UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
        if (origins.isEmpty()) {
            return source;
        }
        CorsConfiguration config = new CorsConfiguration();
        config.setAllowedOrigins(origins);
        config.setAllowedMethods(List.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"));
        config.setAllowedHeaders(List.of("Authorization", "Content-Type", "If-None-Match", "Stream-TTL", "Stream-Expires-At", "Stream-Seq",
                "Stream-Closed", "Stream-Forked-From", "Stream-Fork-Offset", "Stream-Fork-Sub-Offset", "Producer-Id", "Producer-Epoch",
                "Producer-Seq", "traceparent"));
        config.setExposedHeaders(List.of("Stream-Next-Offset", "Stream-Cursor", "Stream-Up-To-Date", "Stream-Closed", "Stream-TTL",
                "Stream-Expires-At", "Stream-SSE-Data-Encoding", "Producer-Epoch", "Producer-Seq", "Producer-Expected-Seq",
                "Producer-Received-Seq", "ETag", "Location", "Retry-After"));
        config.setAllowCredentials(false);
        config.setMaxAge(3600L);
        source.registerCorsConfiguration("/v1/stream/**", config);
        return source;
    }

    private static ReactiveAuthenticationManager authenticationManager(RegistryClient registry, ClientTokens tokens) {
        return authentication -> {
            String token = ((BearerToken) authentication).getCredentials();
            Mono<? extends Caller> caller = token.startsWith("sb_") ? registry.resolveKey(token).map(Caller.ApiKey::new)
                    : ClientTokens.looksLikeJwt(token) ? tokens.verify(token)
                    : Mono.error(new SwitchboardException(ErrorCode.UNAUTHENTICATED, NEITHER));
            return caller
                    .<Authentication>map(CallerAuthentication::new)
                    .onErrorMap(SwitchboardException.class, e -> e.code() == ErrorCode.UNAUTHENTICATED
                            ? new BadCredentialsException(e.getBody().getDetail() == null ? "Unknown credential." : e.getBody().getDetail())
                            : new AuthenticationServiceException("The registry is unavailable.", e));
        };
    }

    private static Mono<Authentication> bearerToken(ServerWebExchange exchange) {
        String token = BearerToken.parse(exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION));
        return token == null ? Mono.empty() : Mono.just(new BearerToken(token));
    }

    /**
     * A token was given and refused: RFC 6750 §3.1's {@code invalid_token}, its description the reason
     * (the problem's detail adds what is accepted).
     */
    private static Mono<Void> unauthenticated(ProblemWebExceptionHandler problems, ServerWebExchange exchange, AuthenticationException e) {
        if (e instanceof AuthenticationServiceException) {
            return problems.write(exchange.getResponse(),
                    ProblemMapper.of(ErrorCode.UNAVAILABLE, "Credentials cannot be checked right now; retry shortly."));
        }
        String reason = e instanceof BadCredentialsException && e.getMessage() != null && !e.getMessage().isBlank()
                ? e.getMessage() : "The credential is unknown, revoked or malformed.";
        exchange.getResponse().getHeaders().set(HttpHeaders.WWW_AUTHENTICATE,
                "Bearer error=\"invalid_token\", error_description=\"" + headerSafe(reason) + "\"");
        return problems.write(exchange.getResponse(), ProblemMapper.of(ErrorCode.UNAUTHENTICATED, reason + " " + ACCEPTED));
    }

    /** RFC 6750 §3: an error_description is printable ASCII without {@code "} and {@code \}. */
    static String headerSafe(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '…') {
                out.append("...");
            } else if (c == '"' || c == '\\') {
                out.append('\'');
            } else {
                out.append(c >= 0x20 && c <= 0x7e ? c : '?');
            }
        }
        return out.toString();
    }
}
