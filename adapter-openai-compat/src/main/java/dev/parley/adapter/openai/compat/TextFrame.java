package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.parley.adapter.http.FrameBytes;
import java.nio.charset.StandardCharsets;

/**
 * The JSON of an event sent for every token, as a template: what comes before the token's text and what
 * comes after it are rendered once, and each token only escapes its text (as Jackson writes a string)
 * and fills in its sequence number, if the event has one. The same bytes as the event's tree written by
 * {@link Wire#write}.
 */
final class TextFrame {
    static final String OUTPUT_TEXT_DELTA = "response.output_text.delta";
    static final String REASONING_DELTA = "response.reasoning_summary_text.delta";
    private static final JsonStringEncoder ENCODER = JsonStringEncoder.getInstance();

    private final String type;
    private final byte[] head;
    private final byte[] tail;
    private final boolean numbered;

    /**
     * @param head the frame up to the token's text (the opening quote included)
     * @param tail the frame after the text: up to the sequence number when {@code numbered}, else to its end
     * @param numbered whether a sequence number and the closing brace follow {@code tail}
     */
    private TextFrame(String type, String head, String tail, boolean numbered) {
        this.type = type;
        this.head = head.getBytes(StandardCharsets.UTF_8);
        this.tail = tail.getBytes(StandardCharsets.UTF_8);
        this.numbered = numbered;
    }

    /** {@code response.output_text.delta} of the message item {@code itemId} at {@code outputIndex}. */
    static TextFrame responseDelta(int outputIndex, String itemId) {
        return new TextFrame(OUTPUT_TEXT_DELTA, "{\"type\":\"" + OUTPUT_TEXT_DELTA + "\",\"output_index\":" + outputIndex
                + ",\"item_id\":\"" + quoted(itemId) + "\",\"content_index\":0,\"delta\":\"", "\",\"logprobs\":[],\"sequence_number\":", true);
    }

    /** {@code response.reasoning_summary_text.delta} of the reasoning item {@code itemId} at {@code outputIndex}. */
    static TextFrame reasoningDelta(int outputIndex, String itemId) {
        return new TextFrame(REASONING_DELTA, "{\"type\":\"" + REASONING_DELTA + "\",\"output_index\":" + outputIndex
                + ",\"item_id\":\"" + quoted(itemId) + "\",\"summary_index\":0,\"delta\":\"", "\",\"sequence_number\":", true);
    }

    /** A {@code chat.completion.chunk} whose delta is only content (no role, no finish reason). */
    static TextFrame chatChunk(String id, long created, String model) {
        return new TextFrame(null, "{\"id\":\"" + quoted(id) + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created
                + ",\"model\":\"" + quoted(model) + "\",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"",
                "\"},\"logprobs\":null,\"finish_reason\":null}]}", false);
    }

    /** The event's type, as its {@code type} field says; null for a chat completion chunk, which has none. */
    String type() {
        return type;
    }

    /** {@code "text"} as a JSON string's content, quotes left out. */
    private static String quoted(String text) {
        return new String(ENCODER.quoteAsString(text));
    }

    /** The frame of {@code text}, as UTF-8, between {@code before} and {@code after} (framing of the transport). */
    byte[] bytes(byte[] before, String text, long sequenceNumber, byte[] after) {
        byte[] escaped = ENCODER.quoteAsUTF8(text);
        int digits = numbered ? FrameBytes.digits(sequenceNumber) : 0;
        byte[] frame = new byte[before.length + head.length + escaped.length + tail.length + digits + (numbered ? 1 : 0) + after.length];
        int at = FrameBytes.put(before, frame, 0);
        at = FrameBytes.put(head, frame, at);
        at = FrameBytes.put(escaped, frame, at);
        at = FrameBytes.put(tail, frame, at);
        if (numbered) {
            at = FrameBytes.putDigits(sequenceNumber, digits, frame, at);
            frame[at++] = '}';
        }
        FrameBytes.put(after, frame, at);
        return frame;
    }

    /** The frame of {@code text} as a JSON string. */
    String json(String text, long sequenceNumber) {
        return new String(bytes(new byte[0], text, sequenceNumber, new byte[0]), StandardCharsets.UTF_8);
    }
}
