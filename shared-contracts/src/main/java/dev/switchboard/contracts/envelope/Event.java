package dev.switchboard.contracts.envelope;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The envelope of {@code PROTOCOL.md}: a CloudEvents 1.0 event in the JSON format, with
 * Switchboard's extension attributes as typed components and any other extension attribute a
 * producer sends kept in {@link #extensions()}, so it survives a round trip.
 *
 * <p>A carrier, not a validator: an absent attribute is {@code null} (and is not written), and
 * nothing here checks values; {@link EventRules} says what a producer may send. The server fills
 * {@code id} (when absent), {@code time}, {@code tenant}, {@code topic}, {@code seq},
 * {@code partition} and {@code expiresat} through {@link #toBuilder()}.
 *
 * <p>{@code time} and {@code expiresat} are RFC 3339 timestamps; {@code data} is exact JSON text
 * ({@link RawJson}, where {@code "data": null} is {@link RawJson#NULL}); {@code data_base64} is
 * the base64 text of binary data, kept as sent.
 *
 * @param extensions other extension attributes by name, sorted; never null, never holding a
 *                   context attribute's name or a null value. Legal values are strings, booleans
 *                   and integers; anything else read from JSON is kept so that
 *                   {@link EventRules} can report it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "subject",
        "tenant", "topic", "partition", "seq", "partitionkey", "causationid", "correlationid", "ttl", "expiresat",
        "schemaversion", "traceparent", "tracestate"})
public record Event(
        @JsonProperty("specversion") String specVersion,
        @JsonProperty("id") String id,
        @JsonProperty("source") String source,
        @JsonProperty("type") String type,
        @JsonProperty("time") @JsonFormat(shape = JsonFormat.Shape.STRING) Instant time,
        @JsonProperty("datacontenttype") String dataContentType,
        @JsonProperty("dataschema") String dataSchema,
        @JsonProperty("subject") String subject,
        @JsonProperty("tenant") String tenant,
        @JsonProperty("topic") String topic,
        @JsonProperty("seq") Long seq,
        @JsonProperty("partition") Integer partition,
        @JsonProperty("partitionkey") String partitionKey,
        @JsonProperty("causationid") String causationId,
        @JsonProperty("correlationid") String correlationId,
        @JsonProperty("ttl") Integer ttl,
        @JsonProperty("expiresat") @JsonFormat(shape = JsonFormat.Shape.STRING) Instant expiresAt,
        @JsonProperty("schemaversion") Integer schemaVersion,
        @JsonProperty("traceparent") String traceparent,
        @JsonProperty("tracestate") String tracestate,
        @JsonAnyGetter Map<String, Object> extensions,
        @JsonProperty("data") RawJson data,
        @JsonProperty("data_base64") String dataBase64) {

    /** The only {@code specversion}. */
    public static final String SPEC_VERSION = "1.0";

    /**
     * Names of the context attributes this record has a component for, in the order they are
     * written; {@code data} and {@code data_base64} are not context attributes.
     */
    public static final List<String> CONTEXT_ATTRIBUTES = List.of("specversion", "id", "source", "type", "time",
            "datacontenttype", "dataschema", "subject", "tenant", "topic", "partition", "seq", "partitionkey",
            "causationid", "correlationid", "ttl", "expiresat", "schemaversion", "traceparent", "tracestate");

    private static final Set<String> RESERVED = reserved();

    public Event {
        extensions = copyExtensions(extensions);
    }

    /**
     * Reads the JSON format. The any-setter sits on this factory rather than on the record
     * component: on a component Jackson would also bind a member named {@code "extensions"} to
     * it, and a producer may legally send an extension of that name.
     */
    @JsonCreator
    static Event fromJson(
            @JsonProperty("specversion") String specVersion,
            @JsonProperty("id") String id,
            @JsonProperty("source") String source,
            @JsonProperty("type") String type,
            @JsonProperty("time") @JsonFormat(shape = JsonFormat.Shape.STRING) Instant time,
            @JsonProperty("datacontenttype") String dataContentType,
            @JsonProperty("dataschema") String dataSchema,
            @JsonProperty("subject") String subject,
            @JsonProperty("tenant") String tenant,
            @JsonProperty("topic") String topic,
            @JsonProperty("seq") Long seq,
            @JsonProperty("partition") Integer partition,
            @JsonProperty("partitionkey") String partitionKey,
            @JsonProperty("causationid") String causationId,
            @JsonProperty("correlationid") String correlationId,
            @JsonProperty("ttl") Integer ttl,
            @JsonProperty("expiresat") @JsonFormat(shape = JsonFormat.Shape.STRING) Instant expiresAt,
            @JsonProperty("schemaversion") Integer schemaVersion,
            @JsonProperty("traceparent") String traceparent,
            @JsonProperty("tracestate") String tracestate,
            @JsonProperty("data") RawJson data,
            @JsonProperty("data_base64") String dataBase64,
            @JsonAnySetter Map<String, Object> otherAttributes) {
        return new Event(specVersion, id, source, type, time, dataContentType, dataSchema, subject, tenant, topic,
                seq, partition, partitionKey, causationId, correlationId, ttl, expiresAt, schemaVersion, traceparent,
                tracestate, otherAttributes, data, dataBase64);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding every attribute of this event, e.g. for the server to fill its own. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    private static Map<String, Object> copyExtensions(Map<String, Object> extensions) {
        if (extensions == null || extensions.isEmpty()) {
            return Map.of();
        }
        TreeMap<String, Object> copy = new TreeMap<>();
        extensions.forEach((name, value) -> {
            if (name == null) {
                throw new IllegalArgumentException("extension attribute without a name");
            }
            if (RESERVED.contains(name)) {
                throw new IllegalArgumentException(name + " is not an extension attribute");
            }
            if (value != null) {
                copy.put(name, value);
            }
        });
        return Collections.unmodifiableMap(copy);
    }

    private static Set<String> reserved() {
        Set<String> names = new java.util.HashSet<>(CONTEXT_ATTRIBUTES);
        names.add("data");
        names.add("data_base64");
        return Set.copyOf(names);
    }

    /** Mutable, not thread-safe; {@link #build()} copies. Setting {@code null} clears an attribute. */
    public static final class Builder {
        private String specVersion;
        private String id;
        private String source;
        private String type;
        private Instant time;
        private String dataContentType;
        private String dataSchema;
        private String subject;
        private String tenant;
        private String topic;
        private Long seq;
        private Integer partition;
        private String partitionKey;
        private String causationId;
        private String correlationId;
        private Integer ttl;
        private Instant expiresAt;
        private Integer schemaVersion;
        private String traceparent;
        private String tracestate;
        private final Map<String, Object> extensions = new TreeMap<>();
        private RawJson data;
        private String dataBase64;

        private Builder() {
        }

        private Builder(Event e) {
            specVersion = e.specVersion;
            id = e.id;
            source = e.source;
            type = e.type;
            time = e.time;
            dataContentType = e.dataContentType;
            dataSchema = e.dataSchema;
            subject = e.subject;
            tenant = e.tenant;
            topic = e.topic;
            seq = e.seq;
            partition = e.partition;
            partitionKey = e.partitionKey;
            causationId = e.causationId;
            correlationId = e.correlationId;
            ttl = e.ttl;
            expiresAt = e.expiresAt;
            schemaVersion = e.schemaVersion;
            traceparent = e.traceparent;
            tracestate = e.tracestate;
            extensions.putAll(e.extensions);
            data = e.data;
            dataBase64 = e.dataBase64;
        }

        public Builder specVersion(String specVersion) {
            this.specVersion = specVersion;
            return this;
        }

        public Builder id(String id) {
            this.id = id;
            return this;
        }

        public Builder source(String source) {
            this.source = source;
            return this;
        }

        public Builder type(String type) {
            this.type = type;
            return this;
        }

        public Builder time(Instant time) {
            this.time = time;
            return this;
        }

        public Builder dataContentType(String dataContentType) {
            this.dataContentType = dataContentType;
            return this;
        }

        public Builder dataSchema(String dataSchema) {
            this.dataSchema = dataSchema;
            return this;
        }

        public Builder subject(String subject) {
            this.subject = subject;
            return this;
        }

        public Builder tenant(String tenant) {
            this.tenant = tenant;
            return this;
        }

        public Builder topic(String topic) {
            this.topic = topic;
            return this;
        }

        public Builder seq(Long seq) {
            this.seq = seq;
            return this;
        }

        public Builder partition(Integer partition) {
            this.partition = partition;
            return this;
        }

        public Builder partitionKey(String partitionKey) {
            this.partitionKey = partitionKey;
            return this;
        }

        public Builder causationId(String causationId) {
            this.causationId = causationId;
            return this;
        }

        public Builder correlationId(String correlationId) {
            this.correlationId = correlationId;
            return this;
        }

        public Builder ttl(Integer ttl) {
            this.ttl = ttl;
            return this;
        }

        public Builder expiresAt(Instant expiresAt) {
            this.expiresAt = expiresAt;
            return this;
        }

        public Builder schemaVersion(Integer schemaVersion) {
            this.schemaVersion = schemaVersion;
            return this;
        }

        public Builder traceparent(String traceparent) {
            this.traceparent = traceparent;
            return this;
        }

        public Builder tracestate(String tracestate) {
            this.tracestate = tracestate;
            return this;
        }

        /** Sets one extension attribute; {@code null} removes it. */
        public Builder extension(String name, Object value) {
            if (value == null) {
                extensions.remove(name);
            } else {
                extensions.put(name, value);
            }
            return this;
        }

        /** Replaces every extension attribute. */
        public Builder extensions(Map<String, ?> extensions) {
            this.extensions.clear();
            extensions.forEach(this::extension);
            return this;
        }

        public Builder data(RawJson data) {
            this.data = data;
            return this;
        }

        public Builder dataBase64(String dataBase64) {
            this.dataBase64 = dataBase64;
            return this;
        }

        /** @throws IllegalArgumentException when an extension attribute has a context attribute's name */
        public Event build() {
            return new Event(specVersion, id, source, type, time, dataContentType, dataSchema, subject, tenant, topic,
                    seq, partition, partitionKey, causationId, correlationId, ttl, expiresAt, schemaVersion,
                    traceparent, tracestate, extensions, data, dataBase64);
        }
    }
}
