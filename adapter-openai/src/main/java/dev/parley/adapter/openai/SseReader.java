package dev.parley.adapter.openai;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads Server-Sent Events from a byte stream and returns the {@code data} of each event.
 *
 * <p>One UTF-8 decoder runs over the whole stream, so a character split across network reads is
 * decoded once its last byte arrives, and a line split across reads is returned once its end
 * arrives. Lines end with LF, CR or CRLF; {@code data:} lines of one event are joined with LF;
 * lines starting with {@code :} are comments; a blank line dispatches the event. An event still
 * open at the end of the stream is dropped, as the SSE specification says. Malformed bytes become
 * U+FFFD. Not thread-safe.
 */
final class SseReader {
    static final int DEFAULT_MAX_EVENT_CHARS = 8 * 1024 * 1024;

    private final InputStream in;
    private final int maxEventChars;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private final byte[] readBuffer = new byte[8192];
    private final ByteBuffer bytes = ByteBuffer.allocate(8192 + 8);
    private final CharBuffer chars = CharBuffer.allocate(8192 + 8);
    private final StringBuilder line = new StringBuilder();
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private boolean lastWasCr;
    private boolean eof;

    SseReader(InputStream in) {
        this(in, DEFAULT_MAX_EVENT_CHARS);
    }

    SseReader(InputStream in, int maxEventChars) {
        this.in = in;
        this.maxEventChars = maxEventChars;
        chars.flip();
    }

    /** Thrown when a line or an event is longer than the reader accepts. */
    static final class EventTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        EventTooLargeException() {
            super("event too large");
        }
    }

    /**
     * The data of the next event, or {@code null} at the end of the stream.
     *
     * @throws IOException when reading fails or an event exceeds the size limit
     */
    String nextData() throws IOException {
        String l;
        while ((l = nextLine()) != null) {
            if (l.isEmpty()) {
                if (hasData) {
                    String event = data.toString();
                    data.setLength(0);
                    hasData = false;
                    return event;
                }
                continue;
            }
            if (l.charAt(0) == ':') {
                continue;
            }
            int colon = l.indexOf(':');
            String field = colon < 0 ? l : l.substring(0, colon);
            if (!field.equals("data")) {
                continue;
            }
            String value = colon < 0 ? "" : l.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            if (hasData) {
                data.append('\n');
            }
            data.append(value);
            hasData = true;
            if (data.length() > maxEventChars) {
                throw new EventTooLargeException();
            }
        }
        return null;
    }

    /** The next line without its terminator, or {@code null} at the end of the stream. */
    private String nextLine() throws IOException {
        while (true) {
            while (chars.hasRemaining()) {
                char c = chars.get();
                if (c == '\n') {
                    if (lastWasCr) {
                        lastWasCr = false;
                        continue;
                    }
                    return takeLine();
                }
                if (c == '\r') {
                    lastWasCr = true;
                    return takeLine();
                }
                lastWasCr = false;
                line.append(c);
                if (line.length() > maxEventChars) {
                    throw new EventTooLargeException();
                }
            }
            if (eof || !fill()) {
                if (line.length() > 0) {
                    return takeLine();
                }
                return null;
            }
        }
    }

    private String takeLine() {
        String s = line.toString();
        line.setLength(0);
        return s;
    }

    /** Decodes more characters into {@link #chars}; false at the end of the stream. */
    private boolean fill() throws IOException {
        chars.clear();
        try {
            while (true) {
                bytes.flip();
                decoder.decode(bytes, chars, eof);
                bytes.compact();
                if (eof) {
                    decoder.flush(chars);
                    return chars.position() > 0;
                }
                if (chars.position() > 0) {
                    return true;
                }
                int n = in.read(readBuffer, 0, Math.min(readBuffer.length, bytes.remaining()));
                if (n < 0) {
                    eof = true;
                } else {
                    bytes.put(readBuffer, 0, n);
                }
            }
        } finally {
            chars.flip();
        }
    }
}
