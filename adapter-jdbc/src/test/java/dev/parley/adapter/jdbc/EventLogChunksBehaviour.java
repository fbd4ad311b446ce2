package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The event log's chunks: a finished log rewritten into packed rows replays the same events, also to readers racing the rewrite. */
abstract class EventLogChunksBehaviour {
    abstract TestDatabase db();

    JdbcChatStore store;
    EventLogCompaction compaction;

    @BeforeEach
    void freshStore() {
        store = db().freshStore();
        compaction = ((JdbiChatStore) store).compaction();
    }

    private Run aRun() {
        ChatThread thread = ChatThread.create(ThreadId.next(JdbcStoreBehaviour.IDS), "alice", "agent", null, null, JdbcStoreBehaviour.now());
        store.threads().insert(thread);
        var message = store.messages().append(JdbcStoreBehaviour.userMessage(thread.id(), "hi"));
        Run run = Run.queued(RunId.next(JdbcStoreBehaviour.IDS), thread.id(), "agent", "model", message.id(), JdbcStoreBehaviour.now());
        store.runs().insert(run);
        return run;
    }

    /** run_started, {@code tokens} tokens (with a NUL and an emoji among them), done. */
    private static List<RunEvent> answer(Run run, int tokens) {
        List<RunEvent> events = new ArrayList<>();
        events.add(new RunEvent.RunStarted(run.id(), 1, run.threadId(), run.userMessageId(), "agent"));
        for (int i = 0; i < tokens; i++) {
            events.add(new RunEvent.Token(run.id(), i + 2, i == 7 ? " nul\u0000 😀" : " " + i));
        }
        events.add(new RunEvent.Done(run.id(), tokens + 2, run.threadId(), new MessageId("msg_done"), new Usage(3, tokens, false), null));
        return events;
    }

    /** Appends the events in flushes of {@code per} events, as the event bus does while a run streams. */
    private void appendInFlushes(List<RunEvent> events, int per) {
        for (int i = 0; i < events.size(); i += per) {
            store.events().append(events.subList(i, Math.min(events.size(), i + per)));
        }
    }

    private List<RunEvent> readAll(RunId run, long after, int page) {
        List<RunEvent> all = new ArrayList<>();
        for (;;) {
            List<RunEvent> next = store.events().read(run, after, page);
            if (next.isEmpty()) {
                return all;
            }
            all.addAll(next);
            after = next.get(next.size() - 1).seq();
        }
    }

    private long chunksOf(RunId run) {
        return count("SELECT COUNT(*) FROM parley_run_event_chunks WHERE run_id = ?", run);
    }

    private long packedChunksOf(RunId run) {
        return count("SELECT COUNT(*) FROM parley_run_event_chunks WHERE run_id = ? AND packed", run);
    }

    private long count(String sql, RunId run) {
        try (Connection c = db().connect();
             PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, run.value());
            try (var rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void should_store_a_flush_as_one_row_and_a_finished_log_as_one_row() {
        Run run = aRun();
        List<RunEvent> events = answer(run, 298);

        appendInFlushes(events.subList(0, 150), 3);
        long whileStreaming = chunksOf(run.id());
        appendInFlushes(events.subList(150, events.size()), 3);
        compaction.compact(run.id());

        assertThat(whileStreaming).isEqualTo(50);
        assertThat(chunksOf(run.id())).isEqualTo(1);
        assertThat(store.events().lastSeq(run.id())).isEqualTo(300);
    }

    @Test
    void should_write_a_log_flushed_whole_as_one_packed_row_that_the_rewrite_leaves_alone() {
        Run run = aRun();
        List<RunEvent> events = answer(run, 3);

        store.events().append(events);

        assertThat(chunksOf(run.id())).isEqualTo(1);
        assertThat(packedChunksOf(run.id())).isEqualTo(1);
        assertThat(compaction.compact(run.id())).isFalse();
        assertThat(readAll(run.id(), 0, 2)).isEqualTo(events);
        assertThat(store.events().read(run.id(), 3, 10)).containsExactlyElementsOf(events.subList(3, events.size()));
    }

    @Test
    void should_pack_a_log_flushed_in_parts_soon_after_it_ends() throws InterruptedException {
        Run run = aRun();
        List<RunEvent> events = answer(run, 3);

        appendInFlushes(events, 2);

        // the terminal flush hands the log to the compaction thread, which rewrites it into one packed row
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!(chunksOf(run.id()) == 1 && packedChunksOf(run.id()) == 1) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(chunksOf(run.id())).isEqualTo(1);
        assertThat(packedChunksOf(run.id())).isEqualTo(1);
        assertThat(readAll(run.id(), 0, 2)).isEqualTo(events);
    }

    @Test
    void should_pack_a_long_log_into_rows_of_a_thousand_events_and_resume_anywhere_in_it() {
        Run run = aRun();
        List<RunEvent> events = answer(run, 2498);
        appendInFlushes(events, 10);

        compaction.compact(run.id());

        assertThat(chunksOf(run.id())).isEqualTo(3);
        assertThat(store.events().read(run.id(), 1499, 3)).containsExactlyElementsOf(events.subList(1499, 1502));
        assertThat(store.events().read(run.id(), 999, 2)).containsExactlyElementsOf(events.subList(999, 1001));
        assertThat(readAll(run.id(), 0, 400)).isEqualTo(events);
        assertThat(compaction.sweep()).isZero();
    }

    @Test
    void should_replay_the_same_events_from_any_seq_before_and_after_the_rewrite() {
        Run run = aRun();
        List<RunEvent> events = answer(run, 298);
        appendInFlushes(events, 4);
        List<List<RunEvent>> before = new ArrayList<>();
        for (long after : new long[] {0, 1, 150, 299, 300}) {
            before.add(readAll(run.id(), after, 7));
        }

        compaction.compact(run.id());

        assertThat(before.get(0)).isEqualTo(events);
        int i = 0;
        for (long after : new long[] {0, 1, 150, 299, 300}) {
            assertThat(readAll(run.id(), after, 7)).as("after %d", after).isEqualTo(before.get(i++));
        }
        assertThat(store.events().read(run.id(), 150, 1)).containsExactly(events.get(150));
        assertThat(compaction.compact(run.id())).isFalse();
    }

    @Test
    void should_give_readers_racing_the_rewrite_every_event_once_in_order() throws Exception {
        List<Run> runs = new ArrayList<>();
        List<List<RunEvent>> logs = new ArrayList<>();
        for (int r = 0; r < 6; r++) {
            Run run = aRun();
            List<RunEvent> events = answer(run, 120);
            appendInFlushes(events.subList(0, events.size() - 1), 2);
            runs.add(run);
            logs.add(events);
        }
        AtomicInteger next = new AtomicInteger();

        // when: one thread ends and rewrites each log while three others page through them
        List<Boolean> results = JdbcStoreBehaviour.race(4, () -> {
            int me = next.getAndIncrement();
            if (me == 0) {
                for (int r = 0; r < runs.size(); r++) {
                    List<RunEvent> log = logs.get(r);
                    store.events().append(List.of(log.get(log.size() - 1)));
                    compaction.compact(runs.get(r).id());
                }
                return true;
            }
            for (int round = 0; round < 2; round++) {
                for (int r = 0; r < runs.size(); r++) {
                    List<RunEvent> seen = readAll(runs.get(r).id(), 0, 6);
                    List<RunEvent> log = logs.get(r);
                    // a reader sees the log as it was at some point: every event once, in order, from seq 1
                    if (!seen.equals(log.subList(0, seen.size())) || seen.size() < log.size() - 1) {
                        return false;
                    }
                }
            }
            return true;
        });

        assertThat(results).containsOnly(true);
        for (int r = 0; r < runs.size(); r++) {
            assertThat(readAll(runs.get(r).id(), 0, 50)).isEqualTo(logs.get(r));
            assertThat(chunksOf(runs.get(r).id())).isEqualTo(1);
        }
    }

    @Test
    void should_replay_continue_and_convert_rows_of_the_previous_format() throws Exception {
        // given: a run whose first 40 events a server of the previous version stored, one row each
        Run run = aRun();
        List<RunEvent> events = answer(run, 60);
        boolean postgres = db().vendor() == TestDatabase.Vendor.POSTGRESQL;
        try (Connection c = db().connect();
             PreparedStatement s = c.prepareStatement("INSERT INTO parley_run_events (run_id, seq, type, payload) VALUES (?, ?, ?, "
                     + (postgres ? "CAST(? AS jsonb)" : "?") + ")")) {
            for (RunEvent e : events.subList(0, 40)) {
                s.setString(1, run.id().value());
                s.setLong(2, e.seq());
                s.setString(3, e.type());
                s.setString(4, Json.eventPayload(e));
                s.executeUpdate();
            }
        }
        compaction.lookForLegacyRows();

        // when: this version reads it, continues it, and its sweep converts it
        List<RunEvent> old = readAll(run.id(), 0, 9);
        long last = store.events().lastSeq(run.id());
        appendInFlushes(events.subList(40, events.size()), 5);
        List<RunEvent> mixed = readAll(run.id(), 0, 9);
        int changed = compaction.sweep();

        // then
        assertThat(old).isEqualTo(events.subList(0, 40));
        assertThat(last).isEqualTo(40);
        assertThat(mixed).isEqualTo(events);
        assertThat(changed).isPositive();
        assertThat(db().count("parley_run_events")).isZero();
        assertThat(compaction.legacyRowsLeft()).isFalse();
        assertThat(readAll(run.id(), 0, 9)).isEqualTo(events);
        assertThat(readAll(run.id(), 33, 4)).isEqualTo(events.subList(33, events.size()));
    }
}
