package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Databases;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.ChatStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.springframework.ai.chat.memory.repository.jdbc.JdbcChatMemoryRepository;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.UserMessage;

/**
 * History scaling, Parley beside Spring AI's {@code JdbcChatMemoryRepository} on the same database:
 * the cost of one turn's persistence and of loading the history the model sees, on threads that
 * already hold {@code length} messages.
 * <ul>
 *   <li>{@code parley-store}: what Parley's core does for the history of a turn, through the store
 *       port: read the window ({@code latest(50 + 32)}, as the core does), append the user message,
 *       append the assistant message.</li>
 *   <li>{@code parley-core}: a whole turn through the core (run, step, events, messages), as a
 *       synchronous caller makes it ({@code sendAndAwait}); {@code parley-core-send-await} (not in the
 *       default set) makes it as {@code send}, then {@code await}.</li>
 *   <li>{@code spring-ai}: the repository's turn as Spring AI's chat memory does it: read the
 *       conversation, then {@code saveAll} it with the two new messages (which deletes and re-inserts
 *       the whole conversation). The oldest two are dropped so the length stays {@code length}.</li>
 * </ul>
 * {@code load} is the history read alone: Parley's window read, Spring AI's {@code findByConversationId}.
 * Single-shot timing: every iteration is one operation. Each operation goes to the next of a pool of
 * threads, sized so that no thread grows by more than a tenth (or by 10 messages) during a trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HistoryBenchmark {
    static final int WINDOW = AgentLimits.DEFAULT.historyMessages() + 32;
    private static final String USER = "history";

    @Param({"h2", "postgres"})
    public String store;

    @Param({"parley-store", "parley-core", "spring-ai"})
    public String impl;

    @Param({"10", "100", "1000", "10000"})
    public int length;

    /** Operations a trial makes (warmup and measurement), to size the pool of threads. */
    @Param({"60"})
    public int operations;

    private Databases.Database db;
    private ChatStore parley;
    private Fixtures.Wired wired;
    private JdbcChatMemoryRepository spring;
    private final List<ThreadId> threads = new ArrayList<>();
    private final List<String> conversations = new ArrayList<>();
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        db = Databases.open(Databases.Kind.parse(store), 10);
        int growthAllowed = Math.max(10, length / 10);
        int pool = Math.max(1, (2 * operations + growthAllowed - 1) / growthAllowed);
        if (impl.equals("spring-ai")) {
            db.execute(springSchema(db.kind()));
            spring = JdbcChatMemoryRepository.builder().dataSource(db.dataSource()).build();
            for (int t = 0; t < pool; t++) {
                String id = UUID.randomUUID().toString();
                List<org.springframework.ai.chat.messages.Message> history = new ArrayList<>(length);
                for (int i = 0; i < length; i++) {
                    history.add(i % 2 == 0 ? new UserMessage(Fixtures.LINE) : new AssistantMessage(Fixtures.LINE));
                }
                spring.saveAll(id, history);
                conversations.add(id);
            }
        } else {
            parley = db.chatStore();
            if (impl.startsWith("parley-core")) {
                wired = Fixtures.wire(parley);
            }
            for (int t = 0; t < pool; t++) {
                threads.add(Fixtures.longThread(parley, USER, length));
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (wired != null) {
            wired.close();
        }
        db.close();
    }

    @Benchmark
    public Object turn() throws InterruptedException {
        switch (impl) {
            case "spring-ai": {
                String id = nextConversation();
                List<org.springframework.ai.chat.messages.Message> history = spring.findByConversationId(id);
                List<org.springframework.ai.chat.messages.Message> saved = new ArrayList<>(history.subList(Math.min(2, history.size()),
                        history.size()));
                saved.add(new UserMessage(Fixtures.LINE));
                saved.add(new AssistantMessage(Fixtures.LINE));
                spring.saveAll(id, saved);
                return saved;
            }
            case "parley-core":
                return Fixtures.turn(wired.chat(), USER, nextThread());
            case "parley-core-send-await":
                return Fixtures.sendThenAwait(wired.chat(), USER, nextThread());
            default: {
                ThreadId thread = nextThread();
                List<Message> window = parley.messages().latest(thread, WINDOW);
                parley.messages().append(Fixtures.message(thread, Role.USER, Fixtures.LINE));
                parley.messages().append(Fixtures.message(thread, Role.ASSISTANT, Fixtures.LINE));
                return window;
            }
        }
    }

    @Benchmark
    public Object load() {
        if (impl.equals("spring-ai")) {
            return spring.findByConversationId(nextConversation());
        }
        return parley.messages().latest(nextThread(), WINDOW);
    }

    private ThreadId nextThread() {
        return threads.get(next++ % threads.size());
    }

    private String nextConversation() {
        return conversations.get(next++ % conversations.size());
    }

    /** Spring AI's own schema script for the database, as shipped in its jar. */
    static String[] springSchema(Databases.Kind kind) {
        String name = kind == Databases.Kind.POSTGRES ? "schema-postgresql.sql" : "schema-h2.sql";
        try (InputStream in = JdbcChatMemoryRepository.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("Spring AI's " + name + " is missing");
            }
            String script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return java.util.Arrays.stream(script.split(";")).map(String::trim).filter(s -> !s.isEmpty()).toArray(String[]::new);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
