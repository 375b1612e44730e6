package dev.switchboard.workflow.pipeline;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.time.Duration;

/** One operation of a postprocess step. */
public sealed interface Op {

    /** Removes leading and trailing white space. Written as the bare string {@code "trim"}. */
    record Trim() implements Op {
        @JsonValue
        String wire() {
            return "trim";
        }
    }

    /** Extracts the first JSON value of the text and checks it against a JSON Schema (draft 2020-12). */
    @JsonPropertyOrder({"op", "schema"})
    record Json(JsonNode schema) implements Op {
        @JsonProperty("op")
        String op() {
            return "json";
        }
    }

    /** Replaces every match of a regular expression (Java syntax). */
    @JsonPropertyOrder({"op", "pattern", "replacement"})
    record Redact(String pattern, String replacement) implements Op {
        public static final String DEFAULT_REPLACEMENT = "[redacted]";

        @JsonProperty("op")
        String op() {
            return "redact";
        }
    }

    /**
     * POSTs the text to an HTTP(S) endpoint and takes its answer; the call carries an idempotency
     * key (run, step and attempt), so a retried call is recognisable.
     */
    @JsonPropertyOrder({"op", "url", "timeout"})
    record Webhook(URI url, Duration timeout) implements Op {
        @JsonProperty("op")
        String op() {
            return "webhook";
        }
    }
}
