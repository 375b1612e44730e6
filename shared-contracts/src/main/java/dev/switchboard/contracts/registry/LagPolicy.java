package dev.switchboard.contracts.registry;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** What a topic does to producers when its consumer lag passes {@code maxLag}. */
public enum LagPolicy {
    /** Answer {@code 429 slow_down} with {@code Retry-After}. */
    THROTTLE,
    /** Drop the publish ({@code 429 slow_down}) and count it as shed. */
    SHED,
    /** Ignore lag. */
    NONE;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static LagPolicy fromWire(String value) {
        for (LagPolicy policy : values()) {
            if (policy.wire().equals(value)) {
                return policy;
            }
        }
        throw new IllegalArgumentException("unknown lag policy: " + value);
    }
}
