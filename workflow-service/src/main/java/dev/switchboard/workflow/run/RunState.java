package dev.switchboard.workflow.run;

import dev.switchboard.workflow.pipeline.PipelineDefinition;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A run as a step sees it: its pinned definition, its trigger, and what its steps have produced so far. */
final class RunState {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final RunRepository.RunRow row;
    private final PipelineDefinition definition;
    private final JsonNode trigger;
    private final Map<String, RunRepository.StepRow> steps = new HashMap<>();
    private final Map<String, JsonNode> outputs = new HashMap<>();
    private final RunEvents events;

    RunState(RunRepository.RunRow row, PipelineDefinition definition, List<RunRepository.StepRow> stepRows) {
        this.row = row;
        this.definition = definition;
        this.trigger = JSON.readTree(row.trigger());
        for (RunRepository.StepRow step : stepRows) {
            steps.put(step.step(), step);
            if ("completed".equals(step.status()) && step.output() != null) {
                outputs.put(step.step(), JSON.readTree(step.output()));
            }
        }
        this.events = new RunEvents(row.run(), row.pipeline(), row.causationId());
    }

    String tenant() {
        return row.tenant();
    }

    UUID run() {
        return row.run();
    }

    RunRepository.RunRow row() {
        return row;
    }

    PipelineDefinition definition() {
        return definition;
    }

    JsonNode trigger() {
        return trigger;
    }

    String outputTopic() {
        return row.outputTopic();
    }

    RunEvents events() {
        return events;
    }

    Map<String, JsonNode> outputs() {
        return outputs;
    }

    JsonNode output(String step) {
        return outputs.getOrDefault(step, MissingNode.getInstance());
    }

    boolean completed(String step) {
        RunRepository.StepRow s = steps.get(step);
        return s != null && "completed".equals(s.status());
    }

    Instant finishedAt(String step) {
        RunRepository.StepRow s = steps.get(step);
        return s == null || s.finishedAt() == null ? Instant.MAX : s.finishedAt();
    }
}
