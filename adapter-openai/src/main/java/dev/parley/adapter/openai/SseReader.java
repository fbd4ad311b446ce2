package dev.parley.adapter.openai;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * Reads Server-Sent Events from a byte stream and returns the {@code data} of each event: pulled from
 * an {@link InputStream} ({@link #nextData()}), or pushed as the bytes arrive ({@link #push},
 * {@link #finish}, then {@link #poll}).
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
    private final ByteBuffer bytes = ByteBuffer.allocate(8192 + 8);
    private final CharBuffer chars = CharBuffer.allocate(8192 + 8);
    private final StringBuilder line = new StringBuilder();
    private final StringBuilder data = new StringBuilder();
    /** Events dispatched and not yet taken. */
    private final ArrayDeque<String> ready = new ArrayDeque<>();
    private byte[] readBuffer;
    private boolean hasData;
    private boolean lastWasCr;
    private boolean eof;

    /** A reader whose bytes are {@linkplain #push pushed}. */
    SseReader() {
        this(null, DEFAULT_MAX_EVENT_CHARS);
    }

    SseReader(InputStream in) {
        this(in, DEFAULT_MAX_EVENT_CHARS);
    }

    SseReader(InputStream in, int maxEventChars) {
        this.in = in;
        this.maxEventChars = maxEventChars;
    }

    /** Thrown when a line or an event is longer than the reader accepts. */
    static final class EventTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        EventTooLargeException() {
            super("event too large");
        }
    }

    /**
     * The data of the next event, read from the stream, or {@code null} at its end.
     *
     * @throws IOException when reading fails or an event exceeds the size limit
     */
    String nextData() throws IOException {
        if (readBuffer == null) {
            readBuffer = new byte[8192];
        }
        while (ready.isEmpty()) {
            if (eof) {
                return null;
            }
            int n = in.read(readBuffer);
            if (n < 0) {
                finish();
            } else {
                push(ByteBuffer.wrap(readBuffer, 0, n));
            }
        }
        return ready.poll();
    }

    /**
     * Takes {@code src}'s bytes (all of them); the events they complete are then {@linkplain #poll ready}.
     *
     * @throws EventTooLargeException when an event exceeds the size limit
     */
    void push(ByteBuffer src) throws EventTooLargeException {
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), bytes.remaining());
            ByteBuffer slice = src.slice();
            slice.limit(n);
            bytes.put(slice);
            src.position(src.position() + n);
            decode(false);
        }
    }

    /** The stream ended: decodes what is left; an event still open is dropped. */
    void finish() throws EventTooLargeException {
        if (eof) {
            return;
        }
        eof = true;
        decode(true);
        if (line.length() > 0) {
            onLine(takeLine());
        }
    }

    /** The data of the next event dispatched so far, or {@code null} when none is ready. */
    String poll() {
        return ready.poll();
    }

    /** Decodes the buffered bytes and splits them into lines. */
    private void decode(boolean endOfInput) throws EventTooLargeException {
        while (true) {
            bytes.flip();
            decoder.decode(bytes, chars, endOfInput);
            bytes.compact();
            if (chars.position() == 0) {
                break;
            }
            scanChars();
        }
        if (endOfInput) {
            decoder.flush(chars);
            scanChars();
        }
    }

    private void scanChars() throws EventTooLargeException {
        chars.flip();
        try {
            scan();
        } finally {
            chars.clear();
        }
    }

    private void scan() throws EventTooLargeException {
        while (chars.hasRemaining()) {
            char c = chars.get();
            if (c == '\n') {
                if (lastWasCr) {
                    lastWasCr = false;
                    continue;
                }
                onLine(takeLine());
            } else if (c == '\r') {
                lastWasCr = true;
                onLine(takeLine());
            } else {
                lastWasCr = false;
                line.append(c);
                if (line.length() > maxEventChars) {
                    throw new EventTooLargeException();
                }
            }
        }
    }

    private void onLine(String l) throws EventTooLargeException {
        if (l.isEmpty()) {
            if (hasData) {
                ready.add(data.toString());
                data.setLength(0);
                hasData = false;
            }
            return;
        }
        if (l.charAt(0) == ':') {
            return;
        }
        int colon = l.indexOf(':');
        String field = colon < 0 ? l : l.substring(0, colon);
        if (!field.equals("data")) {
            return;
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

    private String takeLine() {
        String s = line.toString();
        line.setLength(0);
        return s;
    }
}
