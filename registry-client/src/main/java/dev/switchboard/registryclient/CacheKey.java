package dev.switchboard.registryclient;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** What an answer is cached under. Every key but an API key names its tenant, for invalidation. */
sealed interface CacheKey {

    /** The tenant the entry belongs to, or null when only the cached answer knows it. */
    String tenant();

    /**
     * An API key is cached under its SHA-256 so that the cache, heap dumps and metrics never hold
     * the secret itself.
     */
    record ApiKey(String sha256) implements CacheKey {
        static ApiKey of(String rawKey) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(rawKey.getBytes(StandardCharsets.UTF_8));
                return new ApiKey(HexFormat.of().formatHex(digest));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JVM has SHA-256", e);
            }
        }

        @Override
        public String tenant() {
            return null;
        }
    }

    record Topic(String tenant, String topic) implements CacheKey {
    }

    record Secrets(String tenant) implements CacheKey {
    }

    record Quotas(String tenant) implements CacheKey {
    }
}
