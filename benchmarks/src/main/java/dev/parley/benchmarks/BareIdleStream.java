package dev.parley.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.adapter.http.Authenticator;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The transport's share of an idle stream (scenario 3's baseline): {@code POST /bare/idle-sse}, a plain Javalin
 * handler that takes the same request as a streamed chat (the bearer token verified, the JSON body parsed),
 * answers {@code 200 text/event-stream} with one {@code run_started} frame, and holds the request (servlet
 * async, no timeout) while one shared timer writes a heartbeat frame every interval. It keeps no run, no
 * message and no subscription: what it holds per stream is Jetty's and Javalin's.
 */
final class BareIdleStream {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] STARTED = "event: run_started\ndata: {\"type\":\"run_started\"}\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] HEARTBEAT = "event: heartbeat\ndata: {\"type\":\"heartbeat\"}\n\n".getBytes(StandardCharsets.UTF_8);
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final Authenticator authenticator;
    private final long heartbeatNanos;

    BareIdleStream(Authenticator authenticator, Duration heartbeat) {
        this.authenticator = authenticator;
        this.heartbeatNanos = heartbeat.toNanos();
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "bare-idle-heartbeats");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    void install(JavalinConfig cfg) {
        cfg.routes.post("/bare/idle-sse", this::stream);
    }

    private void stream(Context ctx) throws Exception {
        Optional<String> user = Tokens.user(authenticator, ctx.header("Authorization"));
        if (user.isEmpty()) {
            ctx.status(401).result("{\"code\":\"unauthorized\"}");
            return;
        }
        JsonNode body = JSON.readTree(ctx.bodyAsBytes());
        if (body == null || !body.path("message").isTextual()) {
            ctx.status(422).result("{\"code\":\"validation_failed\"}");
            return;
        }
        ctx.res().setStatus(200);
        ctx.res().setContentType("text/event-stream;charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ServletOutputStream out = ctx.res().getOutputStream();
        out.write(STARTED);
        out.flush();
        ctx.future(() -> {
            AsyncContext async = ctx.req().getAsyncContext();
            async.setTimeout(0);
            Held held = new Held(async, out);
            held.next = TIMER.scheduleAtFixedRate(held::beat, heartbeatNanos, heartbeatNanos, TimeUnit.NANOSECONDS);
            return new CompletableFuture<Void>(); // never completed: the stream ends when the client goes
        });
    }

    /** One held stream: its heartbeats, until a write fails. */
    private static final class Held {
        private final AsyncContext async;
        private final ServletOutputStream out;
        volatile ScheduledFuture<?> next;

        Held(AsyncContext async, ServletOutputStream out) {
            this.async = async;
            this.out = out;
        }

        void beat() {
            try {
                out.write(HEARTBEAT);
                out.flush();
            } catch (IOException | RuntimeException gone) {
                next.cancel(false);
                try {
                    async.complete();
                } catch (RuntimeException alreadyCompleted) {
                    // Jetty failed the request itself
                }
            }
        }
    }
}
