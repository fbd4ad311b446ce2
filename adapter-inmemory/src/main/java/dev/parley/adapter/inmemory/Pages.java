package dev.parley.adapter.inmemory;

import dev.parley.chat.model.Page;
import java.util.List;
import java.util.function.Function;

/** Cuts a sorted list of the items after a cursor into a page. */
final class Pages {
    private Pages() {}

    static <T> Page<T> of(List<T> sortedAfterCursor, int limit, Function<T, String> cursorOf) {
        if (sortedAfterCursor.size() <= limit) {
            return Page.last(sortedAfterCursor);
        }
        List<T> items = sortedAfterCursor.subList(0, limit);
        return new Page<>(items, true, cursorOf.apply(items.get(limit - 1)));
    }
}
