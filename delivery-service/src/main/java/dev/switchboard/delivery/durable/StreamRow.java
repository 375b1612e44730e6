package dev.switchboard.delivery.durable;

import java.time.Instant;

/**
 * A stream as stored: one row of {@code streams} with its partition's head.
 *
 * @param logKey        the stream's key in the log ({@code partitions}, {@code events}; partition 0)
 * @param ttlSeconds    the {@code Stream-TTL} it was created with (a sliding idle timeout), or null
 * @param expiresAt     when it expires unless used again (TTL) or for good ({@code Stream-Expires-At}), or null
 * @param writerSeq     the last {@code Stream-Seq} appended with, or null
 * @param baseSeq       offsets below this are from before the stream (an earlier incarnation's)
 * @param head          the seq of its last message: its tail offset
 * @param forkedFrom    the path it was forked from, or null
 * @param forkSourceKey the log key of the stream it was forked from, or null
 * @param forkSeq       the seq it was forked at, or null
 * @param forkSubOffset the sub-offset it was forked with (0: none), or null
 */
record StreamRow(
        String path,
        String logKey,
        String contentType,
        Long ttlSeconds,
        Instant expiresAt,
        boolean closed,
        String writerSeq,
        long baseSeq,
        long head,
        String forkedFrom,
        String forkSourceKey,
        Long forkSeq,
        Long forkSubOffset,
        State state) {

    enum State {
        LIVE,
        /** Deleted while forks of it lived: 410, and a create at its path is a conflict, until its forks are gone. */
        SOFT_DELETED,
        /** Deleted (a tombstone), or a placeholder never made a stream. */
        DELETED
    }

    boolean expired(Instant now) {
        return expiresAt != null && !expiresAt.isAfter(now);
    }

    boolean live(Instant now) {
        return state == State.LIVE && !expired(now);
    }

    boolean json() {
        return StreamContent.isJson(contentType);
    }

    StreamRow withHead(long newHead, String newWriterSeq, boolean nowClosed) {
        return new StreamRow(path, logKey, contentType, ttlSeconds, expiresAt, nowClosed, newWriterSeq, baseSeq, newHead, forkedFrom,
                forkSourceKey, forkSeq, forkSubOffset, state);
    }
}
