package dev.switchboard.gateway.rest;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Splits an NDJSON body into its lines, copying each network buffer's bytes out and releasing the
 * buffer within the same signal: no buffer outlives the signal that brought it, so cancelling the
 * stream — from any thread, at any moment — strands none.
 *
 * <p>Spring's {@code StringDecoder} instead keeps the buffer holding a partial line in a list that a
 * cancel releases on the cancelling thread; an upstream closed (from the linger timer) while its
 * connection's event loop was adding the next partial line to that list leaked the buffer.
 */
final class NdjsonLines {

    private final int maxLineBytes;
    /** The start of a line whose end has not arrived yet. */
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    private NdjsonLines(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    /** The lines of {@code body}, the last one without its newline included; a line over the limit fails the stream. */
    static Flux<String> of(Flux<DataBuffer> body, int maxLineBytes) {
        return Flux.defer(() -> {
            NdjsonLines lines = new NdjsonLines(maxLineBytes);
            return body.map(buffer -> {
                        try {
                            return lines.split(buffer);
                        } finally {
                            DataBufferUtils.release(buffer);
                        }
                    })
                    .concatMapIterable(Function.identity())
                    .concatWith(Mono.fromCallable(lines::rest));
        });
    }

    /** The complete lines that {@code buffer} ends; the start of the next one is kept (copied). */
    List<String> split(DataBuffer buffer) {
        List<String> lines = List.of();
        while (buffer.readableByteCount() > 0) {
            int start = buffer.readPosition();
            int newline = buffer.indexOf(b -> b == '\n', start);
            int length = (newline < 0 ? buffer.writePosition() : newline) - start;
            if (partial.size() + length > maxLineBytes) {
                throw new DataBufferLimitException("A stream line is longer than " + maxLineBytes + " bytes.");
            }
            String line = null;
            if (newline >= 0 && partial.size() == 0) {
                line = buffer.toString(start, length, StandardCharsets.UTF_8);
            } else {
                byte[] bytes = new byte[length];
                buffer.read(bytes);
                partial.writeBytes(bytes);
                if (newline >= 0) {
                    line = rest();
                }
            }
            if (newline < 0) {
                break;
            }
            buffer.readPosition(newline + 1);
            if (lines.isEmpty()) {
                lines = new ArrayList<>(2);
            }
            lines.add(line);
        }
        return lines;
    }

    /** What is left of a partial line (null when nothing), forgetting it. */
    String rest() {
        if (partial.size() == 0) {
            return null;
        }
        String line = partial.toString(StandardCharsets.UTF_8);
        partial.reset();
        return line;
    }
}
