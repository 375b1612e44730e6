package dev.switchboard.delivery.durable;

/** The Durable Streams protocol's header names. */
final class StreamHeaders {

    static final String STREAM_TTL = "Stream-TTL";
    static final String STREAM_EXPIRES_AT = "Stream-Expires-At";
    static final String STREAM_SEQ = "Stream-Seq";
    static final String STREAM_CURSOR = "Stream-Cursor";
    static final String STREAM_NEXT_OFFSET = "Stream-Next-Offset";
    static final String STREAM_UP_TO_DATE = "Stream-Up-To-Date";
    static final String STREAM_CLOSED = "Stream-Closed";
    static final String STREAM_FORKED_FROM = "Stream-Forked-From";
    static final String STREAM_FORK_OFFSET = "Stream-Fork-Offset";
    static final String STREAM_FORK_SUB_OFFSET = "Stream-Fork-Sub-Offset";
    static final String STREAM_SSE_DATA_ENCODING = "Stream-SSE-Data-Encoding";
    static final String PRODUCER_ID = "Producer-Id";
    static final String PRODUCER_EPOCH = "Producer-Epoch";
    static final String PRODUCER_SEQ = "Producer-Seq";
    static final String PRODUCER_EXPECTED_SEQ = "Producer-Expected-Seq";
    static final String PRODUCER_RECEIVED_SEQ = "Producer-Received-Seq";

    private StreamHeaders() {
    }
}
