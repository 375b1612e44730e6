package dev.switchboard.workflow.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.time.Duration;
import java.util.List;

/**
 * A validated pipeline definition, as it is stored and returned: every optional field of a step
 * that has a default (timeout, retry) is filled in, so a saved version means the same thing
 * whatever the defaults become later.
 *
 * @param trigger             the events that start a run, if any (runs may also start over REST)
 * @param output              the run's output topic: a topic name, or a template over the trigger
 *                            ({@code {trigger.topic}}); absent, a run started over REST names its own
 * @param cancelWhenUnwatched cancel a run whose output topic has had no subscriber for this long
 * @param steps               the steps, in the order they were written; the last one's result is the answer
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"trigger", "output", "cancelWhenUnwatched", "steps"})
public record PipelineDefinition(Trigger trigger, String output, Duration cancelWhenUnwatched, List<Step> steps) {

    public PipelineDefinition {
        steps = List.copyOf(steps);
    }

    /** The step with this id, or null. */
    public Step step(String id) {
        return steps.stream().filter(s -> s.id().equals(id)).findFirst().orElse(null);
    }

    /** The step whose result is the run's answer: the last one written. */
    public Step answerStep() {
        return steps.get(steps.size() - 1);
    }

    /**
     * @param topic a topic name or pattern ({@code chat.*})
     * @param types the event types that start a run; absent, every type does
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Trigger(String topic, List<String> types) {
    }

    /**
     * @param attempts how many times a step runs at most (the first included)
     * @param backoff  the wait before the second attempt; it doubles for each further one
     */
    public record Retry(int attempts, Duration backoff) {
    }
}
