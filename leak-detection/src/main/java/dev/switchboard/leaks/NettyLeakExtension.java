package dev.switchboard.leaks;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Fails a test class during which Netty reported a leak: after the class (its {@code @AfterAll}
 * has closed what it started), garbage is collected and every leak reported since the class began
 * fails it, with the leak records. Leaks reported before the class began (the previous class's,
 * noticed late) fail it too, named as such: a leak is never dropped.
 *
 * <p>{@link LeakDetectionLevel} on a class sets Netty's detection level while it runs. With
 * {@code -Dswitchboard.leaks.eachTest=true} leaks are also collected after each test, to find
 * the one that leaks.
 *
 * <p>Registered through {@code META-INF/services} and JUnit's extension auto-detection
 * ({@code junit.jupiter.extensions.autodetection.enabled=true}, set by the root POM).
 */
public final class NettyLeakExtension implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    /** To find which test of a failing class leaks: collect after each test too, and name it. Costs a GC a test. */
    static final String EACH_TEST = "switchboard.leaks.eachTest";

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NettyLeakExtension.class);
    private static final String EARLIER = "earlier";
    private static final String LEVEL = "level";

    @Override
    public void beforeAll(ExtensionContext context) {
        LeakRecorder.install();
        if (context.getParent().flatMap(ExtensionContext::getParent).isEmpty()) {
            // A top-level class: what was reported since the last collection is not this class's doing.
            context.getStore(NAMESPACE).put(EARLIER, LeakRecorder.collectReported());
        }
        context.getTestClass().map(c -> c.getAnnotation(LeakDetectionLevel.class)).ifPresent(level -> {
            context.getStore(NAMESPACE).put(LEVEL, ResourceLeakDetector.getLevel());
            ResourceLeakDetector.setLevel(level.value());
        });
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (Boolean.getBoolean(EACH_TEST)) {
            List<Leak> leaks = LeakRecorder.collect();
            if (!leaks.isEmpty()) {
                throw new AssertionError("Netty reported " + leaks.size() + " leak(s) during or before "
                        + context.getDisplayName() + ":\n" + leaks.stream().map(Leak::toString).collect(Collectors.joining("\n")));
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        @SuppressWarnings("unchecked")
        List<Leak> earlier = context.getStore(NAMESPACE).getOrDefault(EARLIER, List.class, List.of());
        List<Leak> leaks = LeakRecorder.collect();
        ResourceLeakDetector.Level level = context.getStore(NAMESPACE).remove(LEVEL, ResourceLeakDetector.Level.class);
        if (level != null) {
            ResourceLeakDetector.setLevel(level);
        }
        if (earlier.isEmpty() && leaks.isEmpty()) {
            return;
        }
        StringBuilder message = new StringBuilder();
        if (!leaks.isEmpty()) {
            message.append("Netty reported ").append(leaks.size()).append(" leak(s) during ")
                    .append(context.getDisplayName()).append(":\n")
                    .append(leaks.stream().map(Leak::toString).collect(Collectors.joining("\n")));
        }
        if (!earlier.isEmpty()) {
            message.append(message.isEmpty() ? "" : "\n").append("Netty reported ").append(earlier.size())
                    .append(" leak(s) before ").append(context.getDisplayName()).append(" began:\n")
                    .append(earlier.stream().map(Leak::toString).collect(Collectors.joining("\n")));
        }
        throw new AssertionError(message.toString());
    }
}
