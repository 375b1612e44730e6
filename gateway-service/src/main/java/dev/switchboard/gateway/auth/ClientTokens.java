package dev.switchboard.gateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.names.TopicPattern;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Verifies browsers' JWTs ({@code PROTOCOL.md}, "Auth"): HS256 only, the HMAC key being the UTF-8
 * bytes of the tenant's client secret. The tenant is read from the still unverified {@code tid}
 * claim only to pick the keys; the token counts once a key verifies it — each of the tenant's
 * secrets is tried, current first, so tokens signed before a rotation keep working through the
 * grace period. {@code exp} is required; {@code exp} and {@code nbf} get {@link #CLOCK_SKEW_SECONDS}
 * of tolerance. {@code subscribe} / {@code publish} are lists of topic patterns (absent: none); a
 * token with an invalid pattern is rejected as a whole rather than half-honoured.
 *
 * <p>Fails with {@link SwitchboardException}: {@code UNAUTHENTICATED} for anything wrong with the
 * token (or an unknown tenant), {@code UNAVAILABLE} when the registry cannot be asked.
 */
@Component
public class ClientTokens {

    public static final int CLOCK_SKEW_SECONDS = 30;

    private static final DefaultJWTClaimsVerifier<?> CLAIMS = claimsVerifier();

    private final RegistryClient registry;

    ClientTokens(RegistryClient registry) {
        this.registry = registry;
    }

    public Mono<Caller.Jwt> verify(String token) {
        return Mono.defer(() -> {
            SignedJWT jwt;
            String tenant;
            try {
                jwt = SignedJWT.parse(token);
                tenant = jwt.getJWTClaimsSet().getStringClaim("tid");
            } catch (ParseException | IllegalArgumentException e) {
                return Mono.error(unauthenticated("The token is not a well-formed JWT."));
            }
            if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
                return Mono.error(unauthenticated("The token must be signed with HS256."));
            }
            if (tenant == null || !TopicNames.isValidTenantId(tenant)) {
                return Mono.error(unauthenticated("The token has no valid \"tid\" (tenant) claim."));
            }
            return registry.clientSecrets(tenant)
                    .onErrorMap(SwitchboardException.class, e -> e.code() == ErrorCode.UNAVAILABLE
                            ? e : unauthenticated("The token's tenant is unknown."))
                    .map(secrets -> {
                        if (secrets.secrets().stream().noneMatch(secret -> verifies(jwt, secret))) {
                            throw unauthenticated("The token's signature does not verify with the tenant's client secret.");
                        }
                        return caller(tenant, jwt);
                    });
        });
    }

    private static boolean verifies(SignedJWT jwt, String secret) {
        try {
            return jwt.verify(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            // A secret too short for HS256 cannot have signed anything valid.
            return false;
        }
    }

    private static Caller.Jwt caller(String tenant, SignedJWT jwt) {
        try {
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            CLAIMS.verify(claims, null);
            return new Caller.Jwt(tenant, claims.getSubject(), patterns(claims, "subscribe"), patterns(claims, "publish"),
                    claims.getExpirationTime().toInstant().plusSeconds(CLOCK_SKEW_SECONDS));
        } catch (BadJWTException e) {
            throw unauthenticated("The token is expired, not yet valid or lacks \"exp\".");
        } catch (ParseException e) {
            throw unauthenticated("The token's claims are malformed.");
        }
    }

    private static List<TopicPattern> patterns(JWTClaimsSet claims, String name) throws ParseException {
        List<String> texts = claims.getStringListClaim(name);
        List<TopicPattern> patterns = new ArrayList<>();
        if (texts != null) {
            for (String text : texts) {
                if (text == null || !TopicNames.isValidPattern(text)) {
                    throw unauthenticated("The token's \"" + name + "\" claim holds an invalid topic pattern.");
                }
                patterns.add(TopicPattern.of(text));
            }
        }
        return patterns;
    }

    private static DefaultJWTClaimsVerifier<?> claimsVerifier() {
        DefaultJWTClaimsVerifier<?> verifier = new DefaultJWTClaimsVerifier<>(null, Set.of("exp", "tid"));
        verifier.setMaxClockSkew(CLOCK_SKEW_SECONDS);
        return verifier;
    }

    private static SwitchboardException unauthenticated(String message) {
        return new SwitchboardException(ErrorCode.UNAUTHENTICATED, message);
    }
}
