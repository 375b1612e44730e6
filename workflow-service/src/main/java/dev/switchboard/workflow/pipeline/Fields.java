package dev.switchboard.workflow.pipeline;

import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Reads one JSON object of a definition strictly: only the fields it allows, each of the JSON
 * type it must have. Every refusal names the step (or the part of the pipeline) it is about.
 */
final class Fields {

    private final JsonNode node;
    private final Function<String, InvalidDefinition> fault;

    private Fields(JsonNode node, Function<String, InvalidDefinition> fault) {
        this.node = node;
        this.fault = fault;
    }

    /** The object of a step ({@code step}: its id or {@code #n}), allowing only {@code allowed}. */
    static Fields ofStep(JsonNode node, String step, String where, Set<String> allowed) {
        return of(node, where, detail -> InvalidDefinition.step(step, detail), allowed);
    }

    /** An object outside the steps ({@code where}: e.g. "trigger"), allowing only {@code allowed}. */
    static Fields of(JsonNode node, String where, Set<String> allowed) {
        return of(node, where, detail -> InvalidDefinition.of(capitalized(where) + ": " + detail), allowed);
    }

    private static Fields of(JsonNode node, String where, Function<String, InvalidDefinition> fault, Set<String> allowed) {
        if (node == null || !node.isObject()) {
            throw fault.apply(where + " must be a JSON object.");
        }
        Fields fields = new Fields(node, fault);
        Set<String> unknown = new TreeSet<>();
        for (Iterator<String> names = node.propertyNames().iterator(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw fault.apply("unknown field" + (unknown.size() == 1 ? " " : "s ") + quoted(unknown) + " in " + where
                    + "; allowed: " + quoted(new TreeSet<>(allowed)) + ".");
        }
        return fields;
    }

    InvalidDefinition fault(String detail) {
        return fault.apply(detail);
    }

    boolean has(String name) {
        JsonNode value = node.get(name);
        return value != null && !value.isNull();
    }

    JsonNode node(String name) {
        return node.get(name);
    }

    String text(String name) {
        String value = optionalText(name);
        if (value == null) {
            throw fault("'" + name + "' is required.");
        }
        return value;
    }

    String optionalText(String name) {
        if (!has(name)) {
            return null;
        }
        JsonNode value = node.get(name);
        if (!value.isString() || value.asString().isBlank()) {
            throw fault("'" + name + "' must be a non-empty string.");
        }
        return value.asString();
    }

    List<String> texts(String name, boolean required) {
        if (!has(name)) {
            if (required) {
                throw fault("'" + name + "' is required: a non-empty array of strings.");
            }
            return null;
        }
        JsonNode value = node.get(name);
        if (!value.isArray() || value.isEmpty()) {
            throw fault("'" + name + "' must be a non-empty array of strings.");
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isString() || item.asString().isBlank()) {
                throw fault("'" + name + "' must hold only non-empty strings.");
            }
            texts.add(item.asString());
        }
        return texts;
    }

    /** An ISO-8601 duration ({@code PT30S}) above zero and at most {@code max}; absent, null. */
    Duration duration(String name, Duration max) {
        String text = optionalText(name);
        if (text == null) {
            return null;
        }
        Duration duration;
        try {
            duration = Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw fault("'" + name + "' must be an ISO-8601 duration such as PT30S, got '" + text + "'.");
        }
        if (duration.isNegative() || duration.isZero() || duration.compareTo(max) > 0) {
            throw fault("'" + name + "' must be above zero and at most " + max + ", got " + text + ".");
        }
        return duration;
    }

    /** An integer in {@code [min, max]}; absent, null. */
    Integer integer(String name, int min, int max) {
        if (!has(name)) {
            return null;
        }
        JsonNode value = node.get(name);
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < min || value.asInt() > max) {
            throw fault("'" + name + "' must be an integer from " + min + " to " + max + ", got " + value + ".");
        }
        return value.asInt();
    }

    /** A number in {@code [min, max]}; absent, null. */
    Double number(String name, double min, double max) {
        if (!has(name)) {
            return null;
        }
        JsonNode value = node.get(name);
        if (!value.isNumber() || value.asDouble() < min || value.asDouble() > max) {
            throw fault("'" + name + "' must be a number from " + min + " to " + max + ", got " + value + ".");
        }
        return value.asDouble();
    }

    private static String quoted(Set<String> names) {
        return String.join(", ", names.stream().map(n -> "'" + n + "'").toList());
    }

    private static String capitalized(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
