package dev.switchboard.gateway.rest;

import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

class NdjsonLinesTests {

    private static final DefaultDataBufferFactory BUFFERS = DefaultDataBufferFactory.sharedInstance;

    private static Flux<DataBuffer> chunks(byte[] bytes, int size) {
        List<DataBuffer> chunks = new ArrayList<>();
        for (int from = 0; from < bytes.length; from += size) {
            chunks.add(BUFFERS.wrap(java.util.Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + size))));
        }
        return Flux.fromIterable(chunks);
    }

    @Test
    void linesComeWholeHoweverTheBytesAreChunked() {
        byte[] body = "{\"a\":\"é€\"}\n\n{\"b\":2}\n{\"c\":3}".getBytes(StandardCharsets.UTF_8);
        for (int size = 1; size <= body.length; size++) {
            StepVerifier.create(NdjsonLines.of(chunks(body, size), 1024))
                    .expectNext("{\"a\":\"é€\"}", "", "{\"b\":2}", "{\"c\":3}")
                    .expectComplete()
                    .verify(Duration.ofSeconds(5));
        }
    }

    @Test
    void aLineOverTheLimitFailsTheStream() {
        byte[] body = ("{\"ok\":1}\n" + "x".repeat(100) + "\n").getBytes(StandardCharsets.UTF_8);
        StepVerifier.create(NdjsonLines.of(chunks(body, 7), 64))
                .expectNext("{\"ok\":1}")
                .expectError(DataBufferLimitException.class)
                .verify(Duration.ofSeconds(5));
    }
}
