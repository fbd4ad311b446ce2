package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Runs of one user, agent and model ending at once: each ends, and the hourly ledger counts every one. */
abstract class UsageLedgerRace {
    private static final int RUNS = 8;

    abstract TestDatabase db();

    JdbcChatStore store;

    @BeforeEach
    void freshStore() {
        store = db().freshStore();
    }

    @Test
    void should_end_every_run_and_count_each_in_the_ledger_when_runs_of_one_hour_end_at_once() throws Exception {
        Instant now = JdbcStoreBehaviour.now();
        List<Run> started = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            ChatThread thread = ChatThread.create(ThreadId.next(JdbcStoreBehaviour.IDS), "alice", "agent", null, null, now);
            store.threads().insert(thread);
            var question = store.messages().append(JdbcStoreBehaviour.userMessage(thread.id(), "q" + i));
            Run run = Run.queued(RunId.next(JdbcStoreBehaviour.IDS), thread.id(), "agent", "model-x", question.id(), now);
            store.runs().insert(run);
            Run going = run.started(now);
            assertThat(store.runs().start(going, "server-a", now.plusSeconds(60))).isTrue();
            started.add(going);
        }
        AtomicInteger next = new AtomicInteger();

        List<Boolean> ended = JdbcStoreBehaviour.race(RUNS, () -> {
            Run run = started.get(next.getAndIncrement());
            return store.runs().update(run.completed(now, new MessageId("msg_" + run.id().value().substring(4)),
                    Usage.reported(10, 5), new BigDecimal("0.001")), dev.parley.chat.model.RunStatus.IN_PROGRESS);
        });

        assertThat(ended).containsOnly(true);
        List<UsageRow> rows = store.usage().usage("alice", now.truncatedTo(ChronoUnit.HOURS), now.plus(2, ChronoUnit.HOURS),
                UsageGroup.MODEL);
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).totals().runs()).isEqualTo(RUNS);
    }
}
