package dev.parley.adapter.inmemory;

import dev.parley.chat.model.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Base64;

/** Opaque keyset cursors: a kind tag and key fields, Base64url-encoded. */
final class Cursors {
    private static final char SEPARATOR = '|';

    private Cursors() {}

    static String encode(String kind, String... fields) {
        StringBuilder sb = new StringBuilder(kind);
        for (String f : fields) {
            sb.append(SEPARATOR).append(f);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The key fields of a cursor of {@code kind} with exactly {@code count} fields. */
    static String[] decode(String cursor, String kind, int count) {
        String text;
        try {
            text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
        String[] parts = text.split("\\|", -1);
        if (parts.length != count + 1 || !parts[0].equals(kind)) {
            throw invalid();
        }
        String[] fields = new String[count];
        System.arraycopy(parts, 1, fields, 0, count);
        return fields;
    }

    static String instant(Instant t) {
        return t.getEpochSecond() + ":" + t.getNano();
    }

    static Instant parseInstant(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw invalid();
        }
        try {
            return Instant.ofEpochSecond(Long.parseLong(text.substring(0, colon)), Long.parseLong(text.substring(colon + 1)));
        } catch (NumberFormatException | DateTimeException | ArithmeticException e) {
            throw invalid();
        }
    }

    static long parseLong(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw invalid();
        }
    }

    static <T> T parseId(java.util.Optional<T> id) {
        return id.orElseThrow(Cursors::invalid);
    }

    static InvalidRequestException invalid() {
        return InvalidRequestException.parameter("cursor", "is not a cursor this server issued");
    }
}
