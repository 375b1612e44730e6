package dev.switchboard.gateway.rest;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Re-cuts a relayed Server-Sent Events body so that every chunk passed on ends where an event ends
 * (a blank line). A relay forwards whatever each read of the upstream connection held, and a read
 * may stop inside an event: a client that stops reading at an event it was waiting for — as simple
 * SSE readers (the Durable Streams conformance suite's among them) do — would then be left holding
 * half of the next event's data line. Chunks that already end at an event boundary, the usual case,
 * pass through untouched; a cut one is held until the rest of its event arrives. One aligner per body.
 */
public final class SseEventAligner {

    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    /** The last three bytes held (right-aligned). */
    private final byte[] tail = new byte[3];

    /** The complete events {@code chunk} finishes (with what was held before it), or null while an event is still open. */
    public byte[] feed(byte[] chunk) {
        if (pending.size() == 0 && endsAnEvent(chunk, chunk.length)) {
            return chunk;
        }
        // What is held has no blank line in it, so one can only end inside this chunk: look there (with the
        // held bytes just before it, where one may begin), not through everything held again.
        int before = pending.size();
        int overlap = Math.min(3, before);
        byte[] window = new byte[overlap + chunk.length];
        System.arraycopy(tail, 3 - overlap, window, 0, overlap);
        System.arraycopy(chunk, 0, window, overlap, chunk.length);
        pending.write(chunk, 0, chunk.length);
        remember(window);
        int inWindow = lastEventEnd(window);
        if (inWindow < 0) {
            return null;
        }
        int end = before - overlap + inWindow;
        byte[] held = pending.toByteArray();
        pending.reset();
        pending.write(held, end, held.length - end);
        return end == held.length ? held : Arrays.copyOf(held, end);
    }

    /** Keeps the last three bytes written, where a blank line that the next chunk finishes may begin. */
    private void remember(byte[] written) {
        int n = Math.min(3, written.length);
        System.arraycopy(tail, n, tail, 0, 3 - n);
        System.arraycopy(written, written.length - n, tail, 3 - n, n);
    }

    /** What is still held when the body ends (an event the upstream never finished), or null. */
    public byte[] rest() {
        return pending.size() == 0 ? null : pending.toByteArray();
    }

    /** {@code body} (a {@code text/event-stream} answer) re-cut at event boundaries. */
    public static Flux<DataBuffer> align(Flux<DataBuffer> body) {
        return Flux.defer(() -> {
            SseEventAligner aligner = new SseEventAligner();
            DataBufferFactory[] factory = new DataBufferFactory[1];
            return body.concatMap(buffer -> {
                        factory[0] = buffer.factory();
                        if (aligner.pending.size() == 0 && endsAnEvent(buffer)) {
                            return Mono.just(buffer);
                        }
                        byte[] bytes = new byte[buffer.readableByteCount()];
                        buffer.read(bytes);
                        DataBufferUtils.release(buffer);
                        byte[] events = aligner.feed(bytes);
                        return events == null ? Mono.<DataBuffer>empty() : Mono.just(factory[0].wrap(events));
                    })
                    .concatWith(Mono.defer(() -> {
                        byte[] rest = aligner.rest();
                        return rest == null ? Mono.empty() : Mono.just(factory[0].wrap(rest));
                    }));
        });
    }

    private static boolean endsAnEvent(DataBuffer buffer) {
        int end = buffer.writePosition();
        int n = buffer.readableByteCount();
        if (n >= 2 && buffer.getByte(end - 1) == '\n' && buffer.getByte(end - 2) == '\n') {
            return true;
        }
        return n >= 4 && buffer.getByte(end - 1) == '\n' && buffer.getByte(end - 2) == '\r'
                && buffer.getByte(end - 3) == '\n' && buffer.getByte(end - 4) == '\r';
    }

    private static boolean endsAnEvent(byte[] bytes, int end) {
        return (end >= 2 && bytes[end - 1] == '\n' && bytes[end - 2] == '\n')
                || (end >= 4 && bytes[end - 1] == '\n' && bytes[end - 2] == '\r' && bytes[end - 3] == '\n' && bytes[end - 4] == '\r');
    }

    /** The index just after the last blank line ({@code \n\n} or {@code \r\n\r\n}) in {@code bytes}, or -1. */
    private static int lastEventEnd(byte[] bytes) {
        for (int end = bytes.length; end >= 2; end--) {
            if (endsAnEvent(bytes, end)) {
                return end;
            }
        }
        return -1;
    }
}
