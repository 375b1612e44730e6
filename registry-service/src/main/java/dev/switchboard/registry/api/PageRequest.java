package dev.switchboard.registry.api;

import dev.switchboard.platform.problem.SwitchboardException;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A validated {@code ?limit&cursor} pair. A cursor is the base64url of a version tag and the last
 * key of the previous page; lists read {@code key > after ORDER BY key LIMIT limit + 1}, so pages
 * never overlap or skip, whatever is written between requests.
 *
 * @param limit how many items at most
 * @param after the key after which the page starts, or {@code ""} for the first page (every key sorts after it)
 */
public record PageRequest(int limit, String after) {

    public static final int DEFAULT_LIMIT = 50;
    private static final String VERSION = "c1:";

    /**
     * @param validKey whether a decoded cursor key could have come from this list
     * @throws SwitchboardException (400) for a limit outside {@code 1..maxLimit} or a cursor this API did not issue
     */
    public static PageRequest parse(String limit, String cursor, int maxLimit, Predicate<String> validKey) {
        int n = Math.min(DEFAULT_LIMIT, maxLimit);
        if (limit != null) {
            try {
                n = Integer.parseInt(limit.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > maxLimit) {
                throw SwitchboardException.invalid("limit must be an integer from 1 to " + maxLimit + ", got \""
                        + (limit.length() > 20 ? limit.substring(0, 20) + "…" : limit) + "\".");
            }
        }
        return new PageRequest(n, cursor == null ? "" : decode(cursor, validKey));
    }

    /** The page of {@code rows}, which must hold up to {@code limit + 1} rows in key order. */
    public <R, T> Page<T> page(List<R> rows, Function<R, String> key, Function<R, T> item) {
        boolean more = rows.size() > limit;
        List<R> shown = more ? rows.subList(0, limit) : rows;
        String next = more ? encode(key.apply(shown.get(shown.size() - 1))) : null;
        return new Page<>(shown.stream().map(item).toList(), next);
    }

    /** How many rows to read: one more than shown, to know whether another page exists. */
    public int fetch() {
        return limit + 1;
    }

    static String encode(String key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((VERSION + key).getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String cursor, Predicate<String> validKey) {
        String text;
        try {
            text = new String(Base64.getUrlDecoder().decode(cursor.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            text = "";
        }
        if (!text.startsWith(VERSION) || !validKey.test(text.substring(VERSION.length()))) {
            throw SwitchboardException.invalid("cursor is not one this list issued; start again without a cursor.");
        }
        return text.substring(VERSION.length());
    }
}
