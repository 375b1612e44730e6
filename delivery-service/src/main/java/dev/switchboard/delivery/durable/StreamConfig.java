package dev.switchboard.delivery.durable;

import java.time.Instant;
import java.util.Objects;

/**
 * What a create ({@code PUT}) asks for: the stream's configuration, which an existing stream must
 * match for the create to be idempotent ({@code 200}) rather than a conflict ({@code 409}).
 *
 * @param contentType the {@code Content-Type} given, or null (a fork inherits its source's; a stream gets
 *                    {@value StreamContent#DEFAULT_TYPE})
 * @param ttlSeconds  {@code Stream-TTL}, or null
 * @param expiresAt   {@code Stream-Expires-At}, or null (never both)
 * @param closed      {@code Stream-Closed: true}: created closed
 * @param forkedFrom  {@code Stream-Forked-From}: the path of the stream to fork, or null
 * @param forkOffset  {@code Stream-Fork-Offset}: the seq where the fork leaves its source, or null (the source's tail)
 * @param subOffset   {@code Stream-Fork-Sub-Offset}: how much of the source's next append unit the fork takes (0: none)
 */
record StreamConfig(String contentType, Long ttlSeconds, Instant expiresAt, boolean closed, String forkedFrom, Long forkOffset,
                    long subOffset) {

    /** Whether {@code row}, an existing live stream, is what this create asks for. */
    boolean matches(StreamRow row) {
        String type = contentType != null ? contentType : forkedFrom != null ? row.contentType() : StreamContent.DEFAULT_TYPE;
        return StreamContent.essence(type).equals(StreamContent.essence(row.contentType()))
                && expiryMatches(row)
                && closed == row.closed()
                && Objects.equals(forkedFrom, row.forkedFrom())
                && (forkOffset == null || Objects.equals(forkOffset, row.forkSeq()))
                && subOffset == (row.forkSubOffset() == null ? 0 : row.forkSubOffset());
    }

    /** The same TTL, or the same fixed expiry, or (asked for neither) none — a fork asking for neither has its source's. */
    private boolean expiryMatches(StreamRow row) {
        if (ttlSeconds != null) {
            return ttlSeconds.equals(row.ttlSeconds());
        }
        if (expiresAt != null) {
            return row.ttlSeconds() == null && expiresAt.equals(row.expiresAt());
        }
        return forkedFrom != null || row.ttlSeconds() == null && row.expiresAt() == null;
    }
}
