package dev.switchboard.delivery.ingest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * The data of one {@code COPY ... FROM STDIN (FORMAT binary)}: PostgreSQL's binary copy format
 * (signature, rows of length-prefixed fields, trailer), written straight into one array. Values go
 * in their binary wire form, so neither side formats or parses text (an {@code unnest} of text
 * arrays cost a third of the platform's CPU, mostly in the driver's array encoder).
 */
final class BinaryCopy {

    private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};
    /** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in microseconds of the Unix epoch. */
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    private byte[] buffer;
    private int position;

    BinaryCopy(int expectedBytes) {
        buffer = new byte[Math.max(64, expectedBytes)];
        put(SIGNATURE);
        int32(0); // flags: no OIDs
        int32(0); // header extension length
    }

    BinaryCopy row(int fields) {
        ensure(2);
        buffer[position++] = (byte) (fields >>> 8);
        buffer[position++] = (byte) fields;
        return this;
    }

    BinaryCopy text(String value) {
        if (value == null) {
            return nul();
        }
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        int32(utf8.length);
        put(utf8);
        return this;
    }

    BinaryCopy int4(int value) {
        int32(4);
        int32(value);
        return this;
    }

    BinaryCopy int8(long value) {
        int32(8);
        int64(value);
        return this;
    }

    BinaryCopy timestamptz(Instant value) {
        if (value == null) {
            return nul();
        }
        int32(8);
        int64(Math.addExact(Math.multiplyExact(value.getEpochSecond(), 1_000_000L), value.getNano() / 1000) - POSTGRES_EPOCH_MICROS);
        return this;
    }

    /** A text field holding the envelope with its seq. */
    BinaryCopy envelope(EnvelopeTemplate envelope, long seq) {
        int length = envelope.length(seq);
        int32(length);
        ensure(length);
        position = envelope.write(buffer, position, seq);
        return this;
    }

    /** The data, trailer included; this instance is not used afterwards. */
    ByteBuf finish() {
        ensure(2);
        buffer[position++] = (byte) 0xff;
        buffer[position++] = (byte) 0xff;
        return Unpooled.wrappedBuffer(buffer, 0, position);
    }

    private BinaryCopy nul() {
        int32(-1);
        return this;
    }

    private void put(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buffer, position, bytes.length);
        position += bytes.length;
    }

    private void int32(int v) {
        ensure(4);
        buffer[position++] = (byte) (v >>> 24);
        buffer[position++] = (byte) (v >>> 16);
        buffer[position++] = (byte) (v >>> 8);
        buffer[position++] = (byte) v;
    }

    private void int64(long v) {
        int32((int) (v >>> 32));
        int32((int) v);
    }

    private void ensure(int bytes) {
        if (position + bytes > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, position + bytes));
        }
    }
}
