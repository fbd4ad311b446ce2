package dev.parley.adapter.http;

import dev.parley.chat.model.RunEvent;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The {@code text/event-stream} sink of the chat flow: {@code id: <seq>\nevent: <type>\ndata: <json>\n\n}
 * per event (a {@code token}'s data written from a template, see {@link Wire#eventJson}), and
 * {@code event: heartbeat\ndata: {"type":"heartbeat"}\n\n} (no id) per heartbeat, written to the
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
        out.flush();
    }

    @Override
    public void event(RunEvent event) throws IOException {
        out.write(frame(event).getBytes(StandardCharsets.UTF_8));
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
