package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.testsupport.TestPostgres;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * 200 simulated users on the demo server (in this JVM) over PostgreSQL, for
 * {@code PARLEY_SOAK_SECONDS} (default 45; the nightly runs use 300 or 600), each mixing synchronous
 * chats, streamed chats, streams dropped and resumed through {@code /events} with
 * {@code Last-Event-ID}, cancels and history reads. Afterwards the database holds exactly the
 * messages the server acknowledged (every acknowledged user message once, nothing else but
 * messages whose request got no answer; the assistant messages of the completed runs with the
 * streamed or answered text, and the kept partial text of cancelled ones), no run is left queued or
 * in progress, and the heap after GC did not grow. Throughput, latencies, error counts and heap are
 * printed and written to {@code target/soak-report.txt}.
 */
class SoakIT {
    private static final int USERS = 200;
    private static final int THREADS_PER_USER = 2;
    private static final String SECRET = "soak-test-secret-of-at-least-32-bytes!";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration DRAIN = Duration.ofSeconds(60);
    /** Longest a stream may stay open before the client gives up on it. */
    private static final Duration STREAM_LIMIT = Duration.ofSeconds(120);
    private static final int POOL_SIZE = 30;
    /** A user thinks 0.5 to 2.5 s between two actions. */
    private static final int THINK_MIN_MS = 500;
    private static final int THINK_SPREAD_MS = 2000;
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "soak-stream-watchdog");
        t.setDaemon(true);
        return t;
    });
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final Stats stats = new Stats();
    private String base;

    @Test
    void should_keep_exactly_the_acknowledged_messages_and_leave_no_run_active_after_200_users() throws Exception {
        Duration length = Duration.ofSeconds(soakSeconds());
        try (TestPostgres.Schema db = TestPostgres.freshSchema("soak");
             DemoServer server = DemoServer.start(DemoConfig.fromEnvironment(Map.of(
                     "PARLEY_PORT", "0",
                     "PARLEY_DB_URL", db.url(),
                     "PARLEY_JWT_SECRET", SECRET,
                     "PARLEY_RATE_LIMIT", "0",
                     "PARLEY_DB_POOL_SIZE", Integer.toString(POOL_SIZE),
                     "PARLEY_DEMO_TOKEN_DELAY_MS", "20")))) {
            base = "http://localhost:" + server.port();
            DevLogin login = new DevLogin(SECRET.getBytes(StandardCharsets.UTF_8), Clock.systemUTC());
            List<User> users = new ArrayList<>();
            for (int i = 0; i < USERS; i++) {
                users.add(new User(i, login.mint("soak-" + i, Instant.now())));
            }

            // given every user's threads
            long heapBefore = heapAfterGc();
            // when they all chat, stream, resume, cancel and read for the soak's length
            long started = System.nanoTime();
            long deadline = started + length.toNanos();
            List<Long> heapDuring = Collections.synchronizedList(new ArrayList<>());
            ExecutorService workers = userThreads();
            List<Future<?>> running = new ArrayList<>();
            for (User user : users) {
                running.add(workers.submit(() -> user.run(deadline)));
            }
            Thread sampler = new Thread(() -> {
                for (int third = 1; third <= 2; third++) {
                    long at = started + length.toNanos() * third / 3;
                    while (System.nanoTime() < at) {
                        LockSupport.parkNanos(Math.max(1, Math.min(at - System.nanoTime(), 200_000_000L)));
                    }
                    heapDuring.add(heapAfterGc());
                }
            }, "soak-heap-sampler");
            sampler.start();
            long joinBy = deadline + STREAM_LIMIT.toNanos() + TimeUnit.SECONDS.toNanos(30);
            for (Future<?> f : running) {
                try {
                    f.get(Math.max(1, joinBy - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    Thread.getAllStackTraces().forEach((t, stack) -> {
                        System.out.println("THREAD " + t.getName() + " " + t.getState());
                        for (StackTraceElement frame : stack) {
                            System.out.println("    at " + frame);
                        }
                    });
                    throw new AssertionError("users still busy " + STREAM_LIMIT + " after the soak ended; threads printed", e);
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            workers.shutdown();
            sampler.join(TimeUnit.SECONDS.toMillis(30));

            // then no run stays active once the load stopped
            long drainBy = System.nanoTime() + DRAIN.toNanos();
            long active;
            while ((active = db.queryLong("SELECT COUNT(*) FROM parley_runs WHERE status IN ('queued', 'in_progress')")) > 0
                    && System.nanoTime() < drainBy) {
                LockSupport.parkNanos(100_000_000L);
            }
            long heapEnd = heapAfterGc();
            String report = report(seconds, length, heapBefore, heapDuring, heapEnd, db);
            System.out.println(report);
            Path reportFile = Path.of(System.getProperty("parley.soak.report", "target/soak-report.txt"));
            Files.createDirectories(reportFile.toAbsolutePath().getParent());
            Files.writeString(reportFile, report);
            assertThat(active).as("runs still queued or in progress %s after the load", DRAIN).isZero();

            // and the database holds exactly what was acknowledged, thread by thread, read through the API
            List<String> mismatches = new ArrayList<>();
            for (User user : users) {
                for (Ledger ledger : user.ledgers) {
                    mismatches.addAll(user.verify(ledger));
                }
            }
            assertThat(mismatches).as("differences between what was acknowledged and what is stored").isEmpty();
            long acknowledged = users.stream().flatMap(u -> u.ledgers.stream()).mapToLong(l -> l.acknowledged.size()).sum();
            assertThat(db.queryLong("SELECT COUNT(*) FROM parley_messages WHERE role = 'user'"))
                    .isBetween(acknowledged, acknowledged + stats.uncertain.sum());

            // and nothing unexpected happened on the way
            assertThat(stats.protocolErrors).as("protocol errors").isEmpty();
            assertThat(stats.unexpected()).as("unexpected answers").isEmpty();
            assertThat(stats.softTotal()).as("503s, dropped streams and requests without an answer")
                    .isLessThanOrEqualTo(Math.max(10, stats.total() / 50));

            // and the heap after GC did not grow with the number of runs
            long reference = Collections.max(heapDuring.isEmpty() ? List.of(heapBefore) : heapDuring);
            assertThat(heapEnd).as("heap after GC at the end vs during the load").isLessThan(reference * 3 / 2 + (64L << 20));
        }
    }

    private static int soakSeconds() {
        String value = System.getenv("PARLEY_SOAK_SECONDS");
        if (value == null || value.isBlank()) {
            value = System.getProperty("parley.soak.seconds", "45");
        }
        return Integer.parseInt(value.strip());
    }

    /** One virtual thread per user when the JVM has them, else platform threads with a small stack. */
    private static ExecutorService userThreads() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            AtomicInteger n = new AtomicInteger();
            ThreadFactory factory = task -> {
                Thread t = new Thread(null, task, "soak-user-" + n.incrementAndGet(), 256 * 1024);
                t.setDaemon(true);
                return t;
            };
            return Executors.newFixedThreadPool(USERS, factory);
        }
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    // ---- one user ------------------------------------------------------------------------------

    /** What the server acknowledged on one thread. */
    static final class Ledger {
        final String threadId;
        /** User message texts the server acknowledged (a 200, an event stream, or a problem naming the run). */
        final Set<String> acknowledged = new HashSet<>();
        /** User message texts whose request got no answer: stored or not, either is right. */
        final Set<String> uncertain = new HashSet<>();
        /** Assistant message id to "status:text" as the run streamed or answered it. */
        final Map<String, String> assistant = new HashMap<>();

        Ledger(String threadId) {
            this.threadId = threadId;
        }
    }

    final class User {
        final int index;
        final String token;
        final List<Ledger> ledgers = new ArrayList<>();
        final SplittableRandom random;
        int sent;

        User(int index, String token) {
            this.index = index;
            this.token = token;
            this.random = new SplittableRandom(index * 7919L);
        }

        void run(long deadline) {
            try {
                for (int i = 0; i < THREADS_PER_USER; i++) {
                    Response created = timed("create", () -> send("POST", "/api/v1/threads", "{}", null));
                    if (created == null || created.status() != 201) {
                        if (created != null && created.status() == 503) {
                            stats.unavailable.increment();
                        } else if (created != null) {
                            stats.unexpected("create " + created.status());
                        }
                        i--;
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(THINK_MIN_MS));
                        if (System.nanoTime() > deadline) {
                            return;
                        }
                        continue;
                    }
                    ledgers.add(new Ledger(created.json().path("id").asText()));
                }
                while (System.nanoTime() < deadline) {
                    Ledger ledger = ledgers.get(random.nextInt(ledgers.size()));
                    int pick = random.nextInt(100);
                    if (pick < 30) {
                        timed("sync", () -> syncChat(ledger));
                    } else if (pick < 55) {
                        timed("stream", () -> streamChat(ledger));
                    } else if (pick < 70) {
                        timed("resume", () -> dropAndResume(ledger));
                    } else if (pick < 80) {
                        timed("cancel", () -> cancelMidStream(ledger));
                    } else {
                        timed("history", () -> readHistory(ledger));
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(THINK_MIN_MS + random.nextInt(THINK_SPREAD_MS)));
                }
            } catch (RuntimeException e) {
                stats.protocol("user " + index + ": " + e);
            }
        }

        private String text(String what) {
            return "u" + index + " m" + (++sent) + " " + what;
        }

        private Response syncChat(Ledger ledger) {
            String text = text("hello there, how are you");
            Response r = sendChat(ledger, text, false);
            if (r == null) {
                return null;
            }
            if (r.status() == 200) {
                JsonNode reply = r.json();
                ledger.acknowledged.add(text);
                if (reply.path("status").asText().equals("completed")) {
                    ledger.assistant.put(reply.path("message_id").asText(), "completed:" + reply.path("response").asText());
                } else {
                    stats.unexpected("sync status " + reply.path("status").asText());
                }
            } else {
                problem("sync", ledger, text, r);
            }
            return r;
        }

        private Response streamChat(Ledger ledger) {
            String text = text("tell me something nice");
            Stream s = openChat(ledger, text, "{\"message\":" + quote(text) + ",\"stream\":true}");
            if (s == null) {
                return null;
            }
            try (s) {
                s.readToEnd(ledger, text, 1);
            }
            return null;
        }

        private Response dropAndResume(Ledger ledger) {
            String text = text("please count to 30");
            Stream s = openChat(ledger, text, "{\"message\":" + quote(text) + ",\"stream\":true}");
            if (s == null) {
                return null;
            }
            StringBuilder tokens = new StringBuilder();
            String runId;
            long lastSeq;
            try (s) {
                Frame started = s.next();
                if (started == null || !started.type().equals("run_started")) {
                    degraded("resume: first frame " + (started == null ? "none" : started.type()), started);
                    return null;
                }
                runId = started.data().path("run_id").asText();
                lastSeq = started.seq();
                int keep = 1 + random.nextInt(5);
                for (int i = 0; i < keep; i++) {
                    Frame f = s.next();
                    if (f == null) {
                        stats.soft("resume: the stream ended early");
                        return null;
                    }
                    expectSeq(f, lastSeq + 1, "resume before the drop");
                    lastSeq = f.seq();
                    if (f.type().equals("token")) {
                        tokens.append(f.data().path("content").asText());
                    }
                    if (f.type().equals("done")) {
                        ledger.assistant.put(f.data().path("message_id").asText(), "completed:" + tokens);
                        return null;
                    } else if (f.isTerminal()) {
                        degraded("resume: the run ended with " + f.type() + " before the drop", f);
                        return null;
                    }
                }
            } // the client goes away; the run goes on
            Stream rest = open("GET", "/api/v1/threads/" + ledger.threadId + "/runs/" + runId + "/events", null,
                    Map.of("Last-Event-ID", Long.toString(lastSeq)));
            if (rest.problem != null) {
                if (rest.problem.status() == 503) {
                    stats.unavailable.increment();
                    stats.soft("resume: the events route answered 503");
                } else {
                    stats.unexpected("resume " + rest.problem.status() + " " + rest.problem.code());
                }
                return null;
            }
            try (rest) {
                Frame f;
                while ((f = rest.next()) != null) {
                    expectSeq(f, lastSeq + 1, "resume after Last-Event-ID");
                    lastSeq = f.seq();
                    if (f.type().equals("token")) {
                        tokens.append(f.data().path("content").asText());
                    } else if (f.type().equals("done")) {
                        String expected = countTo(30);
                        if (!tokens.toString().equals(expected)) {
                            stats.protocol("resume: tokens '" + tokens + "' instead of the count");
                        }
                        ledger.assistant.put(f.data().path("message_id").asText(), "completed:" + tokens);
                        return null;
                    } else if (f.isTerminal()) {
                        degraded("resumed run ended with " + f.type(), f);
                        return null;
                    }
                }
                stats.soft("resume: the events ended without a terminal event");
            }
            return null;
        }

        private Response cancelMidStream(Ledger ledger) {
            String text = text("now count to 100");
            Stream s = openChat(ledger, text, "{\"message\":" + quote(text) + ",\"stream\":true}");
            if (s == null) {
                return null;
            }
            try (s) {
                Frame started = s.next();
                if (started == null || !started.type().equals("run_started")) {
                    degraded("cancel: first frame " + (started == null ? "none" : started.type()), started);
                    return null;
                }
                String runId = started.data().path("run_id").asText();
                long lastSeq = started.seq();
                StringBuilder tokens = new StringBuilder();
                int before = 1 + random.nextInt(3);
                Frame f = null;
                for (int i = 0; i < before; i++) {
                    f = s.next();
                    if (f == null) {
                        stats.soft("cancel: the stream ended early");
                        return null;
                    }
                    expectSeq(f, lastSeq + 1, "cancel before the cancel");
                    lastSeq = f.seq();
                    if (f.type().equals("token")) {
                        tokens.append(f.data().path("content").asText());
                    }
                }
                Response cancel = timed("cancel_request", () -> send("POST",
                        "/api/v1/threads/" + ledger.threadId + "/runs/" + runId + "/cancel", "{}", null));
                if (cancel == null) {
                    // no answer (timed counted it): the stream below still tells how the run ended
                } else if (cancel.status() == 503) {
                    stats.unavailable.increment();
                } else if (cancel.status() != 200 && cancel.status() != 409) {
                    stats.unexpected("cancel " + cancel.status() + " " + cancel.code());
                }
                while ((f = s.next()) != null) {
                    expectSeq(f, lastSeq + 1, "cancel after the cancel");
                    lastSeq = f.seq();
                    if (f.type().equals("token")) {
                        tokens.append(f.data().path("content").asText());
                    } else if (f.type().equals("cancelled")) {
                        JsonNode kept = f.data().path("message_id");
                        if (!kept.isNull() && !kept.isMissingNode()) {
                            ledger.assistant.put(kept.asText(), "incomplete:" + tokens);
                        } else if (tokens.length() > 0) {
                            stats.protocol("cancel: text was streamed but no partial message kept");
                        }
                        return cancel;
                    } else if (f.type().equals("done")) {
                        ledger.assistant.put(f.data().path("message_id").asText(), "completed:" + tokens);
                        return cancel;
                    } else if (f.isTerminal()) {
                        degraded("cancelled run ended with " + f.type(), f);
                        return cancel;
                    }
                }
                stats.soft("cancel: the stream ended without a terminal event");
                return cancel;
            }
        }

        private Response readHistory(Ledger ledger) {
            Response r = send("GET", "/api/v1/threads/" + ledger.threadId + "/messages?limit=50&order=desc", null, null);
            if (r != null && r.status() == 503) {
                stats.unavailable.increment();
            } else if (r != null && r.status() != 200) {
                stats.unexpected("history " + r.status());
            }
            return r;
        }

        /** A chat whose answer is read whole; null (and counted) when the request got no answer. */
        private Response sendChat(Ledger ledger, String text, boolean stream) {
            try {
                return send("POST", "/api/v1/threads/" + ledger.threadId + "/chat",
                        "{\"message\":" + quote(text) + (stream ? ",\"stream\":true" : "") + "}", null);
            } catch (UncheckedIOException e) {
                ledger.uncertain.add(text);
                stats.noAnswer(e);
                return null;
            }
        }

        private Stream openChat(Ledger ledger, String text, String body) {
            Stream s;
            try {
                s = open("POST", "/api/v1/threads/" + ledger.threadId + "/chat", body, Map.of());
            } catch (UncheckedIOException e) {
                ledger.uncertain.add(text);
                stats.noAnswer(e);
                return null;
            }
            if (s != null && s.problem != null) {
                problem("stream", ledger, text, s.problem);
                return null;
            }
            // a 200 event stream comes only once the message and its run are stored
            ledger.acknowledged.add(text);
            return s;
        }

        /** A chat answered with a problem: stored when the problem names its run. */
        private void problem(String what, Ledger ledger, String text, Response r) {
            if (r.json().hasNonNull("run_id")) {
                ledger.acknowledged.add(text);
            }
            if (r.status() == 503) {
                stats.unavailable.increment();
            } else if (r.status() == 409 && r.code().equals("run_in_progress") && stats.soft.size() > 0) {
                stats.soft(what + " 409 after a dropped stream");
            } else {
                stats.unexpected(what + " " + r.status() + " " + r.code());
            }
        }

        private void expectSeq(Frame f, long expected, String where) {
            if (f.seq() != expected) {
                stats.protocol(where + ": seq " + f.seq() + " after " + (expected - 1));
            }
        }

        // ---- the check at the end ----

        List<String> verify(Ledger ledger) {
            List<String> problems = new ArrayList<>();
            String where = "user " + index + " thread " + ledger.threadId + ": ";
            List<JsonNode> messages = all("/api/v1/threads/" + ledger.threadId + "/messages");
            List<JsonNode> runs = all("/api/v1/threads/" + ledger.threadId + "/runs");
            Map<String, Integer> userTexts = new HashMap<>();
            Map<String, String> assistants = new HashMap<>();
            long completedAnswers = 0;
            for (JsonNode m : messages) {
                String text = m.path("content").path(0).path("text").asText();
                switch (m.path("role").asText()) {
                    case "user" -> userTexts.merge(text, 1, Integer::sum);
                    case "assistant" -> {
                        assistants.put(m.path("id").asText(), m.path("status").asText() + ":" + text);
                        completedAnswers += m.path("status").asText().equals("completed") ? 1 : 0;
                    }
                    default -> problems.add(where + "unexpected role " + m.path("role").asText());
                }
            }
            for (String text : ledger.acknowledged) {
                if (userTexts.getOrDefault(text, 0) != 1) {
                    problems.add(where + "acknowledged '" + text + "' stored " + userTexts.getOrDefault(text, 0) + " times");
                }
            }
            for (Map.Entry<String, Integer> stored : userTexts.entrySet()) {
                if (!ledger.acknowledged.contains(stored.getKey()) && !ledger.uncertain.contains(stored.getKey())) {
                    problems.add(where + "stored '" + stored.getKey() + "' that was never acknowledged");
                }
            }
            for (Map.Entry<String, String> expected : ledger.assistant.entrySet()) {
                String stored = assistants.get(expected.getKey());
                if (!expected.getValue().equals(stored)) {
                    problems.add(where + "assistant " + expected.getKey() + " is '" + stored + "', expected '" + expected.getValue() + "'");
                }
            }
            long completedRuns = runs.stream().filter(r -> r.path("status").asText().equals("completed")).count();
            if (completedRuns != completedAnswers) {
                problems.add(where + completedRuns + " completed runs but " + completedAnswers + " completed answers");
            }
            runs.stream().filter(r -> !Set.of("completed", "failed", "cancelled").contains(r.path("status").asText()))
                    .forEach(r -> problems.add(where + "run " + r.path("id").asText() + " is " + r.path("status").asText()));
            if (runs.size() != userTexts.values().stream().mapToInt(Integer::intValue).sum()) {
                problems.add(where + runs.size() + " runs for " + userTexts.size() + " user messages");
            }
            return problems;
        }

        private List<JsonNode> all(String path) {
            List<JsonNode> items = new ArrayList<>();
            String cursor = null;
            do {
                Response page = send("GET", path + "?limit=100" + (cursor == null ? ""
                        : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)), null, null);
                assertThat(page.status()).as(page.body()).isEqualTo(200);
                page.json().path("data").forEach(items::add);
                cursor = page.json().path("has_more").asBoolean() ? page.json().path("next_cursor").asText() : null;
            } while (cursor != null);
            return items;
        }

        // ---- HTTP ----

        private Response send(String method, String path, String body, Map<String, String> headers) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(REQUEST_TIMEOUT)
                    .header("Authorization", "Bearer " + token)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            if (headers != null) {
                headers.forEach(b::header);
            }
            try {
                HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                return new Response(r.statusCode(), r.body());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** An event stream, or a {@link Stream} holding the problem when the answer is not one. */
        private Stream open(String method, String path, String body, Map<String, String> headers) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(REQUEST_TIMEOUT)
                    .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            headers.forEach(b::header);
            try {
                HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                if (r.statusCode() != 200) {
                    try (InputStream in = r.body()) {
                        return new Stream(null, new Response(r.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8)));
                    }
                }
                return new Stream(r.body(), null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private <T> T timed(String kind, java.util.function.Supplier<T> op) {
            long t0 = System.nanoTime();
            try {
                return op.get();
            } catch (UncheckedIOException e) {
                stats.noAnswer(e);
                return null;
            } finally {
                stats.record(kind, System.nanoTime() - t0);
            }
        }
    }

    private static String countTo(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            sb.append(i == 1 ? "" : " ").append(i);
        }
        return sb.toString();
    }

    private static String quote(String text) {
        try {
            return JSON.writeValueAsString(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- wire ----------------------------------------------------------------------------------

    record Response(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }

        String code() {
            return status >= 400 ? json().path("code").asText() : "";
        }
    }

    record Frame(String type, long seq, JsonNode data) {
        boolean isTerminal() {
            return type.equals("done") || type.equals("error") || type.equals("cancelled");
        }
    }

    /** Reads SSE frames (heartbeats skipped); closing it drops the connection. */
    final class Stream implements AutoCloseable {
        final Response problem;
        private final InputStream in;
        private final BufferedReader reader;
        private final ScheduledFuture<?> giveUp;

        Stream(InputStream in, Response problem) {
            this.in = in;
            this.problem = problem;
            this.reader = in == null ? null : new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            this.giveUp = in == null ? null : WATCHDOG.schedule(this::drop, STREAM_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void drop() {
            stats.unexpected("a stream still open after " + STREAM_LIMIT);
            close();
        }

        /** The next event, or null at the end of the stream. */
        Frame next() {
            try {
                String event = null;
                StringBuilder data = new StringBuilder();
                String line;
                while ((line = reader.readLine()) != null) {
                    if (line.isEmpty()) {
                        if (event != null && !event.equals("heartbeat")) {
                            JsonNode json = JSON.readTree(data.toString());
                            return new Frame(event, json.path("seq").asLong(), json);
                        }
                        event = null;
                        data.setLength(0);
                    } else if (line.startsWith("event: ")) {
                        event = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        data.append(line.substring(6));
                    }
                }
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Reads to the terminal event, checking seqs from {@code firstSeq}; answers the terminal type. */
        String readToEnd(Ledger ledger, String text, long firstSeq) {
            StringBuilder tokens = new StringBuilder();
            long expected = firstSeq;
            Frame f;
            while ((f = next()) != null) {
                if (f.seq() != expected) {
                    stats.protocol("stream: seq " + f.seq() + " where " + expected + " was due");
                }
                expected = f.seq() + 1;
                switch (f.type()) {
                    case "token" -> tokens.append(f.data().path("content").asText());
                    case "done" -> {
                        ledger.assistant.put(f.data().path("message_id").asText(), "completed:" + tokens);
                        return "done";
                    }
                    case "error", "cancelled" -> {
                        degraded("stream ended with " + f.type(), f);
                        return f.type();
                    }
                    default -> { }
                }
            }
            stats.soft("stream: ended without a terminal event");
            return "eof";
        }

        @Override
        public void close() {
            if (giveUp != null) {
                giveUp.cancel(false);
            }
            if (in != null) {
                try {
                    in.close();
                } catch (IOException e) {
                    // the connection is dropped either way
                }
            }
        }
    }

    /** A run that ended with an error: tolerated when the store was unavailable (counted), unexpected otherwise. */
    private void degraded(String what, Frame frame) {
        if (frame != null && frame.type().equals("error") && frame.data().path("code").asText().equals("unavailable")) {
            stats.soft(what + " unavailable");
        } else if (frame == null) {
            stats.soft(what);
        } else {
            stats.unexpected(what + " " + frame.data().path("code").asText());
        }
    }

    // ---- numbers -------------------------------------------------------------------------------

    static final class Stats {
        final Map<String, ConcurrentLinkedQueue<Long>> latencies = new ConcurrentHashMap<>();
        final Map<String, LongAdder> unexpected = new ConcurrentHashMap<>();
        /** What a system under stress may do without losing or inventing anything: drop a stream, fail a run on an unavailable store. */
        final Map<String, LongAdder> soft = new ConcurrentHashMap<>();
        final List<String> protocolErrors = Collections.synchronizedList(new ArrayList<>());
        final LongAdder unavailable = new LongAdder();
        final LongAdder uncertain = new LongAdder();
        final Map<String, LongAdder> noAnswer = new ConcurrentHashMap<>();
        final AtomicLong ops = new AtomicLong();

        void record(String kind, long nanos) {
            latencies.computeIfAbsent(kind, k -> new ConcurrentLinkedQueue<>()).add(nanos);
            ops.incrementAndGet();
        }

        void unexpected(String what) {
            unexpected.computeIfAbsent(what, k -> new LongAdder()).increment();
        }

        void soft(String what) {
            soft.computeIfAbsent(what, k -> new LongAdder()).increment();
        }

        long softTotal() {
            return soft.values().stream().mapToLong(LongAdder::sum).sum() + unavailable.sum() + uncertain.sum();
        }

        void protocol(String what) {
            if (protocolErrors.size() < 100) {
                protocolErrors.add(what);
            }
        }

        void noAnswer(Exception e) {
            uncertain.increment();
            noAnswer.computeIfAbsent(e.getCause() == null ? e.getClass().getSimpleName() : e.getCause().getClass().getSimpleName(),
                    k -> new LongAdder()).increment();
        }

        Map<String, Long> unexpected() {
            Map<String, Long> all = new TreeMap<>();
            unexpected.forEach((k, v) -> all.put(k, v.sum()));
            return all;
        }

        Map<String, Long> tolerated() {
            Map<String, Long> all = new TreeMap<>();
            soft.forEach((k, v) -> all.put(k, v.sum()));
            noAnswer.forEach((k, v) -> all.put("no answer: " + k, v.sum()));
            return all;
        }

        long total() {
            return ops.get();
        }
    }

    private String report(double seconds, Duration length, long heapBefore, List<Long> heapDuring, long heapEnd, TestPostgres.Schema db) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Parley soak: %d users for %d s (%.1f s with the last requests) on PostgreSQL, Java %s, %d cores%n",
                USERS, length.toSeconds(), seconds, System.getProperty("java.version"), Runtime.getRuntime().availableProcessors()));
        sb.append(String.format("  operations: %d (%.1f/s)%n", stats.total(), stats.total() / seconds));
        for (Map.Entry<String, ConcurrentLinkedQueue<Long>> kind : new TreeMap<>(stats.latencies).entrySet()) {
            List<Long> sorted = new ArrayList<>(kind.getValue());
            Collections.sort(sorted);
            sb.append(String.format("  %-15s %6d  %7.1f/s  p50 %6.0f ms  p95 %6.0f ms  p99 %6.0f ms  max %6.0f ms%n", kind.getKey(),
                    sorted.size(), sorted.size() / seconds, pct(sorted, 50), pct(sorted, 95), pct(sorted, 99), pct(sorted, 100)));
        }
        sb.append(String.format("  stored: %d messages (%d user), %d runs (%d completed, %d cancelled, %d failed), %d event log chunks%n",
                db.queryLong("SELECT COUNT(*) FROM parley_messages"), db.queryLong("SELECT COUNT(*) FROM parley_messages WHERE role = 'user'"),
                db.queryLong("SELECT COUNT(*) FROM parley_runs"), db.queryLong("SELECT COUNT(*) FROM parley_runs WHERE status = 'completed'"),
                db.queryLong("SELECT COUNT(*) FROM parley_runs WHERE status = 'cancelled'"),
                db.queryLong("SELECT COUNT(*) FROM parley_runs WHERE status = 'failed'"), db.queryLong("SELECT COUNT(*) FROM parley_run_event_chunks")));
        sb.append(String.format("  left active: %d queued, %d in progress%n",
                db.queryLong("SELECT COUNT(*) FROM parley_runs WHERE status = 'queued'"),
                db.queryLong("SELECT COUNT(*) FROM parley_runs WHERE status = 'in_progress'")));
        sb.append(String.format("  errors: %d 503s, %d requests without an answer, tolerated %s, unexpected %s, protocol %s%n",
                stats.unavailable.sum(), stats.uncertain.sum(), stats.tolerated(), stats.unexpected(), stats.protocolErrors));
        sb.append(String.format("  heap after GC: %d MiB before, %s MiB during, %d MiB after draining%n",
                heapBefore >> 20, heapDuring.stream().map(h -> Long.toString(h >> 20)).toList(), heapEnd >> 20));
        return sb.toString();
    }

    private static double pct(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int i = Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1);
        return sorted.get(Math.max(0, i)) / 1e6;
    }
}
