package dev.switchboard.workflow.pipeline;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * Checks the JSON Schemas of {@code json} postprocess ops (draft 2020-12) when a pipeline is
 * saved: the schema must itself be valid against the draft's meta-schema, and may refer only to
 * itself ({@code $ref: "#/…"}), so checking it — now and when a run applies it — never reads a
 * file or the network. The meta-schema is loaded once, at start-up, from the library's jar.
 */
@Component
public class JsonSchemas {

    private static final SpecificationVersion DRAFT = SpecificationVersion.DRAFT_2020_12;
    private static final int MAX_ERRORS_SHOWN = 3;

    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(DRAFT);
    private final Schema metaSchema = registry.getSchema(SchemaLocation.of(DRAFT.getDialectId()));
    /** By identity: a definition's schema node is one object for as long as its version is cached. */
    private final Cache<JsonNode, Schema> compiled = Caffeine.newBuilder().weakKeys().maximumSize(10_000).build();

    /**
     * @throws IllegalArgumentException naming what is wrong with the schema
     */
    void check(JsonNode schema) {
        if (!schema.isObject() && !schema.isBoolean()) {
            throw new IllegalArgumentException("a JSON Schema is an object (or true/false).");
        }
        checkReferences(schema);
        List<Error> errors = metaSchema.validate(schema);
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("not a valid JSON Schema (draft 2020-12): " + String.join("; ",
                    errors.stream().limit(MAX_ERRORS_SHOWN).map(JsonSchemas::describe).toList()) + ".");
        }
        try {
            registry.getSchema(schema);
        } catch (SchemaException e) {
            throw new IllegalArgumentException("not a usable JSON Schema: " + e.getMessage() + ".");
        }
    }

    /**
     * Checks a value against a schema that {@link #check} accepted.
     *
     * @return what does not match (at most three findings), or null when it matches
     */
    public String mismatch(JsonNode schema, JsonNode value) {
        List<Error> errors = compiled.get(schema, registry::getSchema).validate(value);
        return errors.isEmpty() ? null
                : String.join("; ", errors.stream().limit(MAX_ERRORS_SHOWN).map(JsonSchemas::describe).toList());
    }

    private static String describe(Error error) {
        String at = error.getInstanceLocation() == null ? "" : error.getInstanceLocation().toString();
        return (at.isEmpty() || at.equals("$") ? "" : at + ": ") + error.getMessage();
    }

    private static void checkReferences(JsonNode node) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                String name = field.getKey();
                JsonNode value = field.getValue();
                if ((name.equals("$ref") || name.equals("$dynamicRef")) && !(value.isString() && value.asString().startsWith("#"))) {
                    throw new IllegalArgumentException("'" + name + "' may only point inside the schema ('#/…'), got " + value + ".");
                }
                if (name.equals("$schema") && !(value.isString() && DRAFT.getDialectId().equals(value.asString()))) {
                    throw new IllegalArgumentException("'$schema' may only be " + DRAFT.getDialectId() + ", got " + value + ".");
                }
                checkReferences(value);
            }
        } else if (node.isArray()) {
            for (JsonNode item : node) {
                checkReferences(item);
            }
        }
    }
}
