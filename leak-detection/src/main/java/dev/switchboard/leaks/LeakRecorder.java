package dev.switchboard.leaks;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's leak detectors, made to keep what they report: installed as the JVM's
 * {@link ResourceLeakDetectorFactory} before Netty creates its first detector (the buffers' detector
 * is a static of {@code AbstractByteBuf}), every detector is one of ours, which still logs each
 * leak as Netty does and also queues it for {@link #collect()}.
 *
 * <p>Netty only notices a leak once the leaked object was garbage-collected and a later allocation
 * polls the detector; {@link #collect()} forces both.
 */
public final class LeakRecorder extends ResourceLeakDetectorFactory {

    private static final LeakRecorder INSTANCE = new LeakRecorder();
    private static final int GC_ROUNDS = 3;
    private static final long GC_PAUSE_MILLIS = 40;
    private static volatile boolean installed;

    private final List<RecordingDetector<?>> detectors = new CopyOnWriteArrayList<>();
    private final Queue<Leak> leaks = new ConcurrentLinkedQueue<>();

    private LeakRecorder() {
    }

    /** Idempotent; must run before Netty allocates its first buffer to see every leak. */
    public static synchronized void install() {
        if (!installed) {
            ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(INSTANCE);
            installed = true;
        }
    }

    /** Whether any Netty detector exists yet: if not, nothing of Netty ran and there is nothing to collect. */
    public static boolean active() {
        return !INSTANCE.detectors.isEmpty();
    }

    /**
     * Collects garbage, makes every detector look at what was collected, and returns (and forgets)
     * every leak reported since the last call, those reported on their own meanwhile included.
     */
    public static List<Leak> collect() {
        if (active()) {
            for (int round = 0; round < GC_ROUNDS; round++) {
                System.gc();
                try {
                    Thread.sleep(GC_PAUSE_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                INSTANCE.detectors.forEach(RecordingDetector::poll);
            }
        }
        return collectReported();
    }

    /** Returns (and forgets) the leaks reported so far, without looking for more. */
    public static List<Leak> collectReported() {
        List<Leak> found = new ArrayList<>();
        for (Leak leak; (leak = INSTANCE.leaks.poll()) != null; ) {
            found.add(leak);
        }
        return found;
    }

    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
        RecordingDetector<T> detector = new RecordingDetector<>(resource, samplingInterval, leaks);
        detectors.add(detector);
        return detector;
    }

    /** Logs like Netty's own, and queues. */
    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {

        private final Queue<Leak> leaks;

        RecordingDetector(Class<T> resource, int samplingInterval, Queue<Leak> leaks) {
            super(resource, samplingInterval);
            this.leaks = leaks;
        }

        @Override
        protected boolean needReport() {
            // Netty skips the report when its logger is off; the test must still hear of the leak.
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            super.reportTracedLeak(resourceType, records);
            leaks.add(new Leak(resourceType, records));
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            super.reportUntracedLeak(resourceType);
            leaks.add(new Leak(resourceType, ""));
        }

        /** Netty reports collected leaks when it tracks a new object: track (and close) a probe. */
        @SuppressWarnings({"unchecked", "rawtypes"})
        void poll() {
            Object probe = new Object();
            ResourceLeakTracker tracker = ((ResourceLeakDetector) this).trackForcibly(probe);
            tracker.close(probe);
        }
    }
}
