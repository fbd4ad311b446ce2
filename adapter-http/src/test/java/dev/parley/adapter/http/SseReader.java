package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads {@code text/event-stream} frames (blocks separated by a blank line), keeping each frame's raw text. */
final class SseReader implements AutoCloseable {
    private final InputStream in;
    private final OpenApiContract contract;
    private final StringBuilder raw = new StringBuilder();

    /** Reads {@code in}; every data line is checked against the document's RunEvent schema when {@code contract} is given. */
    SseReader(InputStream in, OpenApiContract contract) {
        this.in = in;
        this.contract = contract;
    }

    /** One frame: its fields and its exact text including the closing blank line. */
    record Frame(String id, String event, String data, String raw) {
        JsonNode json() {
            try {
                return TestServer.JSON.readTree(data);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        long seq() {
            return json().get("seq").asLong();
        }
    }

    /** The next frame, or null when the stream ended. */
    Frame next() {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        int previous = -1;
        try {
            while (true) {
                int b = in.read();
                if (b == -1) {
                    return null;
                }
                frame.write(b);
                if (b == '\n' && previous == '\n') {
                    break;
                }
                previous = b;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String text = frame.toString(StandardCharsets.UTF_8);
        raw.append(text);
        String id = null;
        String event = null;
        String data = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("id: ")) {
                id = line.substring(4);
            } else if (line.startsWith("event: ")) {
                event = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data = line.substring(6);
            }
        }
        Frame result = new Frame(id, event, data, text);
        if (contract != null && data != null) {
            contract.checkEvent(result.json());
        }
        return result;
    }

    /** Every remaining frame until the server ends the stream. */
    List<Frame> readToEnd() {
        List<Frame> frames = new ArrayList<>();
        for (Frame f = next(); f != null; f = next()) {
            frames.add(f);
        }
        return frames;
    }

    /** Everything read so far, byte for byte. */
    String raw() {
        return raw.toString();
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
