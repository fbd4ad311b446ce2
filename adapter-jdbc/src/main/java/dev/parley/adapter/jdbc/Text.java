package dev.parley.adapter.jdbc;

/**
 * Makes any Java string storable in PostgreSQL, whose {@code text} and {@code jsonb} reject U+0000.
 * U+0000 is written as {@code U+FFFF '0'} and U+FFFF itself as {@code U+FFFF U+FFFF}; reading undoes
 * both, so every string round-trips exactly. Strings without either character pass through untouched
 * (the common case costs one scan). Both vendors use the same encoding so the stored data is alike.
 */
final class Text {
    static final char ESC = '\uFFFF';
    private static final char NUL = '\u0000';
    private static final String JSON_NUL = "\\u0000";

    private Text() {}

    /** The storable form of a plain string (null stays null). */
    static String put(String value) {
        if (value == null || !needsEscape(value)) {
            return value;
        }
        StringBuilder sb = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == NUL) {
                sb.append(ESC).append('0');
            } else if (c == ESC) {
                sb.append(ESC).append(ESC);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** The original of a string stored with {@link #put} (null stays null). */
    static String get(String stored) {
        if (stored == null || stored.indexOf(ESC) < 0) {
            return stored;
        }
        StringBuilder sb = new StringBuilder(stored.length());
        for (int i = 0; i < stored.length(); i++) {
            char c = stored.charAt(i);
            if (c == ESC && i + 1 < stored.length()) {
                char next = stored.charAt(++i);
                sb.append(next == '0' ? NUL : next);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * The storable form of a JSON document written by Jackson: the escape sequence {@code \u0000}
     * inside string values becomes {@code U+FFFF '0'}, a raw U+FFFF becomes two. Backslash pairs are
     * skipped as units so that an escaped backslash followed by {@code u0000} text is left alone.
     */
    static String putJson(String json) {
        if (json.indexOf(ESC) < 0 && !json.contains(JSON_NUL)) {
            return json;
        }
        StringBuilder sb = new StringBuilder(json.length() + 8);
        int i = 0;
        while (i < json.length()) {
            char c = json.charAt(i);
            if (c == '\\' && i + 1 < json.length()) {
                if (json.startsWith(JSON_NUL, i)) {
                    sb.append(ESC).append('0');
                    i += JSON_NUL.length();
                } else {
                    sb.append(c).append(json.charAt(i + 1));
                    i += 2;
                }
            } else if (c == ESC) {
                sb.append(ESC).append(ESC);
                i++;
            } else {
                sb.append(c);
                i++;
            }
        }
        return sb.toString();
    }

    /** The JSON document stored with {@link #putJson}, ready for a JSON parser. */
    static String getJson(String stored) {
        if (stored == null || stored.indexOf(ESC) < 0) {
            return stored;
        }
        StringBuilder sb = new StringBuilder(stored.length() + 8);
        for (int i = 0; i < stored.length(); i++) {
            char c = stored.charAt(i);
            if (c == ESC && i + 1 < stored.length()) {
                char next = stored.charAt(++i);
                if (next == '0') {
                    sb.append(JSON_NUL);
                } else {
                    sb.append(next);
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean needsEscape(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == NUL || c == ESC) {
                return true;
            }
        }
        return false;
    }
}
