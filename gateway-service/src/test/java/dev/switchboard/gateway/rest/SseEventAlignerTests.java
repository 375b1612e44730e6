package dev.switchboard.gateway.rest;

import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import reactor.core.publisher.Flux;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SseEventAlignerTests {

    private static final DefaultDataBufferFactory BUFFERS = DefaultDataBufferFactory.sharedInstance;
    private static final String BODY = "event: data\ndata: [\"é\"]\n\nevent: control\ndata: {\"streamNextOffset\":\"1_2\"}\n\n"
            + ": keep-alive\n\nevent: data\r\ndata: x\r\n\r\n";

    private static List<String> aligned(byte[] body, int size) {
        List<DataBuffer> chunks = new ArrayList<>();
        for (int from = 0; from < body.length; from += size) {
            chunks.add(BUFFERS.wrap(Arrays.copyOfRange(body, from, Math.min(body.length, from + size))));
        }
        return SseEventAligner.align(Flux.fromIterable(chunks)).map(buffer -> {
            String text = buffer.toString(StandardCharsets.UTF_8);
            DataBufferUtils.release(buffer);
            return text;
        }).collectList().block(Duration.ofSeconds(5));
    }

    @Test
    void everyChunkEndsWhereAnEventEndsHoweverTheBytesWereCut() {
        byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
        for (int size = 1; size <= body.length; size++) {
            List<String> chunks = aligned(body, size);
            assertThat(String.join("", chunks)).as("size %d", size).isEqualTo(BODY);
            assertThat(chunks).as("size %d", size).allSatisfy(chunk -> assertThat(chunk).matches("(?s).*(\n\n|\r\n\r\n)"));
        }
        // Cut at events already: passed on as they came.
        assertThat(aligned(body, body.length)).containsExactly(BODY);
    }

    @Test
    void anEventTheUpstreamNeverFinishedIsPassedOnAtTheEnd() {
        byte[] body = "event: data\ndata: 1\n\nevent: data\ndata: 2".getBytes(StandardCharsets.UTF_8);
        List<String> chunks = aligned(body, 7);
        assertThat(chunks).last().isEqualTo("event: data\ndata: 2");
        assertThat(String.join("", chunks)).isEqualTo(new String(body, StandardCharsets.UTF_8));
    }

    @Test
    void theByteArrayFormHoldsACutEventUntilItEnds() {
        SseEventAligner aligner = new SseEventAligner();
        assertThat(aligner.feed("event: control\nda".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(new String(aligner.feed("ta: {}\n\nevent: d".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8))
                .isEqualTo("event: control\ndata: {}\n\n");
        assertThat(new String(aligner.rest(), StandardCharsets.UTF_8)).isEqualTo("event: d");
    }
}
