package dev.parley.chat.model;

/**
 * A keyset page request: at most {@code limit} (1-100) items after {@code cursor} (null for the
 * first page). Cursors are opaque strings made by the store that answered the previous page; a
 * cursor the store cannot read is an {@link InvalidRequestException} with code
 * {@code invalid_parameter}.
 */
public record PageRequest(int limit, String cursor) {
    public static final int DEFAULT_LIMIT = 20;
    public static final int MAX_LIMIT = 100;

    public PageRequest {
        Require.inRange(limit, 1, MAX_LIMIT, "limit");
        cursor = cursor == null || cursor.isEmpty() ? null : cursor;
    }

    public static PageRequest first(int limit) {
        return new PageRequest(limit, null);
    }

    public static PageRequest firstPage() {
        return new PageRequest(DEFAULT_LIMIT, null);
    }
}
