package dev.switchboard.registry.tenant;

import java.time.Instant;

/** The answer to a rotation: the new secret (shown once) and until when the previous one still verifies. */
record ClientSecretResponse(String clientSecret, Instant previousValidUntil) {
}
