package dev.parley.adapter.jdbc;

import dev.parley.chat.model.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * Opaque keyset cursors: base64url of {@code kind|key...}. A cursor is only read back by the kind of
 * page that made it; anything else is {@code invalid_parameter} on {@code cursor}.
 */
final class Cursors {
    private Cursors() {}

    /** The position of a key (an instant and an id) in a keyset. */
    record TimeKey(Instant at, String id) {}

    static String time(String kind, Instant at, String id) {
        Instant s = Db.stored(at);
        return encode(kind + "|" + s.getEpochSecond() + "|" + s.getNano() + "|" + id);
    }

    static TimeKey time(String kind, String cursor, String idPrefix) {
        String[] parts = decode(cursor).split("\\|", -1);
        if (parts.length != 4 || !parts[0].equals(kind) || !dev.parley.chat.model.Ids.isValid(idPrefix, parts[3])) {
            throw malformed();
        }
        try {
            long seconds = Long.parseLong(parts[1]);
            long nanos = Long.parseLong(parts[2]);
            if (nanos < 0 || nanos > 999_999_999) {
                throw malformed();
            }
            return new TimeKey(Instant.ofEpochSecond(seconds, nanos), parts[3]);
        } catch (NumberFormatException | java.time.DateTimeException e) {
            throw malformed();
        }
    }

    static String position(String kind, long position) {
        return encode(kind + "|" + position);
    }

    static long position(String kind, String cursor) {
        String[] parts = decode(cursor).split("\\|", -1);
        if (parts.length != 2 || !parts[0].equals(kind)) {
            throw malformed();
        }
        try {
            long position = Long.parseLong(parts[1]);
            if (position < 0) {
                throw malformed();
            }
            return position;
        } catch (NumberFormatException e) {
            throw malformed();
        }
    }

    static String ofText(String kind, String value) {
        return encode(kind + "|" + value);
    }

    /** The value of a cursor made by {@link #ofText(String, String)} with {@code kind}. */
    static String textOf(String kind, String cursor) {
        String text = decode(cursor);
        if (!text.startsWith(kind + "|")) {
            throw malformed();
        }
        return text.substring(kind.length() + 1);
    }

    private static String encode(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String cursor) {
        if (cursor.length() > 512) {
            throw malformed();
        }
        try {
            return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw malformed();
        }
    }

    private static InvalidRequestException malformed() {
        return InvalidRequestException.parameter("cursor", "is not a cursor of this list");
    }
}
