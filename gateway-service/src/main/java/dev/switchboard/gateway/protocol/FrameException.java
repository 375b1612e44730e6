package dev.switchboard.gateway.protocol;

import dev.switchboard.contracts.errors.ErrorCode;

/** A client frame that cannot be taken: answered with an {@code error} frame, the connection stays up. */
public final class FrameException extends RuntimeException {

    private final transient Long id;
    private final ErrorCode code;

    public FrameException(Long id, ErrorCode code, String message) {
        super(message, null, false, false);
        this.id = id;
        this.code = code;
    }

    /** The frame's id when it could be read, else null. */
    public Long id() {
        return id;
    }

    public ErrorCode code() {
        return code;
    }
}
