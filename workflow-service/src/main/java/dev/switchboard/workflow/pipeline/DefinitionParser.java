package dev.switchboard.workflow.pipeline;

import dev.switchboard.contracts.names.TopicNames;
import dev.switchboard.workflow.pipeline.PipelineDefinition.Retry;
import dev.switchboard.workflow.pipeline.PipelineDefinition.Trigger;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Turns a definition's JSON tree into a {@link PipelineDefinition}, refusing anything it does not
 * know and every field that is malformed on its own: unknown fields and step types, bad ids,
 * durations, retry policies, templates, providers, strategies, postprocess ops, topics and
 * pipeline names. What needs the whole graph (references, cycles) is {@link StepGraph}'s.
 */
final class DefinitionParser {

    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
    static final Set<String> STRATEGIES = Set.of("first", "all", "vote", "judge");
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    static final int DEFAULT_ATTEMPTS = 3;
    static final int MAX_ATTEMPTS = 10;
    static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(10);
    static final Duration MAX_UNWATCHED = Duration.ofDays(1);
    static final Duration MAX_WEBHOOK_TIMEOUT = Duration.ofMinutes(5);
    static final int MAX_REDACT_PATTERN = 1024;

    private static final Set<String> TOP = Set.of("trigger", "output", "cancelWhenUnwatched", "steps");
    private static final Set<String> COMMON = Set.of("id", "type", "timeout", "retry");
    private static final Map<String, Set<String>> STEP_FIELDS = Map.of(
            "prompt", with("template"),
            "model", with("input", "provider", "model", "parameters"),
            "fanout", with("input", "steps"),
            "aggregate", with("inputs", "strategy", "judge"),
            "postprocess", with("input", "ops"),
            "handoff", with("input", "pipeline"),
            "emit", with("input", "topic"));
    private static final List<String> STEP_TYPES = List.of("prompt", "model", "fanout", "aggregate", "postprocess", "handoff", "emit");
    private static final List<String> OPS = List.of("trim", "json", "redact", "webhook");

    private final Set<String> providers;
    private final int maxSteps;
    private final JsonSchemas schemas;

    DefinitionParser(Set<String> providers, int maxSteps, JsonSchemas schemas) {
        this.providers = Set.copyOf(providers);
        this.maxSteps = maxSteps;
        this.schemas = schemas;
    }

    PipelineDefinition parse(JsonNode root) {
        Fields top = Fields.of(root, "the pipeline", TOP);
        Trigger trigger = top.has("trigger") ? trigger(top.node("trigger")) : null;
        String output = top.optionalText("output");
        if (output != null) {
            try {
                Templates.checkOutput(output);
            } catch (IllegalArgumentException e) {
                throw InvalidDefinition.of("'output' " + e.getMessage());
            }
        }
        Duration unwatched = top.duration("cancelWhenUnwatched", MAX_UNWATCHED);
        JsonNode steps = top.node("steps");
        if (steps == null || !steps.isArray() || steps.isEmpty()) {
            throw InvalidDefinition.of("'steps' is required: a non-empty array of steps.");
        }
        if (steps.size() > maxSteps) {
            throw InvalidDefinition.of("A pipeline has at most " + maxSteps + " steps, this one " + steps.size() + ".");
        }
        List<Step> parsed = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < steps.size(); i++) {
            Step step = step(steps.get(i), i + 1);
            if (!ids.add(step.id())) {
                throw InvalidDefinition.step(step.id(), "the id is used by an earlier step too; step ids are unique in a pipeline.");
            }
            parsed.add(step);
        }
        return new PipelineDefinition(trigger, output, unwatched, parsed);
    }

    private static Trigger trigger(JsonNode node) {
        Fields fields = Fields.of(node, "trigger", Set.of("topic", "types"));
        String topic = fields.text("topic");
        if (!TopicNames.isValidPattern(topic)) {
            throw fields.fault("'" + topic + "' is not a topic name or pattern (segments of [a-z0-9_-], '*' for one segment, "
                    + "a final '>' for the rest).");
        }
        return new Trigger(topic, fields.texts("types", false));
    }

    private Step step(JsonNode node, int position) {
        String label = "#" + position;
        if (node != null && node.isObject() && node.path("id").isString() && NAME.matcher(node.path("id").asString()).matches()) {
            label = node.path("id").asString();
        } else if (node != null && node.isObject()) {
            throw InvalidDefinition.step(label, "'id' is required: [a-z0-9][a-z0-9_-]*, at most 64 characters"
                    + (node.has("id") ? ", got " + node.get("id") : "") + ".");
        }
        String id = label;
        if (node == null || !node.isObject()) {
            throw InvalidDefinition.step(id, "a step must be a JSON object.");
        }
        JsonNode typeNode = node.get("type");
        String type = typeNode != null && typeNode.isString() ? typeNode.asString() : null;
        if (type == null || !STEP_FIELDS.containsKey(type)) {
            throw InvalidDefinition.step(id, (type == null ? "'type' is required" : "unknown step type '" + type + "'")
                    + "; the types are " + String.join(", ", STEP_TYPES) + ".");
        }
        Fields f = Fields.ofStep(node, id, "a " + type + " step", STEP_FIELDS.get(type));
        Duration timeout = orDefault(f.duration("timeout", MAX_TIMEOUT), DEFAULT_TIMEOUT);
        Retry retry = retry(f.has("retry") ? Fields.ofStep(f.node("retry"), id, "'retry'", Set.of("attempts", "backoff")) : null);
        return switch (type) {
            case "prompt" -> new Step.Prompt(id, template(f), timeout, retry);
            case "model" -> new Step.Model(id, f.optionalText("input"), provider(f, f.text("provider")), f.text("model"),
                    parameters(f, id), timeout, retry);
            case "fanout" -> new Step.Fanout(id, f.text("input"), f.texts("steps", true), timeout, retry);
            case "aggregate" -> aggregate(f, id, timeout, retry);
            case "postprocess" -> new Step.Postprocess(id, f.text("input"), ops(f, id), timeout, retry);
            case "handoff" -> new Step.Handoff(id, f.text("input"), pipelineName(f), timeout, retry);
            case "emit" -> new Step.Emit(id, f.text("input"), topic(f), timeout, retry);
            default -> throw new IllegalStateException(type);
        };
    }

    private static Retry retry(Fields f) {
        if (f == null) {
            return new Retry(DEFAULT_ATTEMPTS, DEFAULT_BACKOFF);
        }
        Integer attempts = f.integer("attempts", 1, MAX_ATTEMPTS);
        Duration backoff = f.duration("backoff", MAX_BACKOFF);
        return new Retry(attempts == null ? DEFAULT_ATTEMPTS : attempts, orDefault(backoff, DEFAULT_BACKOFF));
    }

    private static String template(Fields f) {
        String template = f.text("template");
        try {
            Templates.stepReferences(template);
        } catch (IllegalArgumentException e) {
            throw f.fault("bad template: " + e.getMessage());
        }
        return template;
    }

    private String provider(Fields f, String provider) {
        if (!providers.contains(provider)) {
            throw f.fault("unknown provider '" + provider + "'; configured: " + String.join(", ", providers.stream().sorted().toList()) + ".");
        }
        return provider;
    }

    /** The model parameters every provider understands; anything else is refused rather than silently ignored. */
    private static Map<String, Object> parameters(Fields step, String id) {
        if (!step.has("parameters")) {
            return null;
        }
        Fields f = Fields.ofStep(step.node("parameters"), id, "'parameters'", Set.of("temperature", "topP", "maxTokens", "stop"));
        Map<String, Object> parameters = new LinkedHashMap<>();
        putIfPresent(parameters, "temperature", f.number("temperature", 0, 2));
        putIfPresent(parameters, "topP", f.number("topP", 0, 1));
        putIfPresent(parameters, "maxTokens", f.integer("maxTokens", 1, 1_000_000));
        putIfPresent(parameters, "stop", f.texts("stop", false));
        return parameters;
    }

    private Step aggregate(Fields f, String id, Duration timeout, Retry retry) {
        List<String> inputs = f.texts("inputs", true);
        String strategy = f.text("strategy");
        if (!STRATEGIES.contains(strategy)) {
            throw f.fault("unknown strategy '" + strategy + "'; the strategies are first, all, vote and judge.");
        }
        Step.Judge judge = null;
        if (strategy.equals("judge")) {
            if (!f.has("judge")) {
                throw f.fault("strategy judge needs a judge model: \"judge\": {\"provider\": …, \"model\": …}.");
            }
            Fields j = Fields.ofStep(f.node("judge"), id, "'judge'", Set.of("provider", "model"));
            judge = new Step.Judge(provider(j, j.text("provider")), j.text("model"));
        } else if (f.has("judge")) {
            throw f.fault("'judge' is only for strategy judge, not " + strategy + ".");
        }
        return new Step.Aggregate(id, inputs, strategy, judge, timeout, retry);
    }

    private List<Op> ops(Fields f, String id) {
        JsonNode node = f.node("ops");
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw f.fault("'ops' is required: a non-empty array of operations (" + String.join(", ", OPS) + ").");
        }
        List<Op> ops = new ArrayList<>();
        for (JsonNode item : node) {
            String name = item.isString() ? item.asString() : item.path("op").isString() ? item.path("op").asString() : null;
            if (name == null || !OPS.contains(name)) {
                throw f.fault("unknown postprocess op " + (name == null ? item : "'" + name + "'")
                        + "; the ops are " + String.join(", ", OPS) + " (\"trim\", or {\"op\": …} with its settings).");
            }
            ops.add(op(name, item, f, id));
        }
        return ops;
    }

    private Op op(String name, JsonNode item, Fields step, String id) {
        if (item.isString()) {
            if (!name.equals("trim")) {
                throw step.fault("op '" + name + "' needs its settings: {\"op\": \"" + name + "\", …}.");
            }
            return new Op.Trim();
        }
        String where = "op '" + name + "'";
        return switch (name) {
            case "trim" -> {
                Fields.ofStep(item, id, where, Set.of("op"));
                yield new Op.Trim();
            }
            case "json" -> {
                Fields f = Fields.ofStep(item, id, where, Set.of("op", "schema"));
                JsonNode schema = f.node("schema");
                if (schema == null || schema.isNull()) {
                    throw f.fault("op json needs 'schema', the JSON Schema the extracted value must match.");
                }
                try {
                    schemas.check(schema);
                } catch (IllegalArgumentException e) {
                    throw f.fault("op json's schema is " + e.getMessage());
                }
                yield new Op.Json(schema);
            }
            case "redact" -> {
                Fields f = Fields.ofStep(item, id, where, Set.of("op", "pattern", "replacement"));
                String pattern = f.text("pattern");
                checkRedactPattern(pattern, f);
                if (f.has("replacement") && !f.node("replacement").isString()) {
                    throw f.fault("op redact's 'replacement' must be a string.");
                }
                String replacement = f.has("replacement") ? f.node("replacement").asString() : Op.Redact.DEFAULT_REPLACEMENT;
                yield new Op.Redact(pattern, replacement);
            }
            case "webhook" -> {
                Fields f = Fields.ofStep(item, id, where, Set.of("op", "url", "timeout"));
                URI url = webhookUrl(f, f.text("url"));
                Duration timeout = f.duration("timeout", MAX_WEBHOOK_TIMEOUT);
                if (timeout == null) {
                    throw f.fault("op webhook needs 'timeout', an ISO-8601 duration such as PT10S (at most "
                            + MAX_WEBHOOK_TIMEOUT + ").");
                }
                yield new Op.Webhook(url, timeout);
            }
            default -> throw new IllegalStateException(name);
        };
    }

    private static URI webhookUrl(Fields f, String text) {
        try {
            URI url = new URI(text);
            if (url.getScheme() != null && (url.getScheme().equals("http") || url.getScheme().equals("https"))
                    && url.getHost() != null && url.getUserInfo() == null && url.getFragment() == null) {
                return url;
            }
        } catch (URISyntaxException e) {
            // refused below
        }
        throw f.fault("op webhook's 'url' must be an absolute http(s) URL without credentials, got '" + text + "'.");
    }

    /**
     * A handoff names a pipeline that need not exist yet: pipelines that hand off to each other
     * could not be saved otherwise, and a pipeline may be deleted after. The run checks it when it
     * reaches the step.
     */
    private static String pipelineName(Fields f) {
        String pipeline = f.text("pipeline");
        if (!NAME.matcher(pipeline).matches()) {
            throw f.fault("'pipeline' must be a pipeline name ([a-z0-9][a-z0-9_-]*, at most 64 characters), got '" + pipeline + "'.");
        }
        return pipeline;
    }

    private static String topic(Fields f) {
        String topic = f.text("topic");
        if (!TopicNames.isValidTopicName(topic)) {
            throw f.fault("'" + topic + "' is not a topic name (segments of [a-z0-9_-] joined by dots, at most "
                    + TopicNames.MAX_TOPIC_LENGTH + " characters).");
        }
        return topic;
    }

    private static void putIfPresent(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }

    private static Duration orDefault(Duration value, Duration fallback) {
        return value == null ? fallback : value;
    }

    private static Set<String> with(String... fields) {
        Set<String> all = new HashSet<>(COMMON);
        all.addAll(List.of(fields));
        return Set.copyOf(all);
    }

    /** Compiled on save and bounded in length, so a pattern is never a surprise when a run applies it. */
    private static void checkRedactPattern(String pattern, Fields f) {
        if (pattern.length() > MAX_REDACT_PATTERN) {
            throw f.fault("op redact's pattern is longer than " + MAX_REDACT_PATTERN + " characters.");
        }
        try {
            Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw f.fault("op redact's pattern is not a regular expression: " + e.getDescription()
                    + " near index " + e.getIndex() + ".");
        }
    }
}
