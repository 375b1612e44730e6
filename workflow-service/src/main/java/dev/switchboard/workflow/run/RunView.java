package dev.switchboard.workflow.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonRawValue;

import java.time.Instant;
import java.util.List;

/**
 * A run as {@code GET /v1/runs/{run}} shows it: its status and answer, and every step with every
 * attempt — who ran it, when, how it ended, the tokens it streamed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"run", "pipeline", "version", "status", "output", "causationid", "parent", "createdAt", "finishedAt",
        "answer", "error", "steps"})
record RunView(String run, String pipeline, int version, String status, String output, String causationid, Parent parent,
               Instant createdAt, Instant finishedAt, @JsonRawValue String answer, String error, List<StepView> steps) {

    /** The run and step whose handoff started this run. */
    record Parent(String run, String step) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"id", "type", "status", "output", "error", "attempts"})
    record StepView(String id, String type, String status, @JsonRawValue String output, String error,
                    List<AttemptView> attempts) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"attempt", "worker", "startedAt", "finishedAt", "outcome", "error", "tokens"})
    record AttemptView(int attempt, String worker, Instant startedAt, Instant finishedAt, String outcome, String error,
                       int tokens) {
    }

    /** The answer to a run's start: {@code 201}, or {@code 200} with {@code duplicate} when its trigger id had started it before. */
    @JsonPropertyOrder({"run", "pipeline", "version", "output", "causationid", "duplicate"})
    record Started(String run, String pipeline, int version, String output, String causationid, boolean duplicate) {
    }
}
