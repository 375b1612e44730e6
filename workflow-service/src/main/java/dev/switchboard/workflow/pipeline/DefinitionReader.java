package dev.switchboard.workflow.pipeline;

import org.springframework.http.MediaType;
import org.springframework.web.server.UnsupportedMediaTypeStatusException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.List;

/**
 * Reads a definition body, JSON ({@code application/json}) or YAML ({@code application/yaml}),
 * into one JSON tree, so both go through the same checks and are stored alike. A field written
 * twice is refused, in either.
 */
final class DefinitionReader {

    static final MediaType YAML = MediaType.parseMediaType("application/yaml");
    static final List<MediaType> SUPPORTED = List.of(MediaType.APPLICATION_JSON, YAML);
    private static final List<MediaType> YAML_ALIASES = List.of(YAML, MediaType.parseMediaType("application/x-yaml"),
            MediaType.parseMediaType("text/yaml"));

    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final YAMLMapper YAML_MAPPER = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private DefinitionReader() {
    }

    /** @param contentType the body's; absent counts as JSON */
    static JsonNode read(byte[] body, MediaType contentType) {
        boolean yaml = contentType != null && YAML_ALIASES.stream().anyMatch(t -> t.equalsTypeAndSubtype(contentType));
        if (!yaml && contentType != null && !contentType.isCompatibleWith(MediaType.APPLICATION_JSON)
                && !(contentType.getSubtype().endsWith("+json") && contentType.getType().equals("application"))) {
            throw new UnsupportedMediaTypeStatusException(contentType, SUPPORTED);
        }
        ObjectMapper mapper = yaml ? YAML_MAPPER : JSON;
        JsonNode tree;
        try {
            tree = mapper.readTree(body);
        } catch (JacksonException e) {
            throw InvalidDefinition.of("The body is not valid " + (yaml ? "YAML" : "JSON") + ": " + describe(e));
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw InvalidDefinition.of("The body is empty: send the pipeline definition.");
        }
        return tree;
    }

    /** The parser's own words and where, never an exception class. */
    private static String describe(JacksonException e) {
        String message = e.getOriginalMessage() == null ? "unreadable" : e.getOriginalMessage();
        if (message.length() > 200) {
            message = message.substring(0, 200) + "…";
        }
        return e.getLocation() == null || e.getLocation().getLineNr() < 0 ? message + "."
                : message + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ").";
    }
}
