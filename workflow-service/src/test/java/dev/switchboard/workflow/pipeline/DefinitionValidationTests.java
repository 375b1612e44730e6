package dev.switchboard.workflow.pipeline;

import dev.switchboard.workflow.config.WorkflowProperties;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every class of invalid definition is refused with the step named; valid ones come out normalized. */
class DefinitionValidationTests {

    static final JsonMapper JSON = JsonMapper.builder().build();
    static final Pipelines PIPELINES = new Pipelines(null,
            new WorkflowProperties(null, Map.of("local", new WorkflowProperties.Provider(URI.create("http://127.0.0.1:1/v1"), "k")), 0, 0, null, null, null, null),
            new JsonSchemas());

    static final String ASK = "{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"Answer briefly: {{data.text}}\"}";

    static String pipeline(String... steps) {
        return "{\"steps\":[" + String.join(",", steps) + "]}";
    }

    static String normalized(String body, MediaType type) {
        return PIPELINES.normalized("p", body.getBytes(StandardCharsets.UTF_8), type);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("unknown step type", pipeline(ASK, "{\"id\":\"x\",\"type\":\"magic\",\"input\":\"ask\"}"), "x", "unknown step type 'magic'"),
                Arguments.of("missing type", pipeline(ASK, "{\"id\":\"x\"}"), "x", "'type' is required"),
                Arguments.of("missing id", pipeline(ASK, "{\"type\":\"prompt\",\"template\":\"hi\"}"), "#2", "'id' is required"),
                Arguments.of("bad id", pipeline("{\"id\":\"Bad Id\",\"type\":\"prompt\",\"template\":\"hi\"}"), "#1", "'id' is required"),
                Arguments.of("duplicate id", pipeline(ASK, ASK), "ask", "used by an earlier step"),
                Arguments.of("unknown field", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"x\",\"temperature\":1}"), "ask", "unknown field 'temperature'"),
                Arguments.of("missing input", pipeline(ASK, model("draft", "nope", "echo")), "draft", "'input' names 'nope'"),
                Arguments.of("model without input", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"provider\":\"echo\",\"model\":\"m\"}"), "draft", "'input' is required"),
                Arguments.of("fanout naming nothing", pipeline(ASK, "{\"id\":\"fan\",\"type\":\"fanout\",\"input\":\"ask\",\"steps\":[\"ghost\"]}"), "fan", "'steps' names 'ghost'"),
                Arguments.of("fanout naming a non-model", pipeline(ASK, "{\"id\":\"fan\",\"type\":\"fanout\",\"input\":\"ask\",\"steps\":[\"ask\"]}"), "fan", "a prompt step"),
                Arguments.of("fanout member with its own input", pipeline(ASK, model("a", "ask", "echo"),
                        "{\"id\":\"fan\",\"type\":\"fanout\",\"input\":\"ask\",\"steps\":[\"a\"]}"), "a", "gets its input from fanout 'fan'"),
                Arguments.of("aggregate naming nothing", pipeline(ASK, "{\"id\":\"agg\",\"type\":\"aggregate\",\"inputs\":[\"ask\",\"ghost\"],\"strategy\":\"all\"}"), "agg", "'inputs' names 'ghost'"),
                Arguments.of("cycle", pipeline(ASK, model("a", "b", "echo"), model("b", "a", "echo")), "a", "cycle: a → b → a"),
                Arguments.of("self reference", pipeline(model("a", "a", "echo")), "a", "cycle: a → a"),
                Arguments.of("cycle through a template", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{steps.draft.output}}\"}",
                        model("draft", "ask", "echo")), "ask", "cycle: ask → draft → ask"),
                Arguments.of("unclosed template", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"Hi {{data.text\"}"), "ask", "never closed"),
                Arguments.of("stray close", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"Hi data}}\"}"), "ask", "closes nothing"),
                Arguments.of("empty expression", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"Hi {{ }}\"}"), "ask", "is empty"),
                Arguments.of("template naming nothing", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{user.name}}\"}"), "ask", "cannot exist"),
                Arguments.of("template naming no trigger attribute", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{trigger.secret}}\"}"), "ask", "no attribute"),
                Arguments.of("template naming a missing step", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{steps.ghost.output}}\"}"), "ask", "steps.ghost.output names 'ghost'"),
                Arguments.of("template naming a step but not its output", pipeline("{\"id\":\"ask\",\"type\":\"prompt\",\"template\":\"{{steps.ask}}\"}"), "ask", "steps.<id>.output"),
                Arguments.of("unknown provider", pipeline(ASK, model("draft", "ask", "openai")), "draft", "unknown provider 'openai'; configured: echo, local"),
                Arguments.of("bad duration", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"timeout\":\"30s\"}"), "draft", "ISO-8601"),
                Arguments.of("negative duration", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"timeout\":\"-PT1S\"}"), "draft", "above zero"),
                Arguments.of("attempts out of range", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"retry\":{\"attempts\":0}}"), "draft", "'attempts' must be an integer from 1 to 10"),
                Arguments.of("attempts not an integer", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"retry\":{\"attempts\":2.5}}"), "draft", "'attempts' must be an integer"),
                Arguments.of("bad backoff", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"retry\":{\"backoff\":\"soon\"}}"), "draft", "'backoff' must be an ISO-8601"),
                Arguments.of("unknown retry field", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"retry\":{\"jitter\":true}}"), "draft", "unknown field 'jitter'"),
                Arguments.of("unknown model parameter", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"parameters\":{\"seed\":1}}"), "draft", "unknown field 'seed'"),
                Arguments.of("temperature out of range", pipeline(ASK, "{\"id\":\"draft\",\"type\":\"model\",\"input\":\"ask\",\"provider\":\"echo\",\"model\":\"m\",\"parameters\":{\"temperature\":3}}"), "draft", "'temperature'"),
                Arguments.of("unknown strategy", pipeline(ASK, "{\"id\":\"agg\",\"type\":\"aggregate\",\"inputs\":[\"ask\"],\"strategy\":\"best\"}"), "agg", "unknown strategy 'best'"),
                Arguments.of("judge without a model", pipeline(ASK, "{\"id\":\"agg\",\"type\":\"aggregate\",\"inputs\":[\"ask\"],\"strategy\":\"judge\"}"), "agg", "needs a judge model"),
                Arguments.of("judge with an unknown provider", pipeline(ASK, "{\"id\":\"agg\",\"type\":\"aggregate\",\"inputs\":[\"ask\"],\"strategy\":\"judge\",\"judge\":{\"provider\":\"x\",\"model\":\"m\"}}"), "agg", "unknown provider 'x'"),
                Arguments.of("judge with another strategy", pipeline(ASK, "{\"id\":\"agg\",\"type\":\"aggregate\",\"inputs\":[\"ask\"],\"strategy\":\"vote\",\"judge\":{\"provider\":\"echo\",\"model\":\"m\"}}"), "agg", "only for strategy judge"),
                Arguments.of("unknown op", pipeline(ASK, post("\"uppercase\"")), "clean", "unknown postprocess op 'uppercase'"),
                Arguments.of("json op without schema", pipeline(ASK, post("{\"op\":\"json\"}")), "clean", "needs 'schema'"),
                Arguments.of("json op with an invalid schema", pipeline(ASK, post("{\"op\":\"json\",\"schema\":{\"type\":\"banana\"}}")), "clean", "not a valid JSON Schema"),
                Arguments.of("json op with a remote $ref", pipeline(ASK, post("{\"op\":\"json\",\"schema\":{\"$ref\":\"https://example.com/s.json\"}}")), "clean", "may only point inside the schema"),
                Arguments.of("redact with a bad regex", pipeline(ASK, post("{\"op\":\"redact\",\"pattern\":\"[a-\"}")), "clean", "not a regular expression"),
                Arguments.of("redact without pattern", pipeline(ASK, post("{\"op\":\"redact\"}")), "clean", "'pattern' is required"),
                Arguments.of("webhook without timeout", pipeline(ASK, post("{\"op\":\"webhook\",\"url\":\"https://hooks.example.com/x\"}")), "clean", "needs 'timeout'"),
                Arguments.of("webhook with a non-http url", pipeline(ASK, post("{\"op\":\"webhook\",\"url\":\"ftp://example.com/x\",\"timeout\":\"PT5S\"}")), "clean", "http(s) URL"),
                Arguments.of("webhook as a bare string", pipeline(ASK, post("\"webhook\"")), "clean", "needs its settings"),
                Arguments.of("op with an unknown field", pipeline(ASK, post("{\"op\":\"trim\",\"all\":true}")), "clean", "unknown field 'all'"),
                Arguments.of("handoff naming no valid pipeline", pipeline(ASK, "{\"id\":\"next\",\"type\":\"handoff\",\"input\":\"ask\",\"pipeline\":\"Other One\"}"), "next", "'pipeline' must be a pipeline name"),
                Arguments.of("emit to a bad topic", pipeline(ASK, "{\"id\":\"out\",\"type\":\"emit\",\"input\":\"ask\",\"topic\":\"chat..x\"}"), "out", "not a topic name"),
                Arguments.of("emit to a pattern", pipeline(ASK, "{\"id\":\"out\",\"type\":\"emit\",\"input\":\"ask\",\"topic\":\"chat.*\"}"), "out", "not a topic name"));
    }

    static String model(String id, String input, String provider) {
        return "{\"id\":\"" + id + "\",\"type\":\"model\",\"input\":\"" + input + "\",\"provider\":\"" + provider + "\",\"model\":\"m\"}";
    }

    static String post(String op) {
        return "{\"id\":\"clean\",\"type\":\"postprocess\",\"input\":\"ask\",\"ops\":[" + op + "]}";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void refusesNamingTheStep(String what, String body, String step, String detail) {
        assertThatThrownBy(() -> normalized(body, MediaType.APPLICATION_JSON))
                .isInstanceOfSatisfying(InvalidDefinition.class, e -> {
                    assertThat(e.getBody().getStatus()).isEqualTo(400);
                    assertThat(e.getBody().getProperties()).containsEntry("step", step).containsEntry("code", "invalid_request");
                    assertThat(e.getBody().getDetail()).contains(step.startsWith("#") ? "Step " + step : "Step '" + step + "'").contains(detail);
                });
    }

    static Stream<Arguments> invalidPipeline() {
        return Stream.of(
                Arguments.of("no steps", "{\"steps\":[]}", "'steps' is required"),
                Arguments.of("unknown top-level field", "{\"steps\":[" + ASK + "],\"name\":\"x\"}", "unknown field 'name'"),
                Arguments.of("bad trigger topic", "{\"trigger\":{\"topic\":\"chat.>.x\"},\"steps\":[" + ASK + "]}", "not a topic name or pattern"),
                Arguments.of("unknown trigger field", "{\"trigger\":{\"topic\":\"chat.*\",\"group\":\"g\"},\"steps\":[" + ASK + "]}", "unknown field 'group'"),
                Arguments.of("bad output", "{\"output\":\"Chat Answers\",\"steps\":[" + ASK + "]}", "not a topic name"),
                Arguments.of("output template over data", "{\"output\":\"answers.{trigger.data}\",\"steps\":[" + ASK + "]}", "cannot name a topic"),
                Arguments.of("output with a stray brace", "{\"output\":\"answers.{x\",\"steps\":[" + ASK + "]}", "brace"),
                Arguments.of("bad cancelWhenUnwatched", "{\"cancelWhenUnwatched\":\"30 seconds\",\"steps\":[" + ASK + "]}", "ISO-8601"),
                Arguments.of("not JSON", "{\"steps\":", "not valid JSON"),
                Arguments.of("a field twice", "{\"steps\":[" + ASK + "],\"steps\":[]}", "not valid JSON"),
                Arguments.of("an array", "[]", "must be a JSON object"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidPipeline")
    void refusesThePipeline(String what, String body, String detail) {
        assertThatThrownBy(() -> normalized(body, MediaType.APPLICATION_JSON))
                .isInstanceOfSatisfying(InvalidDefinition.class, e -> {
                    assertThat(e.getBody().getDetail()).contains(detail);
                    assertThat(e.getBody().getProperties()).doesNotContainKey("step");
                });
    }

    static final String FULL_JSON = """
            {"trigger": {"topic": "chat.*", "types": ["chat.question"]},
             "output": "{trigger.topic}",
             "cancelWhenUnwatched": "PT30S",
             "steps": [
               {"id": "ask",   "type": "prompt", "template": "Answer briefly: {{ data.text }} ({{trigger.id}})"},
               {"id": "fan",   "type": "fanout", "input": "ask", "steps": ["a", "b"]},
               {"id": "a",     "type": "model", "provider": "echo", "model": "echo-1", "timeout": "PT30S",
                "retry": {"attempts": 3, "backoff": "PT1S"}, "parameters": {"temperature": 0.5, "maxTokens": 100}},
               {"id": "b",     "type": "model", "provider": "local", "model": "llama3"},
               {"id": "pick",  "type": "aggregate", "inputs": ["a", "b"], "strategy": "judge",
                "judge": {"provider": "echo", "model": "judge-1"}},
               {"id": "clean", "type": "postprocess", "input": "pick",
                "ops": ["trim", {"op": "redact", "pattern": "\\\\d{4}"},
                        {"op": "json", "schema": {"type": "object", "required": ["answer"]}},
                        {"op": "webhook", "url": "https://hooks.example.com/x", "timeout": "PT5S"}]},
               {"id": "more",  "type": "handoff", "input": "clean", "pipeline": "not-saved-yet"},
               {"id": "out",   "type": "emit", "input": "clean", "topic": "answers.all"},
               {"id": "recap", "type": "prompt", "template": "Done: {{steps.clean.output.answer}}"}]}
            """;

    static final String FULL_YAML = """
            trigger:
              topic: chat.*
              types: [chat.question]
            output: "{trigger.topic}"
            cancelWhenUnwatched: PT30S
            steps:
              - id: ask
                type: prompt
                template: "Answer briefly: {{ data.text }} ({{trigger.id}})"
              - {id: fan, type: fanout, input: ask, steps: [a, b]}
              - id: a
                type: model
                provider: echo
                model: echo-1
                timeout: PT30S
                retry: {attempts: 3, backoff: PT1S}
                parameters: {temperature: 0.5, maxTokens: 100}
              - {id: b, type: model, provider: local, model: llama3}
              - id: pick
                type: aggregate
                inputs: [a, b]
                strategy: judge
                judge: {provider: echo, model: judge-1}
              - id: clean
                type: postprocess
                input: pick
                ops:
                  - trim
                  - {op: redact, pattern: '\\d{4}'}
                  - op: json
                    schema: {type: object, required: [answer]}
                  - {op: webhook, url: "https://hooks.example.com/x", timeout: PT5S}
              - {id: more, type: handoff, input: clean, pipeline: not-saved-yet}
              - {id: out, type: emit, input: clean, topic: answers.all}
              - {id: recap, type: prompt, template: "Done: {{steps.clean.output.answer}}"}
            """;

    @Test
    void normalizesEveryStepTypeAndFillsTheDefaults() {
        JsonNode saved = JSON.readTree(normalized(FULL_JSON, MediaType.APPLICATION_JSON));
        assertThat(saved.path("steps")).hasSize(9);
        assertThat(saved.path("cancelWhenUnwatched").asString()).isEqualTo("PT30S");
        JsonNode b = saved.path("steps").get(3);
        assertThat(b.path("timeout").asString()).isEqualTo("PT1M");
        assertThat(b.path("retry").path("attempts").asInt()).isEqualTo(3);
        assertThat(b.path("retry").path("backoff").asString()).isEqualTo("PT1S");
        assertThat(b.has("input")).isFalse();
        JsonNode ops = saved.path("steps").get(5).path("ops");
        assertThat(ops.get(0).asString()).isEqualTo("trim");
        assertThat(ops.get(1).path("replacement").asString()).isEqualTo("[redacted]");
        assertThat(ops.get(2).path("schema").path("required").get(0).asString()).isEqualTo("answer");
        assertThat(ops.get(3).path("timeout").asString()).isEqualTo("PT5S");
        assertThat(saved.path("steps").get(0).propertyNames()).containsExactly("id", "type", "template", "timeout", "retry");
        // Normalizing the normalized form changes nothing.
        assertThat(normalized(saved.toString(), MediaType.APPLICATION_JSON)).isEqualTo(saved.toString());
    }

    @Test
    void yamlAndJsonOfOnePipelineAreStoredAlike() {
        assertThat(normalized(FULL_YAML, MediaType.parseMediaType("application/yaml")))
                .isEqualTo(normalized(FULL_JSON, MediaType.APPLICATION_JSON));
    }

    @Test
    void refusesAYamlKeyWrittenTwice() {
        assertThatThrownBy(() -> normalized("steps: []\nsteps: []\n", MediaType.parseMediaType("application/yaml")))
                .isInstanceOfSatisfying(InvalidDefinition.class, e -> assertThat(e.getBody().getDetail()).contains("not valid YAML"));
    }
}
