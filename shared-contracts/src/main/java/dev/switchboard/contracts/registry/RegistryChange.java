package dev.switchboard.contracts.registry;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonValue;

import java.time.Instant;
import java.util.Locale;

/**
 * One line of the registry's change feed. {@code id} increases; a caller resumes with
 * {@code after=id}. {@code ref} names what changed within the tenant (a key id, a topic name or
 * pattern) or is null when the whole tenant changed. A {@link Kind#HEARTBEAT} line carries the
 * latest id and keeps idle connections honest.
 */
public record RegistryChange(long id, Kind kind, String tenant, String ref,
        @JsonFormat(shape = JsonFormat.Shape.STRING) Instant at) {

    public enum Kind {
        TENANT, KEY, TOPIC, QUOTAS, CLIENT_SECRET, HEARTBEAT;

        @JsonValue
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Kind fromWire(String value) {
            return Kind.valueOf(value.toUpperCase(Locale.ROOT));
        }
    }
}
