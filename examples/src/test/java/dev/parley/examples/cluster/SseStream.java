package dev.parley.examples.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A live stream of server-sent events, read on a thread of its own into a queue, each event
 * stamped with the {@link System#nanoTime()} it arrived at. Heartbeats are skipped.
 */
public final class SseStream implements AutoCloseable {
    private static final Event END = new Event(-1, "end-of-stream", null, 0);

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<Event> received = new ArrayList<>();
    private final CompletableFuture<HttpResponse<InputStream>> response;
    private volatile InputStream body;
    private volatile int status;
    private boolean ended;

    private SseStream(CompletableFuture<HttpResponse<InputStream>> response) {
        this.response = response;
    }

    static SseStream open(HttpClient http, HttpRequest request) {
        SseStream stream = new SseStream(http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream()));
        Thread reader = new Thread(stream::read, "sse-reader");
        reader.setDaemon(true);
        reader.start();
        return stream;
    }

    private void read() {
        try {
            HttpResponse<InputStream> r = response.get(60, TimeUnit.SECONDS);
            status = r.statusCode();
            body = r.body();
            BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            long id = -1;
            String type = null;
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data.length() > 0 && !"heartbeat".equals(type)) {
                        events.add(new Event(id, type, Api.JSON.readTree(data.toString()), System.nanoTime()));
                    }
                    id = -1;
                    type = null;
                    data.setLength(0);
                } else if (line.startsWith("id:")) {
                    id = Long.parseLong(line.substring(3).strip());
                } else if (line.startsWith("event:")) {
                    type = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).strip());
                }
            }
        } catch (Exception e) {
            // the stream ended or was closed
        } finally {
            events.add(END);
        }
    }

    /** The next event, waiting at most {@code timeout}; null at the end of the stream. Fails when none came in time. */
    public Event next(Duration timeout) throws InterruptedException {
        if (ended) {
            return null;
        }
        Event e = events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (e == null) {
            throw new AssertionError("no event within " + timeout + " after " + received.size() + " events: " + tail());
        }
        if (e == END) {
            ended = true;
            return null;
        }
        received.add(e);
        return e;
    }

    /** Reads until an event of one of {@code types} arrives (and returns it), failing after {@code timeout}. */
    public Event until(Duration timeout, String... types) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                throw new AssertionError("no " + List.of(types) + " within " + timeout + ": " + tail());
            }
            Event e = next(Duration.ofNanos(remaining));
            if (e == null) {
                throw new AssertionError("the stream ended without " + List.of(types) + ": " + tail());
            }
            if (List.of(types).contains(e.type())) {
                return e;
            }
        }
    }

    /** Reads to the end of the stream (the server closes it after the terminal event). */
    public void drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))) != null) {
            // keep reading
        }
    }

    /** Every event read so far, in order. */
    public List<Event> received() {
        return List.copyOf(received);
    }

    /** The concatenated {@code token} contents read so far. */
    public String text() {
        StringBuilder text = new StringBuilder();
        for (Event e : received) {
            if ("token".equals(e.type())) {
                text.append(e.data().path("content").asText());
            }
        }
        return text.toString();
    }

    public int status() {
        return status;
    }

    private String tail() {
        int from = Math.max(0, received.size() - 3);
        return received.subList(from, received.size()).toString();
    }

    @Override
    public void close() {
        InputStream b = body;
        if (b != null) {
            try {
                b.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            response.cancel(true);
        }
    }

    /** One event: its seq ({@code id:}), type, JSON data and when it arrived. */
    public record Event(long id, String type, JsonNode data, long arrivedNanos) {
        @Override
        public String toString() {
            return id + ":" + type + (data == null ? "" : ":" + data.path("content").asText(data.path("code").asText("")));
        }
    }
}
