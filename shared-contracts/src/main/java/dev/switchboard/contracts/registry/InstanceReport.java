package dev.switchboard.contracts.registry;

/**
 * What one delivery-service instance tells the registry of itself
 * ({@code PUT /internal/v1/delivery-instances/{instance}}): it is alive until {@code ttlMs} from
 * now. The answer is {@link LiveInstances}: how many instances are alive, this one included.
 *
 * @param ttlMs how long the report counts (a few report intervals)
 */
public record InstanceReport(long ttlMs) {

    /** @param live the live delivery instances, the reporting one included (at least 1) */
    public record LiveInstances(int live) {
    }
}
