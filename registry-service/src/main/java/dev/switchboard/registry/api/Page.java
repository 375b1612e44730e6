package dev.switchboard.registry.api;

import java.util.List;

/**
 * One page of a list: {@code {"items":[…],"nextCursor":"…"|null}}. {@code nextCursor} is opaque;
 * pass it back as {@code ?cursor=} for the next page; {@code null} means this was the last page.
 */
public record Page<T>(List<T> items, String nextCursor) {
    public Page {
        items = List.copyOf(items);
    }
}
