package dev.switchboard.delivery.ingest;

import dev.switchboard.contracts.envelope.Event;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The stored envelope of an event, rendered once when the event is accepted, with its {@code seq}
 * left out: the UTF-8 JSON before and after the seq's digits. The seq is known only once the
 * partition row is locked; splicing its digits in then keeps JSON rendering off the commit's
 * critical path (commits of one partition are serialised by that lock).
 */
record EnvelopeTemplate(byte[] head, byte[] tail) {

    private static final byte[] SEQ_FIELD = ",\"seq\":".getBytes(StandardCharsets.US_ASCII);

    /**
     * Renders the event being built (partition set; its seq is set here to a placeholder, so the
     * builder is not reused). {@code "seq"} is written after the string
     * attributes and before any nested value ({@code Event}'s property order), and a {@code "}
     * inside a JSON string is always escaped, so the first {@code ,"seq":0} is the attribute.
     */
    static EnvelopeTemplate render(JsonMapper json, Event.Builder event) {
        byte[] rendered = json.writeValueAsBytes(event.seq(0L).build());
        int at = indexOf(rendered, SEQ_FIELD);
        int digit = at + SEQ_FIELD.length;
        if (at < 0 || digit + 1 >= rendered.length || rendered[digit] != '0'
                || (rendered[digit + 1] != ',' && rendered[digit + 1] != '}')) {
            throw new IllegalStateException("The rendered envelope has no top-level seq attribute.");
        }
        byte[] head = Arrays.copyOfRange(rendered, 0, digit);
        byte[] tail = Arrays.copyOfRange(rendered, digit + 1, rendered.length);
        return new EnvelopeTemplate(head, tail);
    }

    /** Bytes of the envelope with {@code seq}. */
    int length(long seq) {
        return head.length + digits(seq) + tail.length;
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

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
