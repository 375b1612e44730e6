package dev.switchboard.workflow.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.switchboard.workflow.pipeline.PipelineDefinition.Retry;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** One step of a pipeline. Every step has an id unique in its pipeline, a timeout and a retry policy. */
public sealed interface Step {

    String id();

    @JsonProperty("type")
    String type();

    Duration timeout();

    Retry retry();

    /** A template over the trigger event and earlier steps' outputs, e.g. {@code Answer briefly: {{data.text}}}. */
    @JsonPropertyOrder({"id", "type", "template", "timeout", "retry"})
    record Prompt(String id, String template, Duration timeout, Retry retry) implements Step {
        public String type() {
            return "prompt";
        }
    }

    /**
     * A streaming call to a model. Its input is the {@code input} step's output, or, for a member
     * of a fanout, the fanout's input.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"id", "type", "input", "provider", "model", "parameters", "timeout", "retry"})
    record Model(String id, String input, String provider, String model, Map<String, Object> parameters,
                 Duration timeout, Retry retry) implements Step {
        public String type() {
            return "model";
        }
    }

    /** The same input to several model steps at once. */
    @JsonPropertyOrder({"id", "type", "input", "steps", "timeout", "retry"})
    record Fanout(String id, String input, List<String> steps, Duration timeout, Retry retry) implements Step {
        public Fanout {
            steps = List.copyOf(steps);
        }

        public String type() {
            return "fanout";
        }
    }

    /** One result from several: the first to finish, all of them, a vote, or a judge model's pick. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"id", "type", "inputs", "strategy", "judge", "timeout", "retry"})
    record Aggregate(String id, List<String> inputs, String strategy, Judge judge, Duration timeout, Retry retry)
            implements Step {
        public Aggregate {
            inputs = List.copyOf(inputs);
        }

        public String type() {
            return "aggregate";
        }
    }

    /** The model that picks the best answer of an aggregate with strategy {@code judge}. */
    record Judge(String provider, String model) {
    }

    /** Built-in transforms and webhooks, applied in order. */
    @JsonPropertyOrder({"id", "type", "input", "ops", "timeout", "retry"})
    record Postprocess(String id, String input, List<Op> ops, Duration timeout, Retry retry) implements Step {
        public Postprocess {
            ops = List.copyOf(ops);
        }

        public String type() {
            return "postprocess";
        }
    }

    /** Starts another pipeline with this input (multi-agent); the causation chain is kept. */
    @JsonPropertyOrder({"id", "type", "input", "pipeline", "timeout", "retry"})
    record Handoff(String id, String input, String pipeline, Duration timeout, Retry retry) implements Step {
        public String type() {
            return "handoff";
        }
    }

    /** Publishes its input to a topic. */
    @JsonPropertyOrder({"id", "type", "input", "topic", "timeout", "retry"})
    record Emit(String id, String input, String topic, Duration timeout, Retry retry) implements Step {
        public String type() {
            return "emit";
        }
    }
}
