package dev.switchboard.delivery.ingest;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class PartitionChooserTests {

    @Test
    void matchesPublishedMurmur3Vectors() {
        assertThat(PartitionChooser.murmur3(new byte[0])).isEqualTo(0);
        assertThat(PartitionChooser.murmur3("hello".getBytes(StandardCharsets.UTF_8))).isEqualTo(0x248bfa47);
        assertThat(PartitionChooser.murmur3("Hello, world!".getBytes(StandardCharsets.UTF_8))).isEqualTo(0xc0363e43);
        assertThat(PartitionChooser.murmur3("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(0x2e4ff723);
    }

    @Test
    void noKeyOrOnePartitionIsPartitionZero() {
        assertThat(PartitionChooser.partition(null, 8)).isZero();
        assertThat(PartitionChooser.partition("user-1", 1)).isZero();
    }

    @Test
    void sameKeySamePartitionAndKeysSpread() {
        int[] counts = new int[8];
        for (int i = 0; i < 8000; i++) {
            int p = PartitionChooser.partition("user-" + i, 8);
            assertThat(p).isBetween(0, 7).isEqualTo(PartitionChooser.partition("user-" + i, 8));
            counts[p]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(800, 1200);
        }
    }
}
