package dev.switchboard.contracts.envelope;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonGeneratorBase;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.annotation.JsonDeserialize;
import tools.jackson.databind.annotation.JsonSerialize;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/**
 * One JSON value (object, array, string, number, boolean or null) kept as compact JSON text: the
 * {@code data} of an {@link Event}.
 *
 * <p>Why text and not a tree or {@code Object}: the envelope must carry a producer's data
 * unchanged, and Jackson's untyped and tree deserializers turn {@code 3.14159265358979323846}
 * into a {@code double} unless every mapper of every service enables
 * {@code USE_BIG_DECIMAL_FOR_FLOATS}. Copying the parser's tokens and writing each number's own
 * text keeps every value exact, and services that only store and forward events (delivery, the
 * gateway) never build a tree at all. That copy needs a databind (de)serializer, which is the one
 * reason this module depends on {@code jackson-databind}; an annotation-only creator cannot see the
 * number text.
 *
 * <p>Written to JSON text the value goes out raw, exactly as held. {@code convertValue} and
 * {@code valueToTree} cannot take raw text, so there the tokens are replayed with typed numbers:
 * values stay exact, but an exponent may be respelled ({@code 1e-400} → {@code 1E-400}),
 * {@code -0.0} becomes {@code 0.0}, and a tree keeps only the last of duplicate keys.
 *
 * <p>An instance always holds valid JSON: it is built only by {@link #parse} or by reading JSON,
 * so writing it raw cannot inject structure into the enclosing document.
 */
@JsonSerialize(using = RawJson.Serializer.class)
@JsonDeserialize(using = RawJson.Deserializer.class)
public final class RawJson {

    /** The JSON literal {@code null}: what {@code "data": null} reads as, kept apart from an absent {@code data}. */
    public static final RawJson NULL = new RawJson("null");

    private static final JsonFactory JSON = new JsonFactory();

    private final String json;

    private RawJson(String json) {
        this.json = json;
    }

    /**
     * Parses exactly one JSON value and keeps it in compact form: insignificant whitespace
     * removed, strings re-escaped minimally, numbers, key order and duplicate keys as given.
     * Jackson's default read limits apply (numbers up to 1000 characters, nesting up to 500
     * levels); a service's byte limit on the payload comes first anyway.
     *
     * @throws IllegalArgumentException when {@code json} is not exactly one well-formed JSON value
     */
    public static RawJson parse(String json) {
        if (json == null) {
            throw new IllegalArgumentException("JSON text is missing");
        }
        try (JsonParser parser = JSON.createParser(ObjectReadContext.empty(), json)) {
            return readSingle(parser);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** {@link #parse(String)} of UTF-8 bytes, e.g. a CloudEvents binary-mode body. */
    public static RawJson parse(byte[] utf8Json) {
        if (utf8Json == null) {
            throw new IllegalArgumentException("JSON text is missing");
        }
        try (JsonParser parser = JSON.createParser(ObjectReadContext.empty(), utf8Json)) {
            return readSingle(parser);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A JSON string value holding {@code text}. */
    public static RawJson ofString(String text) {
        StringWriter out = new StringWriter(text.length() + 2);
        try (JsonGenerator generator = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
            generator.writeString(text);
        }
        return new RawJson(out.toString());
    }

    /** The compact JSON text. */
    public String json() {
        return json;
    }

    /** The UTF-8 bytes of {@link #json()}. */
    public byte[] utf8() {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    private static RawJson readSingle(JsonParser parser) {
        if (parser.nextToken() == null) {
            throw new IllegalArgumentException("not valid JSON: no value");
        }
        RawJson value = copy(parser);
        if (parser.nextToken() != null) {
            throw new IllegalArgumentException("not valid JSON: more than one value");
        }
        return value;
    }

    /** Copies the value at the parser's current token; the parser is left on its last token. */
    private static RawJson copy(JsonParser parser) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
            copy(parser, generator, true);
        }
        return new RawJson(out.toString());
    }

    /**
     * @param numbersAsText write each number's own text (JSON text output); otherwise write it
     *                      typed, as an exact {@code BigDecimal} or integer, for generators that
     *                      only take typed numbers (token buffers, tree builders)
     */
    private static void copy(JsonParser parser, JsonGenerator generator, boolean numbersAsText) {
        int depth = 0;
        JsonToken token = parser.currentToken();
        while (true) {
            switch (token) {
                case START_OBJECT -> {
                    generator.writeStartObject();
                    depth++;
                }
                case END_OBJECT -> {
                    generator.writeEndObject();
                    depth--;
                }
                case START_ARRAY -> {
                    generator.writeStartArray();
                    depth++;
                }
                case END_ARRAY -> {
                    generator.writeEndArray();
                    depth--;
                }
                case PROPERTY_NAME -> generator.writeName(parser.currentName());
                case VALUE_STRING -> generator.writeString(parser.getString());
                // The number's own text: exact for any size or precision.
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                    if (numbersAsText) {
                        generator.writeNumber(parser.getString());
                    } else {
                        writeTyped(parser, generator);
                    }
                }
                case VALUE_TRUE -> generator.writeBoolean(true);
                case VALUE_FALSE -> generator.writeBoolean(false);
                case VALUE_NULL -> generator.writeNull();
                default -> throw new IllegalArgumentException("not valid JSON: unexpected " + token);
            }
            if (depth == 0) {
                return;
            }
            token = parser.nextToken();
            if (token == null) {
                throw new IllegalArgumentException("not valid JSON: truncated");
            }
        }
    }

    private static void writeTyped(JsonParser parser, JsonGenerator generator) {
        if (parser.currentToken() == JsonToken.VALUE_NUMBER_FLOAT) {
            generator.writeNumber(parser.getDecimalValue());
            return;
        }
        switch (parser.getNumberType()) {
            case INT -> generator.writeNumber(parser.getIntValue());
            case LONG -> generator.writeNumber(parser.getLongValue());
            default -> generator.writeNumber(parser.getBigIntegerValue());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawJson other && other.json.equals(json);
    }

    @Override
    public int hashCode() {
        return json.hashCode();
    }

    @Override
    public String toString() {
        return json;
    }

    static final class Serializer extends ValueSerializer<RawJson> {
        @Override
        public void serialize(RawJson value, JsonGenerator generator, SerializationContext context) {
            if (generator instanceof JsonGeneratorBase) {
                generator.writeRawValue(value.json);
            } else {
                // Not JSON text (a token buffer for convertValue, a tree for valueToTree): raw text
                // would land there as an opaque object, so replay the tokens instead.
                try (JsonParser parser = JSON.createParser(ObjectReadContext.empty(), value.json)) {
                    parser.nextToken();
                    copy(parser, generator, false);
                }
            }
        }
    }

    static final class Deserializer extends ValueDeserializer<RawJson> {
        @Override
        public RawJson deserialize(JsonParser parser, DeserializationContext context) {
            try {
                return copy(parser);
            } catch (IllegalArgumentException e) {
                return context.reportInputMismatch(RawJson.class, "%s", e.getMessage());
            }
        }

        @Override
        public Object getNullValue(DeserializationContext context) {
            return NULL;
        }

        @Override
        public Object getAbsentValue(DeserializationContext context) {
            return null;
        }
    }
}
