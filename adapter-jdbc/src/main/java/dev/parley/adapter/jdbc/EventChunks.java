package dev.parley.adapter.jdbc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The bytes of one chunk of a run's event log: consecutive events of one run as a JSON array of
 * {@code [type, fields]} pairs (the seq of each is the chunk's first seq plus its index), in UTF-8,
 * either as is (first byte {@code J}: a chunk written while the run goes on, cheap to write) or
 * deflated (first byte {@code Z}: the packed chunks of a finished log). Strings keep every character but
 * lone surrogates, which UTF-8 cannot carry (written as {@code ?}, as the JDBC drivers do).
 */
final class EventChunks {
    static final byte PLAIN = 'J';
    static final byte DEFLATED = 'Z';
    private static final ObjectMapper MAPPER = Json.MAPPER;

    private EventChunks() {}

    static byte[] encode(List<RunEvent> events, boolean deflate) {
        ArrayNode array = MAPPER.createArrayNode();
        for (RunEvent e : events) {
            array.addArray().add(e.type()).add(Json.eventNode(e));
        }
        byte[] json;
        try {
            json = MAPPER.writeValueAsString(array).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the events as JSON", e);
        }
        if (!deflate) {
            byte[] out = new byte[json.length + 1];
            out[0] = PLAIN;
            System.arraycopy(json, 0, out, 1, json.length);
            return out;
        }
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try {
            deflater.setInput(json);
            deflater.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(json.length / 4 + 16);
            out.write(DEFLATED);
            byte[] buffer = new byte[8192];
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
            return out.toByteArray();
        } finally {
            deflater.end();
        }
    }

    /** The events of a chunk of {@code runId} that starts at {@code firstSeq}. */
    static List<RunEvent> decode(RunId runId, long firstSeq, byte[] stored) {
        JsonNode array;
        try {
            array = MAPPER.readTree(json(stored));
        } catch (IOException e) {
            throw new IllegalStateException("a stored chunk of run " + runId.value() + " is unreadable", e);
        }
        List<RunEvent> events = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode pair = array.get(i);
            events.add(Json.event(runId, firstSeq + i, pair.get(0).asText(), pair.get(1)));
        }
        return events;
    }

    private static byte[] json(byte[] stored) {
        if (stored.length == 0) {
            throw new IllegalStateException("an empty chunk");
        }
        if (stored[0] == PLAIN) {
            byte[] json = new byte[stored.length - 1];
            System.arraycopy(stored, 1, json, 0, json.length);
            return json;
        }
        if (stored[0] != DEFLATED) {
            throw new IllegalStateException("a chunk of an unknown format " + stored[0]);
        }
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(stored, 1, stored.length - 1);
            ByteArrayOutputStream out = new ByteArrayOutputStream(stored.length * 6);
            byte[] buffer = new byte[16384];
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new IllegalStateException("a deflated chunk ends early");
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IllegalStateException("a deflated chunk is corrupt", e);
        } finally {
            inflater.end();
        }
    }
}
