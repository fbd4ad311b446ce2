package dev.parley.adapter.http;

import dev.parley.chat.model.RunEvent;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The {@code text/event-stream} sink of the chat flow: {@code id: <seq>\nevent: <type>\ndata: <json>\n\n}
 * per event (a {@code token}'s data written from a template, see {@link Wire#eventJson}, or its whole frame, see
 * {@link #frameBytes}), and {@code event: heartbeat\ndata: {"type":"heartbeat"}\n\n} (no id) per heartbeat, written to the
 * response and flushed when the flow says so (once per burst of events).
 */
final class SseStream implements ChatFlow.Sink {
    private static final byte[] HEARTBEAT = ("event: heartbeat\ndata: " + Json.write(Wire.heartbeat()) + "\n\n")
            .getBytes(StandardCharsets.UTF_8);

    private final HttpServletResponse res;
    private ServletOutputStream out;

    SseStream(HttpServletResponse res) {
        this.res = res;
    }

    /** The frame of one event. */
    static String frame(RunEvent event) {
        if (!event.isReplayable()) {
            return new String(HEARTBEAT, StandardCharsets.UTF_8);
        }
        String data = Wire.eventJson(event, null);
        return new StringBuilder(data.length() + 48).append("id: ").append(event.seq()).append("\nevent: ").append(event.type())
                .append("\ndata: ").append(data).append("\n\n").toString();
    }

    /** The status and headers of a stream. */
    static void headers(HttpServletResponse res) {
        res.setStatus(200);
        res.setContentType("text/event-stream;charset=utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
    }

    @Override
    public boolean webSocket() {
        return false;
    }

    @Override
    public void open() throws IOException {
        headers(res);
        out = res.getOutputStream();
    }

    @Override
    public void event(RunEvent event) throws IOException {
        out.write(frameBytes(event));
    }

    /**
     * {@link #frame} as UTF-8: a {@code token} whose text Jackson writes as it is (printable ASCII
     * without a quote or backslash: most tokens) is written straight into one array of its exact
     * size; any other event goes through its text.
     */
    static byte[] frameBytes(RunEvent event) {
        if (event instanceof RunEvent.Token token) {
            byte[] plain = plainTokenFrame(token);
            if (plain != null) {
                return plain;
            }
        }
        return frame(event).getBytes(StandardCharsets.UTF_8);
    }

    private static final byte[] TOKEN_ID = "id: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOKEN_RUN = "\nevent: token\ndata: {\"type\":\"token\",\"run_id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOKEN_SEQ = "\",\"seq\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOKEN_CONTENT = ",\"content\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOKEN_END = "\"}\n\n".getBytes(StandardCharsets.US_ASCII);

    /** The token's frame in one array, or null when its run id or text needs escaping or is not ASCII. */
    private static byte[] plainTokenFrame(RunEvent.Token token) {
        String runId = token.runId().value();
        String content = token.content();
        if (!plain(runId) || !plain(content)) {
            return null;
        }
        long seq = token.seq();
        int seqDigits = FrameBytes.digits(seq);
        byte[] frame = new byte[TOKEN_ID.length + seqDigits + TOKEN_RUN.length + runId.length() + TOKEN_SEQ.length + seqDigits
                + TOKEN_CONTENT.length + content.length() + TOKEN_END.length];
        int at = FrameBytes.put(TOKEN_ID, frame, 0);
        at = FrameBytes.putDigits(seq, seqDigits, frame, at);
        at = FrameBytes.put(TOKEN_RUN, frame, at);
        at = putAscii(runId, frame, at);
        at = FrameBytes.put(TOKEN_SEQ, frame, at);
        at = FrameBytes.putDigits(seq, seqDigits, frame, at);
        at = FrameBytes.put(TOKEN_CONTENT, frame, at);
        at = putAscii(content, frame, at);
        FrameBytes.put(TOKEN_END, frame, at);
        return frame;
    }

    /** Printable ASCII without {@code "} or {@code \\}: what a JSON string holds unescaped. */
    private static boolean plain(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    private static int putAscii(String text, byte[] frame, int at) {
        for (int i = 0; i < text.length(); i++) {
            frame[at + i] = (byte) text.charAt(i); // ASCII only (see plain): one byte per char
        }
        return at + text.length();
    }

    @Override
    public void heartbeat() throws IOException {
        out.write(HEARTBEAT);
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }
}
