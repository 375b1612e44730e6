package dev.switchboard.delivery.durable;

import dev.switchboard.platform.problem.SwitchboardException;
import org.springframework.util.MultiValueMap;

import java.util.List;

/**
 * A read's query: {@code offset} (absent: the beginning), {@code live} (absent: catch-up;
 * {@code long-poll} or {@code sse}, which need an offset) and the {@code cursor} echoed. Each at most
 * once; anything else in the query is ignored, as the protocol asks.
 */
record ReadQuery(String offset, String live, String cursor) {

    static ReadQuery of(MultiValueMap<String, String> query) {
        ReadQuery read = new ReadQuery(single(query.get("offset"), "offset"), single(query.get("live"), "live"),
                single(query.get("cursor"), "cursor"));
        if (read.live() != null && !read.longPoll() && !read.sse()) {
            throw SwitchboardException.invalid("live is long-poll or sse.");
        }
        if (read.live() != null && read.offset() == null) {
            throw SwitchboardException.invalid("A live read needs an offset.");
        }
        return read;
    }

    boolean longPoll() {
        return "long-poll".equals(live);
    }

    boolean sse() {
        return "sse".equals(live);
    }

    boolean fromNow() {
        return StreamOffsets.NOW.equals(offset);
    }

    private static String single(List<String> values, String name) {
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw SwitchboardException.invalid("Give " + name + " once.");
        }
        return values.get(0);
    }
}
