package dev.switchboard.registry.crypto;

import dev.switchboard.registry.config.RegistryProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.security.SecureRandom;
import java.util.Base64;

/** The client-secret cipher, keyed by {@code switchboard.registry.secret-key}. */
@Configuration(proxyBeanMethods = false)
class CryptoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(CryptoConfiguration.class);

    @Bean
    SecretCipher secretCipher(RegistryProperties properties) {
        String configured = properties.secretKey();
        if (configured == null || configured.isBlank()) {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            log.warn("""

                    ************************************************************************
                    *  No secret key configured (SWITCHBOARD_SECRET_KEY): client secrets are
                    *  encrypted with a random key that is lost on restart, after which no
                    *  stored client secret can be read. Set SWITCHBOARD_SECRET_KEY to the
                    *  base64 of 32 random bytes (openssl rand -base64 32) in any real use.
                    ************************************************************************""");
            return new SecretCipher(key);
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(configured.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("switchboard.registry.secret-key (SWITCHBOARD_SECRET_KEY) is not base64", e);
        }
        return new SecretCipher(key);
    }
}
