package dev.switchboard.leaks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LeakRecorderTests {

    private ResourceLeakDetector.Level level;

    @BeforeEach
    void paranoid() {
        level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        LeakRecorder.collect();
    }

    @AfterEach
    void restore() {
        ResourceLeakDetector.setLevel(level);
    }

    /** Allocates, writes and drops a buffer without releasing it. */
    static void leak() {
        ByteBuf buffer = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buffer.writeLong(42);
    }

    @Test
    void aLeakedBufferIsReportedWithWhereItWasCreated() {
        leak();
        List<Leak> leaks = LeakRecorder.collect();
        assertThat(leaks).hasSize(1);
        assertThat(leaks.get(0).resourceType()).isEqualTo("ByteBuf");
        assertThat(leaks.get(0).records()).contains("Created at:").contains(LeakRecorderTests.class.getName() + ".leak(");
        assertThat(LeakRecorder.collect()).as("reported once").isEmpty();
    }

    @Test
    void releasedBuffersAreNoLeak() {
        for (int i = 0; i < 100; i++) {
            ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeLong(i);
            ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.heapBuffer(64).writeLong(i);
            pooled.release();
            unpooled.release();
        }
        assertThat(LeakRecorder.collect()).isEmpty();
    }
}
