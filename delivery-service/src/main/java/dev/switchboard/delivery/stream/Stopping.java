package dev.switchboard.delivery.stream;

import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Signals that this instance is stopping, before the web server's graceful shutdown begins (a
 * higher phase stops first): live streams end and long polls stop waiting, so the shutdown waits
 * only for requests that finish by themselves instead of its whole timeout for streams that never
 * do. A reader resumes elsewhere (or here, after the restart) from the last position it got.
 */
@Component
public class Stopping implements SmartLifecycle {

    private final Sinks.Empty<Void> stopping = Sinks.empty();
    private volatile boolean running;

    /** Completes when the instance starts to stop. */
    public Mono<Void> signal() {
        return stopping.asMono();
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        stopping.tryEmitEmpty();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        // Before WebServerGracefulShutdownLifecycle (DEFAULT_PHASE - 1024) and the web server itself.
        return SmartLifecycle.DEFAULT_PHASE;
    }
}
