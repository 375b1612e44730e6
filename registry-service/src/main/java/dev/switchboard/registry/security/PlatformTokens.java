package dev.switchboard.registry.security;

import dev.switchboard.registry.config.RegistryProperties;
import dev.switchboard.registry.crypto.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.security.MessageDigest;

/**
 * The two fixed bearer tokens: the platform admin token and the service token. A blank setting
 * gets a random token, printed once at WARN so a developer can use it; production sets both.
 * Tokens are compared by their SHA-256 with {@link MessageDigest#isEqual}, so neither the content
 * nor the length of the real token leaks through timing.
 */
@Component
class PlatformTokens {

    private static final Logger log = LoggerFactory.getLogger(PlatformTokens.class);
    private static final int GENERATED_BYTES = 32;
    private static final int RECOMMENDED_LENGTH = 24;

    private final byte[] adminHash;
    private final byte[] serviceHash;

    PlatformTokens(RegistryProperties properties) {
        String admin = orGenerate(properties.adminToken(), "admin token", "SWITCHBOARD_ADMIN_TOKEN",
                "It may do everything on /admin/v1.");
        String service = orGenerate(properties.serviceToken(), "service token", "SWITCHBOARD_SERVICE_TOKEN",
                "The other services need it for /internal/v1; give them the same value.");
        if (admin.equals(service)) {
            throw new IllegalStateException("switchboard.registry.admin-token and service-token must differ");
        }
        this.adminHash = ApiKeys.hash(admin);
        this.serviceHash = ApiKeys.hash(service);
    }

    boolean isAdmin(String token) {
        return matches(adminHash, token);
    }

    boolean isService(String token) {
        return matches(serviceHash, token);
    }

    private static boolean matches(byte[] expectedHash, String token) {
        return token != null && !token.isEmpty() && MessageDigest.isEqual(expectedHash, ApiKeys.hash(token));
    }

    private static String orGenerate(String configured, String what, String variable, String hint) {
        if (configured != null && !configured.isBlank()) {
            if (configured.length() < RECOMMENDED_LENGTH) {
                log.warn("The {} ({}) is shorter than {} characters; use a long random value.", what, variable,
                        RECOMMENDED_LENGTH);
            }
            return configured;
        }
        String generated = ApiKeys.random(GENERATED_BYTES);
        log.warn("""

                ************************************************************************
                *  No {} configured ({}); generated one for this run:
                *      {}
                *  {}
                *  It changes on every restart: set {} in any real deployment.
                ************************************************************************""",
                what, variable, generated, hint, variable);
        return generated;
    }
}
