package dev.switchboard.contracts.registry;

/**
 * What a process that follows the registry's change feed says of itself
 * ({@code PUT /internal/v1/changes/subscribers/{subscriber}}): it has applied every change up to
 * {@code appliedThrough} (its cache no longer holds anything they invalidate), and it is alive until
 * {@code ttlMs} from now. The registry answers a revocation only once every live subscriber has
 * applied it, so nothing a revoked credential sends after that answer is accepted.
 *
 * @param appliedThrough the highest change id applied (every lower one included)
 * @param ttlMs          how long the report counts (a few feed heartbeats)
 */
public record AppliedReport(long appliedThrough, long ttlMs) {
}
