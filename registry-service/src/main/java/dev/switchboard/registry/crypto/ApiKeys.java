package dev.switchboard.registry.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * API key material. A key reads {@code sb_<keyId>_<secret>}: the key id is public (it names the key
 * in lists and logs), the secret is 256 random bits. Only {@link #hash(String)} of the whole key is
 * stored.
 */
public final class ApiKeys {

    public static final String PREFIX = "sb_";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();

    private ApiKeys() {
    }

    /** A new key id, {@code key_} and 12 url-safe characters. */
    public static String newKeyId() {
        return "key_" + random(9);
    }

    /** The full key for a key id, shown to the caller once. */
    public static String newKey(String keyId) {
        return PREFIX + keyId + "_" + random(32);
    }

    /** SHA-256 of the whole key as presented. */
    public static byte[] hash(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Whether a bearer token has the shape of an API key (cheap pre-check, not a validation). */
    public static boolean looksLikeKey(String token) {
        return token != null && token.startsWith(PREFIX) && token.length() > 20 && token.length() < 200;
    }

    /** {@code bytes} random bytes, url-safe base64 without padding. */
    public static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return URL.encodeToString(b);
    }
}
