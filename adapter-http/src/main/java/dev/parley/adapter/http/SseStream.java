package dev.parley.adapter.http;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.out.RunSubscription;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * Writes one run's events as {@code text/event-stream}, flushing after each frame:
 * {@code id: <seq>\nevent: <type>\ndata: <json>\n\n}, and {@code event: heartbeat\ndata: {"type":"heartbeat"}\n\n}
 * (no id) after each idle interval. Ends right after the terminal event. The subscription is read in
 * the request's own thread, so a slow client only ever holds up itself.
 */
final class SseStream {
    private static final byte[] HEARTBEAT = ("event: heartbeat\ndata: " + Json.write(Wire.heartbeat()) + "\n\n")
            .getBytes(StandardCharsets.UTF_8);

    private SseStream() {}

    /** The frame of one event. */
    static String frame(RunEvent event) {
        if (!event.isReplayable()) {
            return new String(HEARTBEAT, StandardCharsets.UTF_8);
        }
        return "id: " + event.seq() + "\nevent: " + event.type() + "\ndata: " + Json.write(Wire.event(event)) + "\n\n";
    }

    /**
     * Streams {@code subscription} to the response until its terminal event or until the client goes
     * away; always closes the subscription (which applies its disconnect policy when the run is not over).
     */
    static void pump(HttpServletResponse res, RunSubscription subscription, Duration heartbeat) throws InterruptedException {
        try (subscription) {
            res.setStatus(200);
            res.setContentType("text/event-stream;charset=utf-8");
            res.setHeader("Cache-Control", "no-cache");
            res.setHeader("X-Accel-Buffering", "no");
            ServletOutputStream out = res.getOutputStream();
            out.flush();
            while (true) {
                Optional<RunEvent> next = subscription.next(heartbeat);
                if (next.isPresent()) {
                    RunEvent event = next.get();
                    out.write(frame(event).getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (event.isTerminal()) {
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
}
