package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.envelope.Event;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * The stored envelope of an event, rendered once when the event is accepted, with its {@code seq}
 * left out: the UTF-8 JSON before and after the seq's digits. The seq is known only once the
 * partition row is locked (or predicted, {@link SeqLanes}); splicing its digits in then keeps JSON
 * rendering off the commit's path.
 *
 * <p>Written attribute by attribute on a streaming generator, in {@link Event}'s property order and
 * with its formats — the same bytes {@code Event}'s databind serialization gives (a test holds the
 * two equal), at a fraction of its cost per event, and the seq's place is known from the output's
 * length at that point instead of searched for.
 */
record EnvelopeTemplate(byte[] head, byte[] tail) {

    /** The envelope of {@code event} (partition set, seq not): what the log stores, seq spliced in later. */
    static EnvelopeTemplate render(JsonMapper json, Event event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + (event.data() == null ? 0 : event.data().json().length()));
        int seqAt;
        try (JsonGenerator g = json.createGenerator(out)) {
            g.writeStartObject();
            string(g, "specversion", event.specVersion());
            string(g, "id", event.id());
            string(g, "source", event.source());
            string(g, "type", event.type());
            string(g, "time", event.time() == null ? null : event.time().toString());
            string(g, "datacontenttype", event.dataContentType());
            string(g, "dataschema", event.dataSchema());
            string(g, "subject", event.subject());
            string(g, "tenant", event.tenant());
            string(g, "topic", event.topic());
            if (event.partition() != null) {
                g.writeName("partition");
                g.writeNumber(event.partition());
            }
            g.writeName("seq");
            g.flush();
            seqAt = out.size();
            g.writeNumber(0);
            string(g, "partitionkey", event.partitionKey());
            string(g, "causationid", event.causationId());
            string(g, "correlationid", event.correlationId());
            if (event.ttl() != null) {
                g.writeName("ttl");
                g.writeNumber(event.ttl());
            }
            string(g, "expiresat", event.expiresAt() == null ? null : event.expiresAt().toString());
            if (event.schemaVersion() != null) {
                g.writeName("schemaversion");
                g.writeNumber(event.schemaVersion());
            }
            string(g, "traceparent", event.traceparent());
            string(g, "tracestate", event.tracestate());
            if (event.data() != null) {
                g.writeName("data");
                g.writeRawValue(event.data().json());
            }
            string(g, "data_base64", event.dataBase64());
            for (Map.Entry<String, Object> extension : event.extensions().entrySet()) {
                g.writeName(extension.getKey());
                g.writePOJO(extension.getValue());
            }
            g.writeEndObject();
        }
        byte[] rendered = out.toByteArray();
        // The generator writes the name's ':' together with the value.
        if (rendered[seqAt] == ':') {
            seqAt++;
        }
        if (rendered[seqAt] != '0') {
            throw new IllegalStateException("The rendered envelope has no seq placeholder where expected.");
        }
        return new EnvelopeTemplate(Arrays.copyOfRange(rendered, 0, seqAt), Arrays.copyOfRange(rendered, seqAt + 1, rendered.length));
    }

    private static void string(JsonGenerator g, String name, String value) {
        if (value != null) {
            g.writeName(name);
            g.writeString(value);
        }
    }

    /** Bytes of the envelope with {@code seq}. */
    int length(long seq) {
        return head.length + digits(seq) + tail.length;
    }

    /** The envelope with {@code seq}, as the log stores it. */
    String text(long seq) {
        byte[] out = new byte[length(seq)];
        write(out, 0, seq);
        return new String(out, StandardCharsets.UTF_8);
    }

    /** The envelope with {@code seq} written into {@code out} at {@code offset}; returns the offset after it. */
    int write(byte[] out, int offset, long seq) {
        System.arraycopy(head, 0, out, offset, head.length);
        offset += head.length;
        int n = digits(seq);
        long v = seq;
        for (int i = offset + n - 1; i >= offset; i--) {
            out[i] = (byte) ('0' + (v % 10));
            v /= 10;
        }
        offset += n;
        System.arraycopy(tail, 0, out, offset, tail.length);
        return offset + tail.length;
    }

    private static int digits(long seq) {
        if (seq < 0) {
            throw new IllegalArgumentException("seq must not be negative");
        }
        int n = 1;
        while (seq >= 10) {
            seq /= 10;
            n++;
        }
        return n;
    }
}
