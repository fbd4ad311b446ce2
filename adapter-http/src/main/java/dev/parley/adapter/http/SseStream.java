package dev.parley.adapter.http;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.in.RunStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * Writes one run's events as {@code text/event-stream}, flushing after each frame or burst of frames:
 * {@code id: <seq>\nevent: <type>\ndata: <json>\n\n} (the events already waiting are written together
 * and flushed once), and {@code event: heartbeat\ndata: {"type":"heartbeat"}\n\n}
 * (no id) after each idle interval. Ends right after the terminal event. The subscription is read in
 * the stream's own thread (see {@code Api.stream}), so a slow client only ever holds up itself.
 */
final class SseStream {
    private static final byte[] HEARTBEAT = ("event: heartbeat\ndata: " + Json.write(Wire.heartbeat()) + "\n\n")
            .getBytes(StandardCharsets.UTF_8);

    /** Most events written between two flushes. */
    private static final int BATCH = 64;

    private SseStream() {}

    /** The frame of one event. */
    static String frame(RunEvent event) {
        if (!event.isReplayable()) {
            return new String(HEARTBEAT, StandardCharsets.UTF_8);
        }
        return "id: " + event.seq() + "\nevent: " + event.type() + "\ndata: " + Json.write(Wire.event(event)) + "\n\n";
    }

    /** The status and headers of a stream. */
    static void headers(HttpServletResponse res) {
        res.setStatus(200);
        res.setContentType("text/event-stream;charset=utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
    }

    /**
     * Streams {@code subscription} to the response until its terminal event or until the client goes
     * away; always closes the subscription (which applies its disconnect policy when the run is not over).
     */
    static void pump(HttpServletResponse res, RunStream subscription, Duration heartbeat) throws InterruptedException {
        try (subscription) {
            headers(res);
            ServletOutputStream out = res.getOutputStream();
            out.flush();
            while (true) {
                Optional<RunEvent> next = subscription.next(heartbeat);
                if (next.isPresent()) {
                    if (writeReady(out, subscription, next.get())) {
                        return;
                    }
                } else if (subscription.isFinished()) {
                    return;
                } else {
                    out.write(HEARTBEAT);
                    out.flush();
                }
            }
        } catch (IOException clientGone) {
            // the client disconnected; closing the subscription above decides whether the run goes on
        }
    }

    /**
     * Writes {@code first} and the events already waiting behind it (up to {@link #BATCH}), then
     * flushes once: a burst of events costs one flush, not one each. True after the terminal event.
     */
    private static boolean writeReady(ServletOutputStream out, RunStream subscription, RunEvent first)
            throws IOException, InterruptedException {
        RunEvent event = first;
        for (int written = 1; ; written++) {
            out.write(frame(event).getBytes(StandardCharsets.UTF_8));
            if (event.isTerminal() || written == BATCH) {
                break;
            }
            Optional<RunEvent> ready = subscription.next(Duration.ZERO);
            if (ready.isEmpty()) {
                break;
            }
            event = ready.get();
        }
        out.flush();
        return event.isTerminal();
    }
}
