package dev.switchboard.workflow.run;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.util.UUID;

/**
 * The events a run publishes on its output topic ({@code PROTOCOL.md}, "Workflows"). Every id is
 * fixed by what the event says — run, step, attempt, token index — so publishing one twice (a
 * retried request, a replica that died between publishing and recording it) stores it once. All
 * carry {@code correlationid} = the run and {@code causationid} = the trigger event's id, and the
 * run as {@code partitionkey}: on a topic with several partitions a run's events keep their order.
 */
final class RunEvents {

    static final String TOKEN = "ai.token";
    static final String RETRACTED = "ai.retracted";
    static final String COMPLETED = "ai.completed";
    static final String FAILED = "ai.failed";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final UUID run;
    private final String pipeline;
    private final String causationId;

    RunEvents(UUID run, String pipeline, String causationId) {
        this.run = run;
        this.pipeline = pipeline;
        this.causationId = causationId;
    }

    ObjectNode token(String step, int attempt, int index, String text) {
        ObjectNode data = data().put("step", step).put("attempt", attempt).put("index", index).put("text", text);
        return event(run + "." + step + "." + attempt + "." + index, TOKEN, data);
    }

    ObjectNode retracted(String step, int attempt) {
        return event(run + "." + step + "." + attempt + ".retracted", RETRACTED, data().put("step", step).put("attempt", attempt));
    }

    ObjectNode completed(JsonNode answer) {
        ObjectNode data = data();
        data.set("answer", answer);
        return event(run + ".completed", COMPLETED, data);
    }

    ObjectNode failed(String error, String detail) {
        ObjectNode data = data().put("error", error);
        if (detail != null) {
            data.put("detail", detail);
        }
        return event(run + ".failed", FAILED, data);
    }

    /** An emit step's event: its own type, the step's input as its data. */
    ObjectNode emitted(String step, JsonNode output) {
        ObjectNode event = event(run + "." + step, "ai.emitted", null);
        ObjectNode data = data().put("step", step);
        data.set("output", output);
        event.set("data", data);
        return event;
    }

    private ObjectNode data() {
        return JSON.createObjectNode().put("run", run.toString());
    }

    private ObjectNode event(String id, String type, ObjectNode data) {
        ObjectNode event = JSON.createObjectNode()
                .put("specversion", "1.0")
                .put("id", id)
                .put("type", type)
                .put("source", "/v1/pipelines/" + pipeline)
                .put("datacontenttype", "application/json")
                .put("partitionkey", run.toString())
                .put("correlationid", run.toString())
                .put("causationid", causationId);
        if (data != null) {
            event.set("data", data);
        }
        return event;
    }
}
