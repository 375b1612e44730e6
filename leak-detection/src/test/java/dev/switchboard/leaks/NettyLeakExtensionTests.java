package dev.switchboard.leaks;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.container;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

/** The auto-detected extension fails a test class that leaks a buffer, and only such a class. */
class NettyLeakExtensionTests {

    /** Only the test kit runs the examples, not the build. */
    private static volatile boolean examples;
    private ResourceLeakDetector.Level level;

    @BeforeEach
    void paranoid() {
        level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        examples = true;
    }

    @AfterEach
    void restore() {
        examples = false;
        ResourceLeakDetector.setLevel(level);
    }

    static class LeakingExample {
        @Test
        void leaks() {
            Assumptions.assumeTrue(examples);
            LeakRecorderTests.leak();
        }
    }

    @LeakDetectionLevel(ResourceLeakDetector.Level.PARANOID)
    static class ParanoidLeakingExample {
        @Test
        void leaks() {
            Assumptions.assumeTrue(examples);
            LeakRecorderTests.leak();
        }
    }

    static class CleanExample {
        @Test
        void releases() {
            Assumptions.assumeTrue(examples);
            io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(8).release();
        }
    }

    private static Events containers(Class<?> example) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .selectors(selectClass(example))
                .execute()
                .containerEvents();
    }

    @Test
    void aClassThatLeaksABufferFails() {
        containers(LeakingExample.class).assertThatEvents().haveExactly(1, event(container(LeakingExample.class),
                finishedWithFailure(instanceOf(AssertionError.class),
                        message(m -> m.startsWith("Netty reported 1 leak(s) during NettyLeakExtensionTests$LeakingExample:")
                                && m.contains(LeakRecorderTests.class.getName() + ".leak(")))));
    }

    @Test
    void aClassCanRaiseTheLevelForItself() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        containers(ParanoidLeakingExample.class).assertThatEvents().haveExactly(1, event(container(ParanoidLeakingExample.class),
                finishedWithFailure(instanceOf(AssertionError.class),
                        message(m -> m.startsWith("Netty reported 1 leak(s) during NettyLeakExtensionTests$ParanoidLeakingExample:")))));
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
    }

    @Test
    void aClassThatReleasesWhatItAllocatesPasses() {
        containers(CleanExample.class).assertThatEvents().haveExactly(1, event(container(CleanExample.class), finishedSuccessfully()));
        assertThat(LeakRecorder.collect()).isEmpty();
    }
}
