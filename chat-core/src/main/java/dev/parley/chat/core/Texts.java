package dev.parley.chat.core;

/** Unicode-aware text rules shared by validation and title generation. */
final class Texts {
    private Texts() {}

    /** Length in Unicode code points (a lone surrogate counts as one). */
    static int codePoints(String text) {
        return text.codePointCount(0, text.length());
    }

    static boolean containsNul(String text) {
        return text.indexOf('\u0000') >= 0;
    }

    /** True when a high surrogate is not followed by a low one, or a low one is not preceded by a high one. */
    static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
                    return true;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A thread title from the first user message: its first non-blank line, at most
     * {@code maxCodePoints} code points, cut at a word boundary (the longest prefix that ends
     * before whitespace); a single longer word is cut at the limit. Never splits a surrogate pair,
     * never adds an ellipsis. Null when the text is blank.
     */
    static String title(String text, int maxCodePoints) {
        String stripped = text.strip();
        if (stripped.isEmpty()) {
            return null;
        }
        int end = 0;
        while (end < stripped.length() && stripped.charAt(end) != '\n' && stripped.charAt(end) != '\r') {
            end++;
        }
        String line = stripped.substring(0, end).strip();
        if (codePoints(line) <= maxCodePoints) {
            return line;
        }
        int cut = line.offsetByCodePoints(0, maxCodePoints);
        if (Character.isWhitespace(line.codePointAt(cut))) {
            return line.substring(0, cut).stripTrailing();
        }
        int boundary = -1;
        for (int i = 0; i < cut; ) {
            int cp = line.codePointAt(i);
            if (Character.isWhitespace(cp)) {
                boundary = i;
            }
            i += Character.charCount(cp);
        }
        if (boundary > 0) {
            String prefix = line.substring(0, boundary).stripTrailing();
            if (!prefix.isEmpty()) {
                return prefix;
            }
        }
        return line.substring(0, cut);
    }
}
