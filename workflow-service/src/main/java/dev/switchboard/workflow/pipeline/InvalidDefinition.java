package dev.switchboard.workflow.pipeline;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.platform.problem.SwitchboardException;

/**
 * A pipeline definition refused on save: {@code 400 invalid_request} whose detail names what is
 * wrong and, when a step is at fault, which one (also as the problem's {@code step} property:
 * its id, or {@code #n} for the n-th step when it has no usable id).
 */
final class InvalidDefinition extends SwitchboardException {

    private InvalidDefinition(String detail, String step) {
        super(ErrorCode.INVALID_REQUEST, detail);
        if (step != null) {
            getBody().setProperty("step", step);
        }
    }

    /** A fault of the pipeline as a whole (its trigger, output, top-level fields). */
    static InvalidDefinition of(String detail) {
        return new InvalidDefinition(detail, null);
    }

    /** A fault of one step; the detail starts by naming it. */
    static InvalidDefinition step(String step, String detail) {
        String label = step.startsWith("#") ? "Step " + step : "Step '" + step + "'";
        return new InvalidDefinition(label + ": " + detail, step);
    }
}
