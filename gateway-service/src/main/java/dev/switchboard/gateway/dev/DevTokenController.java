package dev.switchboard.gateway.dev;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

/**
 * Development mode only ({@code switchboard.gateway.dev=true}, {@code SWITCHBOARD_DEV=true}):
 * {@code POST /dev/token} mints a browser JWT for any tenant, signed with the tenant's current client
 * secret, so the demo page and local experiments need no backend of their own. Anyone who can reach
 * the gateway gets any tenant's token this way — hence the bean does not exist at all (the path is a
 * 404) unless dev mode is on. In production a tenant's backend mints these tokens itself.
 */
@RestController
@ConditionalOnProperty(prefix = "switchboard.gateway", name = "dev", havingValue = "true")
class DevTokenController {

    static final String PATH = "/dev/token";
    static final long DEFAULT_TTL_SECONDS = 600;
    static final long MAX_TTL_SECONDS = 24 * 3600;

    private static final Logger log = LoggerFactory.getLogger(DevTokenController.class);

    private final RegistryClient registry;

    DevTokenController(RegistryClient registry) {
        this.registry = registry;
        log.warn("Development mode: {} hands out client tokens for any tenant. Never enable it in production.", PATH);
    }

    /**
     * @param tenant     the tenant ({@code tid})
     * @param sub        the user ({@code sub}); default {@code dev}
     * @param subscribe  topic patterns the token may subscribe to; default none
     * @param publish    topic patterns the token may publish to; default none
     * @param ttlSeconds lifetime, 1 s to 24 h; default 600
     */
    record TokenRequest(String tenant, String sub, List<String> subscribe, List<String> publish, Long ttlSeconds) {
    }

    record TokenResponse(String token, Instant expiresAt) {
    }

    @PostMapping(path = PATH, consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<TokenResponse> token(@RequestBody TokenRequest request) {
        return Mono.defer(() -> {
            if (request.tenant() == null || !TopicNames.isValidTenantId(request.tenant())) {
                throw invalid("\"tenant\" must be a tenant id.");
            }
            List<String> subscribe = patterns(request.subscribe(), "subscribe");
            List<String> publish = patterns(request.publish(), "publish");
            long ttl = request.ttlSeconds() == null ? DEFAULT_TTL_SECONDS : request.ttlSeconds();
            if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
                throw invalid("\"ttlSeconds\" must lie in [1, " + MAX_TTL_SECONDS + "].");
            }
            String sub = request.sub() == null || request.sub().isBlank() ? "dev" : request.sub();
            return registry.clientSecrets(request.tenant())
                    .map(secrets -> {
                        if (secrets.secrets().isEmpty()) {
                            throw new SwitchboardException(ErrorCode.NOT_FOUND, "The tenant has no client secret.");
                        }
                        // JWT times are whole seconds: so is expiresAt, which then matches exp exactly.
                        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
                        Instant expiresAt = now.plusSeconds(ttl);
                        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                                .subject(sub)
                                .claim("tid", request.tenant())
                                .claim("subscribe", subscribe)
                                .claim("publish", publish)
                                .issueTime(Date.from(now))
                                .expirationTime(Date.from(expiresAt))
                                .build();
                        return new TokenResponse(sign(claims, secrets.secrets().get(0)), expiresAt);
                    });
        });
    }

    private static String sign(JWTClaimsSet claims, String secret) {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new SwitchboardException(ErrorCode.UNAVAILABLE, "The token cannot be signed with this tenant's client secret.", e);
        }
        return jwt.serialize();
    }

    private static List<String> patterns(List<String> patterns, String field) {
        if (patterns == null) {
            return List.of();
        }
        for (String pattern : patterns) {
            if (pattern == null || !TopicNames.isValidPattern(pattern)) {
                throw invalid("\"" + field + "\" holds an invalid topic pattern.");
            }
        }
        return List.copyOf(patterns);
    }

    private static SwitchboardException invalid(String message) {
        return new SwitchboardException(ErrorCode.INVALID_REQUEST, message);
    }
}
