package dev.switchboard.registry.api;

import dev.switchboard.platform.problem.SwitchboardException;

import reactor.core.publisher.Mono;

import java.math.BigInteger;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A JSON object request body read field by field, so every rejected value gets a message naming
 * the field, what was expected and what arrived — rather than a generic decoding failure.
 * Absent fields and explicit {@code null}s both read as {@code null}; callers apply defaults.
 */
public final class JsonBody {

    /** Longest tenant or key name. */
    public static final int MAX_DISPLAY_NAME = 200;

    private final String prefix;
    private final Map<String, Object> values;

    private JsonBody(String prefix, Map<String, Object> values) {
        this.prefix = prefix;
        this.values = values;
    }

    /** The body of a request that must have one: 400 when it is empty. */
    public static Mono<JsonBody> read(Mono<Map<String, Object>> body) {
        return body.map(JsonBody::of)
                .switchIfEmpty(Mono.error(() -> SwitchboardException.invalid("A JSON object body is required.")));
    }

    /** @throws SwitchboardException (400) when the body is missing */
    public static JsonBody of(Map<String, Object> values) {
        if (values == null) {
            throw SwitchboardException.invalid("A JSON object body is required.");
        }
        return new JsonBody("", values);
    }

    /** Rejects any field not named here, so a typo never silently falls back to a default. */
    public JsonBody allowOnly(String... names) {
        Set<String> allowed = new LinkedHashSet<>(Arrays.asList(names));
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(allowed);
        if (!unknown.isEmpty()) {
            throw SwitchboardException.invalid("Unknown field" + (unknown.size() > 1 ? "s " : " ")
                    + String.join(", ", unknown.stream().map(n -> "'" + prefix + n + "'").toList())
                    + "; expected " + String.join(", ", allowed.stream().map(n -> prefix + n).toList()) + ".");
        }
        return this;
    }

    /** Whether the field is present, even as {@code null}. */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** The full name of a field, for messages: {@code quotas.burst}. */
    public String field(String name) {
        return prefix + name;
    }

    public Long longOrNull(String name, long min, long max) {
        Object value = values.get(name);
        if (value == null) {
            return null;
        }
        if ((value instanceof Integer || value instanceof Long) && ((Number) value).longValue() >= min
                && ((Number) value).longValue() <= max) {
            return ((Number) value).longValue();
        }
        throw SwitchboardException.invalid(field(name) + " must be an integer from " + min + " to " + max
                + ", got " + describe(value) + ".");
    }

    public Integer intOrNull(String name, int min, int max) {
        Long value = longOrNull(name, min, max);
        return value == null ? null : value.intValue();
    }

    public String stringOrNull(String name) {
        Object value = values.get(name);
        if (value == null) {
            return null;
        }
        if (value instanceof String s) {
            return s;
        }
        throw SwitchboardException.invalid(field(name) + " must be a string, got " + describe(value) + ".");
    }

    /**
     * A human label (a tenant's or a key's name): 1 to {@value #MAX_DISPLAY_NAME} characters once
     * surrounding whitespace is stripped, no control characters.
     */
    public String displayNameOrNull(String name) {
        String value = stringOrNull(name);
        if (value == null) {
            return null;
        }
        String stripped = value.strip();
        if (stripped.isEmpty() || stripped.length() > MAX_DISPLAY_NAME
                || stripped.codePoints().anyMatch(Character::isISOControl)) {
            throw SwitchboardException.invalid(field(name) + " must be 1 to " + MAX_DISPLAY_NAME
                    + " characters without control characters.");
        }
        return stripped;
    }

    /** Like {@link #displayNameOrNull} but the field must be there. */
    public String requiredDisplayName(String name) {
        String value = displayNameOrNull(name);
        if (value == null) {
            throw SwitchboardException.invalid(field(name) + " is required.");
        }
        return value;
    }

    /**
     * An ISO-8601 duration ({@code P7D}, {@code PT30M}) within {@code [min, max]}, in whole
     * milliseconds (what is stored).
     */
    public Duration durationOrNull(String name, Duration min, Duration max) {
        String text = stringOrNull(name);
        if (text == null) {
            return null;
        }
        Duration duration;
        try {
            duration = Duration.parse(text);
        } catch (DateTimeParseException | ArithmeticException e) {
            throw SwitchboardException.invalid(field(name) + " must be an ISO-8601 duration such as P7D or PT30M, got "
                    + describe(text) + ".");
        }
        if (duration.compareTo(min) < 0 || duration.compareTo(max) > 0) {
            throw SwitchboardException.invalid(field(name) + " must be between " + Durations.format(min) + " and "
                    + Durations.format(max) + ", got " + text + ".");
        }
        if (duration.getNano() % 1_000_000 != 0) {
            throw SwitchboardException.invalid(field(name) + " must be a whole number of milliseconds, got " + text + ".");
        }
        return duration;
    }

    @SuppressWarnings("unchecked")
    public JsonBody objectOrNull(String name) {
        Object value = values.get(name);
        if (value == null) {
            return null;
        }
        if (value instanceof Map<?, ?> map) {
            return new JsonBody(field(name) + ".", (Map<String, Object>) map);
        }
        throw SwitchboardException.invalid(field(name) + " must be a JSON object, got " + describe(value) + ".");
    }

    public List<String> stringListOrNull(String name) {
        Object value = values.get(name);
        if (value == null) {
            return null;
        }
        if (value instanceof List<?> list) {
            List<String> strings = new ArrayList<>(list.size());
            for (Object item : list) {
                if (!(item instanceof String s)) {
                    throw SwitchboardException.invalid(field(name) + " must be an array of strings, got an element "
                            + describe(item) + ".");
                }
                strings.add(s);
            }
            return strings;
        }
        throw SwitchboardException.invalid(field(name) + " must be an array of strings, got " + describe(value) + ".");
    }

    /** How a rejected value is echoed: numbers and short strings as they are, other things by type. */
    static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) {
            return value.toString();
        }
        if (value instanceof Number) {
            return "a fractional number";
        }
        if (value instanceof String s) {
            return s.length() <= 40 ? "\"" + s + "\"" : "a string of " + s.length() + " characters";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        if (value instanceof List<?>) {
            return "an array";
        }
        if (value instanceof Map<?, ?>) {
            return "an object";
        }
        return "a " + value.getClass().getSimpleName();
    }
}
