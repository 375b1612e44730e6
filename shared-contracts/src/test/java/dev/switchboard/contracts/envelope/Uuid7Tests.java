package dev.switchboard.contracts.envelope;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class Uuid7Tests {

    @Test
    void versionVariantAndTime() {
        Instant before = Instant.now().minusMillis(1);
        for (int i = 0; i < 1000; i++) {
            UUID id = Uuid7.next();
            assertThat(id.version()).isEqualTo(7);
            assertThat(id.variant()).isEqualTo(2);
            assertThat(id.toString()).matches("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
            assertThat(Uuid7.timeOf(id)).isBetween(before, Instant.now().plusMillis(1));
        }
    }

    @Test
    void idsStrictlyIncreaseAsUuidsAndAsStrings() {
        UUID previous = Uuid7.next();
        for (int i = 0; i < 20_000; i++) {
            UUID next = Uuid7.next();
            assertThat(next).isGreaterThan(previous);
            assertThat(next.toString()).isGreaterThan(previous.toString());
            previous = next;
        }
    }

    @Test
    void withinOneMillisecondAndWhenTheClockStepsBackTheyStillIncrease() {
        AtomicLong clock = new AtomicLong(1_000);
        Uuid7 generator = new Uuid7(clock::get, new Random(42));
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            ids.add(generator.generate());
        }
        clock.set(900);
        ids.add(generator.generate());
        clock.set(1_001);
        ids.add(generator.generate());
        for (int i = 1; i < ids.size(); i++) {
            assertThat(ids.get(i)).isGreaterThan(ids.get(i - 1));
        }
        assertThat(Uuid7.timeOf(ids.get(0))).isEqualTo(Instant.ofEpochMilli(1_000));
        assertThat(Uuid7.timeOf(ids.get(1000))).isEqualTo(Instant.ofEpochMilli(1_000));
        assertThat(Uuid7.timeOf(ids.get(1001))).isEqualTo(Instant.ofEpochMilli(1_001));
    }

    @Test
    void aFullCounterBorrowsTheNextMillisecond() {
        RandomGenerator allOnes = () -> -1L;
        Uuid7 generator = new Uuid7(() -> 5_000, allOnes);
        UUID first = generator.generate();
        assertThat(first.toString()).endsWith("-7fff-bfff-ffffffffffff");
        UUID second = generator.generate();
        assertThat(second).isGreaterThan(first);
        assertThat(Uuid7.timeOf(second)).isEqualTo(Instant.ofEpochMilli(5_001));
        assertThat(second.version()).isEqualTo(7);
        assertThat(second.variant()).isEqualTo(2);
    }

    @Test
    void concurrentCallersGetDistinctIds() throws InterruptedException {
        Set<UUID> ids = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) {
                    ids.add(Uuid7.next());
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join(Duration.ofSeconds(30).toMillis());
            assertThat(thread.isAlive()).isFalse();
        }
        assertThat(ids).hasSize(40_000);
    }

    @Test
    void timeOfRefusesOtherVersions() {
        assertThatIllegalArgumentException().isThrownBy(() -> Uuid7.timeOf(UUID.randomUUID()));
    }
}
