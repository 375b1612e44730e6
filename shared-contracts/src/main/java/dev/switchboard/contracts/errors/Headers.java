package dev.switchboard.contracts.errors;

/** Header names that cross process boundaries. */
public final class Headers {
    /** Seconds to wait before retrying a {@code 429}. */
    public static final String RETRY_AFTER = "Retry-After";
    /** SSE resume point. */
    public static final String LAST_EVENT_ID = "Last-Event-ID";
    /** W3C trace context. */
    public static final String TRACEPARENT = "traceparent";
    /** Prefix of CloudEvents HTTP binary-mode attribute headers. */
    public static final String CE_PREFIX = "ce-";
    /** Media type of a structured CloudEvent. */
    public static final String CLOUDEVENTS_JSON = "application/cloudevents+json";
    /** Media type of a CloudEvents batch. */
    public static final String CLOUDEVENTS_BATCH_JSON = "application/cloudevents-batch+json";
    /** Media type of RFC 9457 problem details. */
    public static final String PROBLEM_JSON = "application/problem+json";

    private Headers() {
    }
}
