package dev.switchboard.workflow.pipeline;

import dev.switchboard.contracts.names.TopicNames;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two template languages of a definition, checked on save:
 * <ul>
 * <li>a prompt's {@code {{expression}}}: {@code data} or {@code data.<path>} (the trigger's data),
 * {@code trigger.<attribute>} (the trigger event's CloudEvents attributes, {@code trigger.data.<path>}
 * too), or {@code steps.<id>.output} (with an optional {@code .<path>} into a JSON output);</li>
 * <li>the pipeline's {@code output}: a topic name in which {@code {trigger.<attribute>}} stands for a
 * value of the trigger event, e.g. {@code {trigger.topic}} or {@code answers.{trigger.subject}}.</li>
 * </ul>
 */
public final class Templates {

    /** The trigger attributes a template may name. */
    static final Set<String> TRIGGER_ATTRIBUTES = Set.of("id", "source", "type", "subject", "time", "topic", "seq",
            "partition", "partitionkey", "causationid", "correlationid", "data");
    /** The attributes that may make up an output topic: strings of the trigger that name things. */
    static final List<String> OUTPUT_ATTRIBUTES = List.of("topic", "type", "subject", "partitionkey", "correlationid", "id");

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern OUTPUT_PLACEHOLDER = Pattern.compile("\\{trigger\\.([a-z]+)}");

    private Templates() {
    }

    /**
     * The step ids a prompt template reads ({@code steps.<id>.output}), in order of first use.
     *
     * @throws IllegalArgumentException naming what is wrong: unbalanced braces, an empty expression,
     *                                  or a name that cannot exist
     */
    static Set<String> stepReferences(String template) {
        Set<String> steps = new LinkedHashSet<>();
        int at = 0;
        while (true) {
            int open = template.indexOf("{{", at);
            int close = template.indexOf("}}", at);
            if (open < 0) {
                if (close >= 0) {
                    throw new IllegalArgumentException("'}}' at character " + (close + 1) + " closes nothing.");
                }
                return steps;
            }
            if (close >= 0 && close < open) {
                throw new IllegalArgumentException("'}}' at character " + (close + 1) + " closes nothing.");
            }
            int end = template.indexOf("}}", open + 2);
            if (end < 0) {
                throw new IllegalArgumentException("'{{' at character " + (open + 1) + " is never closed.");
            }
            String expression = template.substring(open + 2, end);
            if (expression.contains("{{")) {
                throw new IllegalArgumentException("'{{' at character " + (open + 1) + " is never closed.");
            }
            String step = expression(expression.strip());
            if (step != null) {
                steps.add(step);
            }
            at = end + 2;
        }
    }

    /** Checks one expression; returns the step it reads, if any. */
    private static String expression(String expression) {
        if (expression.isEmpty()) {
            throw new IllegalArgumentException("'{{}}' is empty: name data.<field>, trigger.<attribute> or steps.<id>.output.");
        }
        String[] segments = expression.split("\\.", -1);
        for (String segment : segments) {
            if (!SEGMENT.matcher(segment).matches()) {
                throw new IllegalArgumentException("'{{" + expression + "}}' is not a name: segments of letters, digits, '_' or '-' joined by dots.");
            }
        }
        switch (segments[0]) {
            case "data":
                return null;
            case "trigger":
                if (segments.length >= 2 && TRIGGER_ATTRIBUTES.contains(segments[1])
                        && (segments.length == 2 || segments[1].equals("data"))) {
                    return null;
                }
                throw new IllegalArgumentException("'{{" + expression + "}}' names no attribute of the trigger event; it has "
                        + String.join(", ", TRIGGER_ATTRIBUTES.stream().sorted().toList()) + " (and trigger.data.<field>).");
            case "steps":
                if (segments.length >= 3 && segments[2].equals("output")) {
                    return segments[1];
                }
                throw new IllegalArgumentException("'{{" + expression + "}}' names nothing: a step's result is steps.<id>.output.");
            default:
                throw new IllegalArgumentException("'{{" + expression + "}}' names something that cannot exist: "
                        + "a template reads data.<field>, trigger.<attribute> or steps.<id>.output.");
        }
    }

    /**
     * Fills a prompt template checked on save: each {@code {{expression}}} becomes the value it names,
     * a string as it is and any other JSON value as its JSON text; a name with no value (a missing
     * field of the trigger's data) becomes the empty string, as in Mustache.
     *
     * @param trigger the trigger event (a CloudEvent as JSON)
     * @param outputs the outputs of the steps that have completed, by step id
     */
    public static String render(String template, JsonNode trigger, Map<String, JsonNode> outputs) {
        StringBuilder out = new StringBuilder(template.length() + 64);
        int at = 0;
        while (true) {
            int open = template.indexOf("{{", at);
            if (open < 0) {
                return out.append(template, at, template.length()).toString();
            }
            int end = template.indexOf("}}", open + 2);
            out.append(template, at, open);
            String[] segments = template.substring(open + 2, end).strip().split("\\.");
            JsonNode value = switch (segments[0]) {
                case "data" -> path(trigger.path("data"), segments, 1);
                case "trigger" -> path(trigger, segments, 1);
                default -> path(outputs.getOrDefault(segments[1], MissingNode.getInstance()), segments, 3);
            };
            out.append(text(value));
            at = end + 2;
        }
    }

    /** A step's output or a template value as text: a string as it is, nothing as empty, any other value as JSON. */
    public static String text(JsonNode value) {
        if (value == null || value.isMissingNode() || value.isNull()) {
            return "";
        }
        return value.isString() ? value.asString() : value.toString();
    }

    private static JsonNode path(JsonNode node, String[] segments, int from) {
        JsonNode at = node;
        for (int i = from; i < segments.length && !at.isMissingNode(); i++) {
            at = at.isArray() && segments[i].chars().allMatch(Character::isDigit) && segments[i].length() < 9
                    ? at.path(Integer.parseInt(segments[i])) : at.path(segments[i]);
        }
        return at;
    }

    /**
     * Checks a pipeline's output: a topic name, possibly with {@code {trigger.<attribute>}} placeholders.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    /**
     * The output topic of a run: the pipeline's {@code output} with its {@code {trigger.<attribute>}}
     * placeholders filled from the trigger event.
     *
     * @throws IllegalArgumentException when the result is not a topic name (a placeholder had no value)
     */
    public static String outputTopic(String output, JsonNode trigger) {
        String topic = OUTPUT_PLACEHOLDER.matcher(output)
                .replaceAll(match -> Matcher.quoteReplacement(text(trigger.path(match.group(1)))));
        if (!TopicNames.isValidTopicName(topic)) {
            throw new IllegalArgumentException("the output '" + output + "' makes '" + topic + "' of this trigger, not a topic name.");
        }
        return topic;
    }

    static void checkOutput(String output) {
        String stripped = OUTPUT_PLACEHOLDER.matcher(output).replaceAll(match -> {
            if (!OUTPUT_ATTRIBUTES.contains(match.group(1))) {
                throw new IllegalArgumentException("'{trigger." + match.group(1) + "}' cannot name a topic; use one of "
                        + String.join(", ", OUTPUT_ATTRIBUTES.stream().map(a -> "{trigger." + a + "}").toList()) + ".");
            }
            return "x";
        });
        if (stripped.indexOf('{') >= 0 || stripped.indexOf('}') >= 0) {
            throw new IllegalArgumentException("'" + output + "' has a brace that is not part of a {trigger.<attribute>} placeholder.");
        }
        if (!TopicNames.isValidTopicName(stripped)) {
            throw new IllegalArgumentException("'" + output + "' is not a topic name (segments of [a-z0-9_-] joined by dots, "
                    + "at most " + TopicNames.MAX_TOPIC_LENGTH + " characters), nor a template of one over the trigger.");
        }
    }
}
