package dev.switchboard.gateway;

import io.netty.channel.ChannelOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import io.netty.buffer.ByteBuf;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reader that stops reading must slow its upstream, not fill memory: with the SSE client taking
 * nothing, delivery-service stops reading the log a bounded distance ahead of it (socket buffers
 * and a page or two), however much is published after it.
 */
class SseBackpressureIntegrationTests {

    static TestPlatform platform;
    static TestPlatform.Key key;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start(1);
        platform.createTenant("slowpoke");
        key = platform.createKey("slowpoke", "publish", "subscribe");
        platform.declareTopic("slowpoke", "firehose", Map.of());
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void aStalledSseReaderHoldsBackTheLogReadNotTheMemory() {
        // A client that reads the response head, takes one chunk, and then requests nothing more.
        HttpClient stalled = HttpClient.create(ConnectionProvider.newConnection())
                .option(ChannelOption.SO_RCVBUF, 64 * 1024)
                .headers(h -> h.add("Authorization", key.bearer()).add("Accept", MediaType.TEXT_EVENT_STREAM_VALUE));
        AtomicReference<Subscription> held = new AtomicReference<>();
        AtomicLong chunks = new AtomicLong();
        stalled.get().uri(platform.gatewayUrl(0) + "/v1/topics/firehose/stream?after=0")
                .responseContent()
                .subscribe(new BaseSubscriber<ByteBuf>() {
                    @Override
                    protected void hookOnSubscribe(Subscription subscription) {
                        held.set(subscription);
                        subscription.request(1);
                    }

                    @Override
                    protected void hookOnNext(ByteBuf value) {
                        chunks.incrementAndGet();
                    }
                });

        String data = "x".repeat(4000);
        WebClient publisher = WebClient.builder().baseUrl(platform.gatewayUrl(0))
                .defaultHeader("Authorization", key.bearer())
                .codecs(c -> c.defaultCodecs().maxInMemorySize(16 * 1024 * 1024))
                .build();
        int batches = 100;
        int perBatch = 100;
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < perBatch; i++) {
            batch.append(i == 0 ? "" : ",").append("{\"type\":\"bulk\",\"data\":\"").append(data).append("\"}");
        }
        String body = batch.append(']').toString();
        Flux.range(0, batches)
                .concatMap(i -> publisher.post().uri("/v1/topics/firehose/events")
                        .contentType(MediaType.parseMediaType("application/cloudevents-batch+json"))
                        .bodyValue(body).retrieve().toBodilessEntity())
                .blockLast(Duration.ofMinutes(3));
        long published = (long) batches * perBatch;

        // Let the stream run as far as backpressure allows, then look at how far delivery read.
        Mono.delay(Duration.ofSeconds(3)).block();
        double read = rowsRead();
        System.out.printf("stalled SSE reader: delivery read %.0f of %d published rows%n", read, published);
        assertThat(chunks.get()).as("the client took (almost) nothing").isLessThan(5);
        assertThat(read).as("delivery read the log only a bounded distance ahead of the stalled reader (of %d published)", published)
                .isLessThan(published * 0.6);

        // And it resumes where it stopped once the reader asks again.
        held.get().request(Long.MAX_VALUE);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (rowsRead() < published && System.nanoTime() < deadline) {
            Mono.delay(Duration.ofMillis(200)).block();
        }
        assertThat(rowsRead()).isGreaterThanOrEqualTo(published);
        held.get().cancel();
    }

    private static double rowsRead() {
        String metrics = WebClient.create(platform.deliveryUrl()).get().uri("/actuator/prometheus")
                .retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        return metrics.lines()
                .filter(l -> l.startsWith("switchboard_delivery_stream_rows_read_total{") && l.contains("tenant=\"slowpoke\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}
