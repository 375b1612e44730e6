package dev.switchboard.delivery.log;

/** What a reader of the log sees: an event, or a gap where retention already removed events. */
public sealed interface LogItem {

    int partition();

    /** A stored event; {@code envelope} is the complete CloudEvent JSON. */
    record Event(int partition, long seq, String envelope) implements LogItem {
    }

    /**
     * Events {@code from..to} of the partition are gone (past retention): the reader's resume point
     * is no longer in the log, and it continues at {@code to + 1}.
     */
    record Gap(int partition, long from, long to) implements LogItem {
    }
}
