package dev.switchboard.platform.lifecycle;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class PeriodicWorkTests {

    /** Fails its second run; each run takes {@code runTime}. */
    static final class Counting extends PeriodicWork {
        final AtomicInteger runs = new AtomicInteger();
        final AtomicInteger concurrent = new AtomicInteger();
        final AtomicInteger mostConcurrent = new AtomicInteger();
        final AtomicInteger failures = new AtomicInteger();
        final Duration runTime;

        Counting(Duration interval, Duration runTime) {
            super(Duration.ZERO, interval);
            this.runTime = runTime;
        }

        @Override
        protected Mono<?> runOnce() {
            return Mono.defer(() -> {
                int n = runs.incrementAndGet();
                mostConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                Mono<Object> run = Mono.delay(runTime).then(n == 2 ? Mono.error(new IllegalStateException("boom")) : Mono.empty());
                // doOnTerminate, not doFinally: the next run may start as soon as this one signals its end.
                return run.doOnTerminate(concurrent::decrementAndGet);
            });
        }

        @Override
        protected void failed(Throwable error) {
            failures.incrementAndGet();
        }
    }

    @Test
    void runsEveryIntervalAndAFailedRunDoesNotEndTheOnesAfterIt() {
        Counting work = new Counting(Duration.ofMillis(20), Duration.ZERO);
        work.start();
        assertThat(work.isRunning()).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> work.runs.get() >= 5);
        work.stop();
        assertThat(work.isRunning()).isFalse();
        assertThat(work.failures.get()).isEqualTo(1);
        int afterStop = work.runs.get();
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1)).until(() -> work.runs.get() == afterStop);
    }

    @Test
    void aSlowRunIsNeverOverlappedByTheNextTick() {
        Counting work = new Counting(Duration.ofMillis(5), Duration.ofMillis(60));
        work.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> work.runs.get() >= 4);
        work.stop();
        assertThat(work.mostConcurrent.get()).isEqualTo(1);
    }
}
