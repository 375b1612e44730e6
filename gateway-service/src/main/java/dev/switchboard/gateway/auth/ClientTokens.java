package dev.switchboard.gateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.contracts.names.TopicPattern;
import dev.switchboard.platform.problem.SwitchboardException;
import dev.switchboard.registryclient.RegistryClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
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
 * <p>What can be told from the token alone (its shape, algorithm, claims and times) is checked before
 * the registry is asked for the tenant's secrets. Fails with {@link SwitchboardException}:
 * {@code UNAUTHENTICATED} for anything wrong with the token (or an unknown tenant), its detail one
 * sentence saying what (never the token, a secret or a library's message), and
 * {@code UNAVAILABLE} when the registry cannot be asked.
 */
@Component
public class ClientTokens {

    public static final int CLOCK_SKEW_SECONDS = 30;

    /** What this verifier takes, for the callers' "accepted: …" sentences. */
    public static final String ACCEPTS = "an HS256 client JWT with tid and exp";

    /** Names worth repeating back; any other {@code alg} is only called unsupported. */
    private static final Set<String> KNOWN_ALGORITHMS = Set.of("HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
            "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448");

    private final RegistryClient registry;

    ClientTokens(RegistryClient registry) {
        this.registry = registry;
    }

    /**
     * Whether {@code token} has the shape of a compact JWT (three base64url parts, or five for an
     * encrypted one): only then is it worth telling what is wrong with it as a JWT.
     */
    public static boolean looksLikeJwt(String token) {
        int dots = 0;
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == '.') {
                dots++;
            } else if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return (dots == 2 || dots == 4) && !token.startsWith(".");
    }

    /**
     * Whether every part decodes and encodes back to itself. Base64url leaves spare bits in a part's
     * last character; a decoder that ignores them takes many spellings of one signature, and a token
     * must have exactly one (RFC 7515 §2, RFC 4648 §3.5).
     */
    static boolean canonical(String token) {
        Base64.Decoder decoder = Base64.getUrlDecoder();
        Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
        for (String part : token.split("\\.", -1)) {
            try {
                if (!encoder.encodeToString(decoder.decode(part)).equals(part)) {
                    return false;
                }
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return true;
    }

    public Mono<Caller.Jwt> verify(String token) {
        return Mono.defer(() -> {
            SignedJWT jwt;
            JWTClaimsSet claims;
            try {
                jwt = signedHs256(token);
                claims = claims(jwt);
            } catch (SwitchboardException e) {
                return Mono.error(e);
            }
            String tenant = claims.getClaim("tid").toString();
            return registry.clientSecrets(tenant)
                    .onErrorMap(SwitchboardException.class, e -> e.code() == ErrorCode.UNAVAILABLE
                            ? e : unauthenticated("The token's tenant (tid) is unknown."))
                    .map(secrets -> {
                        if (secrets.secrets().stream().noneMatch(secret -> verifies(jwt, secret))) {
                            throw unauthenticated("The token's signature does not verify with its tenant's client secret.");
                        }
                        return caller(tenant, claims);
                    });
        });
    }

    /** The token as a JWS signed with HS256, or why it is not one. */
    private static SignedJWT signedHs256(String token) {
        if (token.startsWith("sb_")) {
            throw unauthenticated("An API key (sb_…) is not accepted here; a socket connects with a client JWT.");
        }
        if (!looksLikeJwt(token)) {
            throw unauthenticated("The token is not a JWT.");
        }
        JWT parsed;
        try {
            parsed = JWTParser.parse(token);
        } catch (ParseException | IllegalArgumentException e) {
            throw unauthenticated("The token is not a well-formed JWT: its header is not a valid JOSE header.");
        }
        if (!canonical(token)) {
            throw unauthenticated("The token is not a JWT: each part must be canonical base64url (no padding, no stray bits).");
        }
        if (parsed instanceof PlainJWT) {
            throw unauthenticated("The token is unsigned (alg none); it must be signed with HS256.");
        }
        if (parsed instanceof EncryptedJWT) {
            throw unauthenticated("The token is an encrypted JWT (JWE); it must be a JWT signed with HS256.");
        }
        SignedJWT jwt = (SignedJWT) parsed;
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        if (!JWSAlgorithm.HS256.equals(alg)) {
            String name = alg != null && KNOWN_ALGORITHMS.contains(alg.getName()) ? alg.getName() : "an unsupported algorithm";
            throw unauthenticated("The token is signed with " + name + "; only HS256 is accepted.");
        }
        return jwt;
    }

    /** The claims, once {@code tid}, {@code exp}, {@code nbf} and the topic patterns hold up. */
    private static JWTClaimsSet claims(SignedJWT jwt) {
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw unauthenticated("The token's claims are malformed: they must be a JSON object, with exp, nbf and iat as numbers.");
        }
        Object tid = claims.getClaim("tid");
        if (tid == null) {
            throw unauthenticated("The token has no tid (tenant) claim.");
        }
        if (!(tid instanceof String tenant) || !TopicNames.isValidTenantId(tenant)) {
            throw unauthenticated("The token's tid claim is not a valid tenant id.");
        }
        // Parsing the claims set has already refused an exp or nbf that is not a number.
        Date exp = claims.getExpirationTime();
        Date nbf = claims.getNotBeforeTime();
        if (exp == null) {
            throw unauthenticated("The token has no exp (expiry) claim.");
        }
        Instant now = Instant.now();
        if (now.isAfter(exp.toInstant().plusSeconds(CLOCK_SKEW_SECONDS))) {
            throw unauthenticated("The token expired at " + exp.toInstant() + ".");
        }
        if (nbf != null && now.plusSeconds(CLOCK_SKEW_SECONDS).isBefore(nbf.toInstant())) {
            throw unauthenticated("The token is not valid before " + nbf.toInstant() + ".");
        }
        patterns(claims, "subscribe");
        patterns(claims, "publish");
        return claims;
    }

    private static boolean verifies(SignedJWT jwt, String secret) {
        try {
            return jwt.verify(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            // A secret too short for HS256 cannot have signed anything valid.
            return false;
        }
    }

    private static Caller.Jwt caller(String tenant, JWTClaimsSet claims) {
        return new Caller.Jwt(tenant, claims.getSubject(), patterns(claims, "subscribe"), patterns(claims, "publish"),
                claims.getExpirationTime().toInstant().plusSeconds(CLOCK_SKEW_SECONDS));
    }

    private static List<TopicPattern> patterns(JWTClaimsSet claims, String name) {
        List<String> texts;
        try {
            texts = claims.getStringListClaim(name);
        } catch (ParseException e) {
            throw unauthenticated("The token's " + name + " claim must be a list of topic patterns.");
        }
        List<TopicPattern> patterns = new ArrayList<>();
        if (texts != null) {
            for (String text : texts) {
                if (text == null || !TopicNames.isValidPattern(text)) {
                    throw unauthenticated("The token's " + name + " claim holds an invalid topic pattern.");
                }
                patterns.add(TopicPattern.of(text));
            }
        }
        return patterns;
    }

    private static SwitchboardException unauthenticated(String message) {
        return new SwitchboardException(ErrorCode.UNAUTHENTICATED, message);
    }
}
