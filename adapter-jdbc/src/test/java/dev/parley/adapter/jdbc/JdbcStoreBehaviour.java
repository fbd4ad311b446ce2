package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.model.UsageTotals;
import dev.parley.chat.port.out.IdempotencyRecord;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the JDBC store promises beyond the contract suites: lossless text, database-enforced
 * concurrency, complete hard deletes, transactions that survive a caught conflict. Run on H2 and on
 * PostgreSQL by the subclasses.
 */
abstract class JdbcStoreBehaviour {
    static final IdGenerator IDS = IdGenerator.timeOrdered();
    static final String TRICKY = "nul\u0000between, escape \uFFFF and \uFFFF0, emoji 😀👩‍👩‍👧, RTL שלום مرحبا, \\u0000 literal";

    JdbcChatStore store;

    abstract TestDatabase db();

    @BeforeEach
    void freshStore() {
        store = db().freshStore();
    }

    static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    ChatThread aThread(String owner) {
        ChatThread thread = ChatThread.create(ThreadId.next(IDS), owner, "agent", null, Map.of(), now());
        store.threads().insert(thread);
        return thread;
    }

    static Message userMessage(ThreadId thread, String text) {
        return Message.user(MessageId.next(IDS), thread, text, now());
    }

    Run aQueuedRun(ThreadId thread) {
        Message m = store.messages().append(userMessage(thread, "hello"));
        Run run = Run.queued(RunId.next(IDS), thread, "agent", "model", m.id(), now());
        store.runs().insert(run);
        return run;
    }

    @Test
    void should_round_trip_nul_and_full_unicode_in_every_text_column() {
        // given
        ChatThread thread = ChatThread.create(ThreadId.next(IDS), "owner" + TRICKY, "agent", TRICKY,
                Map.of(TRICKY, TRICKY), now());
        store.threads().insert(thread);
        Message message = new Message(MessageId.next(IDS), thread.id(), null, 0, Role.ASSISTANT,
                List.of(ContentPart.text(TRICKY), ContentPart.imageUrl("data:" + TRICKY)), MessageStatus.INCOMPLETE,
                List.of(new ToolCall("call" + TRICKY, "name" + TRICKY, "{\"q\":\"" + TRICKY.replace("\\", "\\\\") + "\"}")),
                null, Map.of("k", TRICKY), now());
        Message tool = Message.toolResult(MessageId.next(IDS), thread.id(), "call" + TRICKY, TRICKY, now());
        Run run = aQueuedRun(thread.id());
        Run failed = run.failed(now(), new RunError("code" + TRICKY, TRICKY), null, Usage.ZERO, null);
        Step step = Step.toolCall(StepId.next(IDS), run.id(), 1, new ToolCall("c" + TRICKY, "n", TRICKY), now())
                .completed(now(), TRICKY, Usage.reported(1, 2));
        RunEvent token = new RunEvent.Token(run.id(), 1, TRICKY);
        RunEvent end = new RunEvent.TraceEnd(run.id(), 2, step.id(), StepStatus.FAILED, null, TRICKY, 3);
        IdempotencyRecord key = new IdempotencyRecord("owner" + TRICKY, TRICKY, "key" + TRICKY, "hash", thread.id(),
                run.id(), now());

        // when
        Message storedMessage = store.messages().append(message);
        Message storedTool = store.messages().append(tool);
        store.runs().update(failed, RunStatus.QUEUED);
        store.runs().insertStep(step);
        store.events().append(List.of(token, end));
        store.idempotency().insert(key);

        // then: the thread as given, but for updated_at, which its newest message moved on, and its usage,
        // which counts the run that failed
        ChatThread updated = thread.touched(store.messages().latest(thread.id(), 10).stream().map(Message::createdAt)
                .max(Instant::compareTo).orElseThrow()).withUsage(UsageTotals.ofRun(Usage.ZERO, null));
        assertThat(store.threads().find(thread.id())).contains(updated);
        assertThat(store.threads().list(thread.ownerId(), null, PageRequest.firstPage()).items()).containsExactly(updated);
        assertThat(store.messages().find(message.id())).contains(storedMessage);
        assertThat(store.messages().find(tool.id())).contains(storedTool);
        assertThat(storedMessage.text()).isEqualTo(TRICKY);
        assertThat(store.runs().find(run.id())).contains(failed);
        assertThat(store.runs().steps(run.id())).containsExactly(step);
        assertThat(store.events().read(run.id(), 0, 10)).containsExactly(token, end);
        assertThat(store.idempotency().find(key.ownerId(), key.scope(), key.key())).contains(key);
    }

    @Test
    void should_keep_a_message_of_32000_emoji_whole() {
        // given
        ChatThread thread = aThread("alice");
        String text = "😀".repeat(32_000);

        // when
        Message stored = store.messages().append(userMessage(thread.id(), text));

        // then
        assertThat(store.messages().find(stored.id()).orElseThrow().text()).isEqualTo(text);
    }

    @Test
    void should_read_back_instants_truncated_to_microseconds() {
        // given
        Instant withNanos = Instant.parse("2026-11-22T10:30:00.123456789Z");
        ChatThread thread = ChatThread.create(ThreadId.next(IDS), "alice", "agent", null, Map.of(), withNanos);

        // when
        store.threads().insert(thread);

        // then
        ChatThread read = store.threads().find(thread.id()).orElseThrow();
        assertThat(read.createdAt()).isEqualTo(Instant.parse("2026-11-22T10:30:00.123456Z"));
        assertThat(read.updatedAt()).isEqualTo(read.createdAt());
    }

    @Test
    void should_keep_cost_and_usage_exactly() {
        // given
        ChatThread thread = aThread("alice");
        Run run = aQueuedRun(thread.id()).started(now());
        store.runs().update(run, RunStatus.QUEUED);
        Run done = run.completed(now(), null, Usage.estimated(12, 34), new BigDecimal("0.00120000"));

        // when
        store.runs().update(done, RunStatus.IN_PROGRESS);

        // then
        Run read = store.runs().find(run.id()).orElseThrow();
        assertThat(read).isEqualTo(done);
        assertThat(read.costUsd().scale()).isEqualTo(8);
    }

    @Test
    void should_round_trip_every_event_type() {
        // given
        ChatThread thread = aThread("alice");
        RunId run = aQueuedRun(thread.id()).id();
        StepId step = StepId.next(IDS);
        MessageId message = MessageId.next(IDS);
        List<RunEvent> events = List.of(
                new RunEvent.RunStarted(run, 1, thread.id(), message, "agent"),
                new RunEvent.Thinking(run, 2, "hmm"),
                new RunEvent.Token(run, 3, "Hel"),
                new RunEvent.TraceStart(run, 4, step, new ToolCall("c1", "clock", "{\"tz\": \"UTC\"}")),
                new RunEvent.TraceUpdate(run, 5, step, "half way"),
                new RunEvent.TraceEnd(run, 6, step, StepStatus.COMPLETED, "12:00", null, 15),
                new RunEvent.Token(run, 7, "lo"),
                new RunEvent.Done(run, 8, thread.id(), message, Usage.reported(5, 7), new BigDecimal("0.00001000")));
        RunId other = aQueuedRun(thread.id()).id();
        List<RunEvent> otherEvents = List.of(new RunEvent.Error(other, 1, "model_error", "upstream failed"));
        RunId third = aQueuedRun(thread.id()).id();
        List<RunEvent> thirdEvents = List.of(new RunEvent.Cancelled(third, 1, null));

        // when
        store.events().append(events);
        store.events().append(otherEvents);
        store.events().append(thirdEvents);

        // then
        assertThat(store.events().read(run, 0, 100)).isEqualTo(events);
        assertThat(store.events().read(run, 6, 100)).isEqualTo(events.subList(6, 8));
        assertThat(store.events().lastSeq(run)).isEqualTo(8);
        assertThat(store.events().read(other, 0, 100)).isEqualTo(otherEvents);
        assertThat(store.events().read(third, 0, 100)).isEqualTo(thirdEvents);
    }

    @Test
    void should_undo_every_call_of_a_transaction_that_throws() {
        // given
        ChatThread thread = aThread("alice");
        IllegalStateException boom = new IllegalStateException("boom");

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.messages().append(userMessage(thread.id(), "one"));
            store.inTransaction(() -> store.messages().append(userMessage(thread.id(), "two")));
            aQueuedRun(thread.id());
            throw boom;
        })).isSameAs(boom);

        // then
        assertThat(store.messages().count(thread.id())).isZero();
        assertThat(store.messages().latest(thread.id(), 10)).isEmpty();
        assertThat(store.runs().active(thread.id())).isEmpty();
    }

    @Test
    void should_leave_no_orphan_rows_after_a_hard_delete() {
        // given
        ChatThread doomed = aThread("alice");
        ChatThread kept = aThread("alice");
        for (ChatThread thread : List.of(doomed, kept)) {
            Run run = aQueuedRun(thread.id());
            store.runs().insertStep(Step.messageCreation(StepId.next(IDS), run.id(), 1, now()));
            store.events().append(List.of(new RunEvent.Token(run.id(), 1, "a"), new RunEvent.Token(run.id(), 2, "b")));
            store.idempotency().insert(new IdempotencyRecord("alice", thread.id().value(), "k", "h", thread.id(), run.id(), now()));
        }
        store.threads().softDelete(doomed.id(), now());

        // when
        boolean removed = store.threads().hardDelete(doomed.id());

        // then
        assertThat(removed).isTrue();
        assertThat(db().count("parley_threads")).isEqualTo(1);
        assertThat(db().count("parley_messages")).isEqualTo(1);
        assertThat(db().count("parley_runs")).isEqualTo(1);
        assertThat(db().count("parley_steps")).isEqualTo(1);
        assertThat(db().count("parley_run_event_chunks")).isEqualTo(1); // the kept run's two events, one chunk
        assertThat(db().count("parley_idempotency_keys")).isEqualTo(1);
        assertThat(store.threads().hardDelete(doomed.id())).isFalse();
    }

    @Test
    void should_keep_every_row_of_a_soft_deleted_thread() {
        // given
        ChatThread thread = aThread("alice");
        Run run = aQueuedRun(thread.id());
        store.events().append(List.of(new RunEvent.Token(run.id(), 1, "a")));

        // when
        store.threads().softDelete(thread.id(), now());

        // then
        assertThat(store.threads().find(thread.id())).isEmpty();
        assertThat(store.runs().find(run.id())).isEmpty();
        assertThat(db().count("parley_threads")).isEqualTo(1);
        assertThat(db().count("parley_messages")).isEqualTo(1);
        assertThat(db().count("parley_runs")).isEqualTo(1);
        assertThat(db().count("parley_run_event_chunks")).isEqualTo(1);
    }

    @Test
    void should_start_exactly_one_run_when_many_senders_race_on_one_thread() throws Exception {
        // given
        ChatThread thread = aThread("alice");
        int senders = 16;

        // when
        List<Boolean> started = race(senders, () -> store.inTransaction(() -> {
            store.threads().lock(thread.id()).orElseThrow();
            Message m = store.messages().append(userMessage(thread.id(), "hi"));
            Run run = Run.queued(RunId.next(IDS), thread.id(), "agent", null, m.id(), now());
            store.runs().insert(run);
            boolean idle = store.runs().active(thread.id()).stream().noneMatch(r -> r.status() == RunStatus.IN_PROGRESS);
            return idle && store.runs().update(run.started(now()), RunStatus.QUEUED);
        }));

        // then
        assertThat(started).filteredOn(s -> s).hasSize(1);
        List<Run> active = store.runs().active(thread.id());
        assertThat(active).hasSize(senders);
        assertThat(active).filteredOn(r -> r.status() == RunStatus.IN_PROGRESS).hasSize(1);
        assertThat(store.messages().page(thread.id(), PageRequest.first(100), SortOrder.ASC).items())
                .extracting(Message::position)
                .containsExactlyElementsOf(positions(senders));
    }

    @Test
    void should_let_the_database_refuse_a_second_run_in_progress_even_without_locks() throws Exception {
        // given
        ChatThread thread = aThread("alice");
        List<Run> queued = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            queued.add(aQueuedRun(thread.id()));
        }

        // when
        List<String> outcomes = race(queued.size(), new Callable<>() {
            private int next;

            @Override
            public String call() {
                Run run;
                synchronized (this) {
                    run = queued.get(next++);
                }
                try {
                    return store.runs().update(run.started(now()), RunStatus.QUEUED) ? "started" : "lost";
                } catch (ConflictException e) {
                    return e.code();
                }
            }
        });

        // then
        assertThat(outcomes).filteredOn("started"::equals).hasSize(1);
        assertThat(outcomes).filteredOn("run_in_progress"::equals).hasSize(queued.size() - 1);
    }

    @Test
    void should_let_exactly_one_of_racing_idempotency_keys_win() throws Exception {
        // given
        ChatThread thread = aThread("alice");
        Run run = aQueuedRun(thread.id());

        // when
        List<String> outcomes = race(12, () -> {
            try {
                store.idempotency().insert(new IdempotencyRecord("alice", thread.id().value(), "same-key", "h",
                        thread.id(), run.id(), now()));
                return "inserted";
            } catch (ConflictException e) {
                return e.code();
            }
        });

        // then
        assertThat(outcomes).filteredOn("inserted"::equals).hasSize(1);
        assertThat(outcomes).filteredOn("duplicate"::equals).hasSize(11);
    }

    @Test
    void should_refuse_cursors_it_did_not_make() {
        // given
        ChatThread thread = aThread("alice");
        String threadCursor = Cursors.time("t1", now(), thread.id().value());

        // then
        for (String bad : List.of("%%%", "bm90IGEgY3Vyc29y", threadCursor, "x".repeat(2000))) {
            assertThatThrownBy(() -> store.messages().page(thread.id(), new PageRequest(10, bad), SortOrder.ASC))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                        assertThat(e.code()).isEqualTo("invalid_parameter");
                        assertThat(e.errors()).extracting(f -> f.field()).containsExactly("cursor");
                    });
            assertThatThrownBy(() -> store.runs().page(thread.id(), new PageRequest(10, bad)))
                    .isInstanceOf(InvalidRequestException.class);
        }
        assertThatThrownBy(() -> store.threads().list("alice", null, new PageRequest(10, "bm90IGEgY3Vyc29y")))
                .isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void should_open_an_existing_database_without_migrating_it_again() {
        // given
        ChatThread thread = aThread("alice");

        // when
        try (JdbcChatStore second = JdbcChatStores.create(db().url())) {
            // then
            assertThat(second.threads().find(thread.id())).contains(thread);
            assertThat(second.database()).isEqualTo(db().vendor().name().toLowerCase(java.util.Locale.ROOT));
            second.ping();
        }
    }

    @Test
    void should_keep_its_tables_in_the_schema_it_is_given() throws SQLException {
        // given
        String schema = "parley_extra_" + Long.toHexString(System.nanoTime());

        // when
        try (JdbcChatStore other = JdbcChatStores.builder().url(db().url()).schema(schema).build()) {
            ChatThread thread = ChatThread.create(ThreadId.next(IDS), "bob", "agent", null, Map.of(), now());
            other.threads().insert(thread);

            // then
            assertThat(other.threads().find(thread.id())).contains(thread);
            assertThat(store.threads().find(thread.id())).isEmpty();
        } finally {
            try (Connection c = db().connect(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA \"" + schema + "\" CASCADE");
            }
        }
    }

    static List<Long> positions(int n) {
        List<Long> out = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            out.add(i);
        }
        return out;
    }

    @Test
    void should_make_two_consecutive_versions_from_two_concurrent_patches() throws Exception {
        // given: version 1 of an agent, and two writers that each read the latest version and add the next
        StoredAgent v1 = StoredAgent.create(IDS.next(StoredAgent.ID_PREFIX), "alice",
                new AgentDefinition("Agent", null, "Be brief.", null, null, null, null, null, null), now());
        store.agents().create(v1);
        java.util.concurrent.atomic.AtomicInteger writer = new java.util.concurrent.atomic.AtomicInteger();

        // when: each patch retries on the new latest version when it lost the race, as the core does
        List<Integer> versions = race(2, () -> {
            String name = "Writer " + writer.incrementAndGet();
            for (int attempt = 0; ; attempt++) {
                try {
                    StoredAgent latest = store.agents().find(v1.id()).orElseThrow();
                    StoredAgent next = latest.nextVersion(new AgentDefinition(name, null, "Be brief.", null, null, null, null,
                            null, null), now());
                    store.agents().addVersion(next);
                    return next.version();
                } catch (ConflictException e) {
                    assertThat(e.code()).isEqualTo("agent_version_conflict");
                    assertThat(attempt).isLessThan(10);
                }
            }
        });

        // then: versions 2 and 3, each patch in one of them, nothing lost, nothing doubled
        assertThat(versions).containsExactlyInAnyOrder(2, 3);
        assertThat(store.agents().versions(v1.id(), PageRequest.firstPage()).items())
                .extracting(a -> a.definition().name()).containsExactlyInAnyOrder("Writer 1", "Writer 2", "Agent");
        assertThat(db().count("parley_agent_versions")).isEqualTo(3);
    }

    @Test
    void should_refuse_a_second_row_for_one_version_in_the_database_itself() throws Exception {
        StoredAgent v1 = StoredAgent.create(IDS.next(StoredAgent.ID_PREFIX), "alice",
                new AgentDefinition("Agent", null, "", null, null, null, null, null, null), now());
        store.agents().create(v1);

        try (java.sql.Connection c = db().connect();
             java.sql.PreparedStatement s = c.prepareStatement("INSERT INTO parley_agent_versions (agent_id, version, definition,"
                     + " created_at) SELECT agent_id, version, definition, created_at FROM parley_agent_versions WHERE agent_id = ?")) {
            s.setString(1, v1.id());
            assertThatThrownBy(s::executeUpdate).isInstanceOf(java.sql.SQLException.class);
        }
    }

    /** Runs {@code task} on {@code n} threads released at once; returns the results. */
    static <T> List<T> race(int n, Callable<T> task) throws Exception {
        return dev.parley.testsupport.Race.of(n, task);
    }
}
