package dev.switchboard.gateway.rest;

import dev.switchboard.contracts.errors.ErrorCode;
import dev.switchboard.contracts.stream.StreamLine;
import dev.switchboard.gateway.config.GatewayProperties;
import dev.switchboard.leaks.Leak;
import dev.switchboard.leaks.LeakDetectionLevel;
import dev.switchboard.leaks.LeakRecorder;
import dev.switchboard.platform.problem.SwitchboardException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.test.StepVerifier;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's read of delivery's live stream against a stub that sends NDJSON lines split across
 * chunks, as delivery's do when a line straddles a flush. Every buffer is tracked for leaks.
 */
@LeakDetectionLevel(ResourceLeakDetector.Level.PARANOID)
class DeliveryStreamIntegrationTests {

    /** Every line arrives in two chunks: the stream always has half a line buffered. */
    private static final List<String> HALVES = List.of("{\"heartbeat\"", ":true}\n", "{\"partition\":0,\"seq\":", "7,\"event\":{\"id\":\"é\"}}\n");

    private DisposableServer delivery;
    private DeliveryClient client;

    @BeforeEach
    void start() {
        delivery = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes
                        // A connection that goes silent after its first line: half-open, or stalled on the way.
                        .get("/internal/v1/tenants/quiet/topics/{topic}/stream", (request, response) ->
                                response.header("Content-Type", "application/x-ndjson")
                                        .sendString(Flux.concat(Flux.just("{\"heartbeat\":true}\n"), Flux.never())))
                        .get("/internal/v1/tenants/{tenant}/topics/{topic}/stream", (request, response) ->
                                response.header("Content-Type", "application/x-ndjson")
                                        .sendString(Flux.interval(Duration.ZERO, Duration.ofMillis(1))
                                                .onBackpressureDrop()
                                                .map(i -> HALVES.get((int) (i % HALVES.size()))))))
                .bindNow();
        GatewayProperties properties = new GatewayProperties("http://127.0.0.1:" + delivery.port(), "token", null, null, null, null, false, null,
                Duration.ofMillis(500));
        client = new DeliveryClient(WebClient.builder(), properties, JsonMapper.builder().build(),
                new StaticListableBeanFactory().getBeanProvider(ReactorResourceFactory.class), new SimpleMeterRegistry());
    }

    @AfterEach
    void stop() {
        delivery.disposeNow();
    }

    @Test
    void linesSplitAcrossChunksArriveWhole() {
        StepVerifier.create(client.stream("acme", "chat.a", null).take(4))
                .expectNext(StreamLine.Heartbeat.INSTANCE)
                .assertNext(line -> assertThat(line).isEqualTo(new StreamLine.EventLine(0, 7, "{\"id\":\"é\"}")))
                .expectNext(StreamLine.Heartbeat.INSTANCE)
                .expectNextCount(1)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    /** A stream that says nothing for longer than upstream-silence fails as unavailable, so the upstream opens it again. */
    @Test
    void aSilentStreamFailsAsUnavailable() {
        StepVerifier.create(client.stream("quiet", "chat.a", null))
                .expectNext(StreamLine.Heartbeat.INSTANCE)
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(SwitchboardException.class,
                        problem -> assertThat(problem.code()).isEqualTo(ErrorCode.UNAVAILABLE)))
                .verify(Duration.ofSeconds(10));
    }

    /**
     * An upstream closes when its last subscriber leaves: the stream is cancelled from another thread
     * while its connection's event loop is reading lines. No buffer may be stranded by that.
     */
    @Test
    void cancellingFromAnotherThreadWhileLinesArriveLeaksNoBuffer() throws InterruptedException {
        LeakRecorder.collect();
        AtomicInteger lines = new AtomicInteger();
        for (int i = 0; i < 200; i++) {
            CountDownLatch some = new CountDownLatch(3);
            Disposable stream = client.stream("acme", "chat.a", null).subscribe(line -> {
                lines.incrementAndGet();
                some.countDown();
            });
            assertThat(some.await(10, TimeUnit.SECONDS)).as("lines arrive").isTrue();
            stream.dispose();
        }
        assertThat(lines).hasPositiveValue();
        List<Leak> leaks = LeakRecorder.collect();
        assertThat(leaks).as("leaks: %s", leaks).isEmpty();
    }
}
