package dev.switchboard.delivery.ingest;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The partition of an event: MurmurHash3 (x86, 32-bit, seed 0) of the UTF-8 {@code partitionkey},
 * modulo the topic's partitions; 0 without a key. Stable across instances, restarts and languages
 * (any murmur3 implementation gives the same answer), so producers can predict it.
 */
final class PartitionChooser {

    private PartitionChooser() {
    }

    static int partition(String partitionKey, int partitions) {
        if (partitionKey == null || partitions <= 1) {
            return 0;
        }
        return Math.floorMod(murmur3(partitionKey.getBytes(StandardCharsets.UTF_8)), partitions);
    }

    static int murmur3(byte[] data) {
        final int c1 = 0xcc9e2d51;
        final int c2 = 0x1b873593;
        int h = 0;
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int blocks = data.length / 4;
        for (int i = 0; i < blocks; i++) {
            int k = buffer.getInt(i * 4);
            k *= c1;
            k = Integer.rotateLeft(k, 15);
            k *= c2;
            h ^= k;
            h = Integer.rotateLeft(h, 13);
            h = h * 5 + 0xe6546b64;
        }
        int k = 0;
        int tail = blocks * 4;
        switch (data.length & 3) {
            case 3:
                k ^= (data[tail + 2] & 0xff) << 16;
                // fall through
            case 2:
                k ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                k ^= data[tail] & 0xff;
                k *= c1;
                k = Integer.rotateLeft(k, 15);
                k *= c2;
                h ^= k;
                break;
            default:
                break;
        }
        h ^= data.length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }
}
