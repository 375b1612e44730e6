package dev.switchboard.delivery.ingest;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/** PLACEHOLDER until shared-contracts' EventRules lands: the producer-side checks the issue names. */
final class ProducerRules {

    private ProducerRules() {
    }

    static List<String> violations(ObjectNode e) {
        List<String> v = new ArrayList<>();
        JsonNode id = e.get("id");
        if (id != null && (!id.isString() || id.asString().isEmpty() || id.asString().length() > 128)) {
            v.add("id must be a string of 1 to 128 characters");
        }
        JsonNode type = e.get("type");
        if (type == null || !type.isString() || type.asString().isEmpty()) {
            v.add("type is required");
        }
        JsonNode ttl = e.get("ttl");
        if (ttl != null && !ttl.isNull() && (!ttl.isIntegralNumber() || ttl.asLong() < 0)) {
            v.add("ttl must be an integer >= 0 (seconds)");
        }
        JsonNode sv = e.get("schemaversion");
        if (sv != null && (!sv.isIntegralNumber() || sv.asInt() < 1)) {
            v.add("schemaversion must be an integer >= 1");
        }
        if (e.has("data") && e.has("data_base64")) {
            v.add("data and data_base64 are exclusive");
        }
        return v;
    }
}
