package dev.parley.chat.model;

import java.util.List;
import java.util.function.Function;

/** A page of items; {@code nextCursor} is null exactly when {@code hasMore} is false. */
public record Page<T>(List<T> items, boolean hasMore, String nextCursor) {
    public Page {
        items = List.copyOf(items);
        Require.that(hasMore == (nextCursor != null), "nextCursor is set exactly when hasMore");
    }

    public static <T> Page<T> last(List<T> items) {
        return new Page<>(items, false, null);
    }

    public <R> Page<R> map(Function<? super T, ? extends R> f) {
        return new Page<>(items.stream().<R>map(f).toList(), hasMore, nextCursor);
    }
}
