package dev.switchboard.contracts.registry;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** What a tenant API key may do. */
public enum Scope {
    PUBLISH, SUBSCRIBE, ADMIN;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException for an unknown scope */
    @JsonCreator
    public static Scope fromWire(String value) {
        for (Scope scope : values()) {
            if (scope.wire().equals(value)) {
                return scope;
            }
        }
        throw new IllegalArgumentException("unknown scope: " + value);
    }
}
