package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aMessage;
import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.aThread;
import static dev.parley.chat.testkit.Fixtures.anIdempotencyRecord;
import static dev.parley.chat.testkit.Fixtures.at;
import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link dev.parley.chat.port.out.ChatStore#inTransaction} and
 * {@link dev.parley.chat.port.out.ThreadStore#lock}: extend it and implement {@link #createStore()}.
 */
public abstract class TransactionContract extends StoreContractSupport {

    /** Thrown by transaction work to force a rollback. */
    protected static final class Boom extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Boom() {
            super("boom");
        }
    }

    @Test
    void should_commit_work_across_every_store_together() {
        // given
        ChatThread thread = aThread().build();
        Message question = aMessage().inThread(thread).build();
        Run run = aRun().onThread(thread).forMessage(question.id()).build();

        // when
        Run result = store.inTransaction(() -> {
            store.threads().insert(thread);
            store.messages().append(question);
            store.runs().insert(run);
            store.idempotency().insert(anIdempotencyRecord().forRun(run).build());
            return run;
        });

        // then
        assertThat(result).isEqualTo(run);
        assertThat(store.threads().find(thread.id())).contains(thread);
        assertThat(store.messages().count(thread.id())).isEqualTo(1);
        assertThat(store.runs().find(run.id())).contains(run);
        assertThat(store.idempotency().find("alice", "", "key-1")).isPresent();
    }

    @Test
    void should_undo_every_insert_when_the_work_throws() {
        // given
        ChatThread thread = aThread().build();
        Message question = aMessage().inThread(thread).build();
        Run run = aRun().onThread(thread).forMessage(question.id()).inProgress().build();
        Boom boom = new Boom();

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.threads().insert(thread);
            store.messages().append(question);
            store.runs().insert(run);
            store.runs().insertStep(aStep().ofRun(run).build());
            store.events().append(eventsOf(run.id()).started(thread.id(), question.id()).tokens("a").build());
            store.idempotency().insert(anIdempotencyRecord().forRun(run).build());
            throw boom;
        })).isSameAs(boom);

        // then
        assertThat(store.threads().find(thread.id())).isEmpty();
        assertThat(store.threads().list("alice", null, dev.parley.chat.model.PageRequest.firstPage()).items()).isEmpty();
        assertThat(store.messages().find(question.id())).isEmpty();
        assertThat(store.runs().find(run.id())).isEmpty();
        assertThat(store.runs().steps(run.id())).isEmpty();
        assertThat(store.events().lastSeq(run.id())).isZero();
        assertThat(store.idempotency().find("alice", "", "key-1")).isEmpty();
        // and the same rows can be written again
        store.threads().insert(thread);
        assertThat(store.messages().append(question).position()).isEqualTo(1);
        store.runs().insert(run);
    }

    @Test
    void should_undo_updates_and_deletes_when_the_work_throws() {
        // given
        ChatThread thread = givenThread(aThread().titled("before").withMetadata("k", "v"));
        ChatThread doomed = givenThread(aThread().createdAt(at(1)));
        Message question = givenMessage(thread);
        Message doomedMessage = givenMessage(doomed);
        Run run = givenRun(aRun().onThread(thread).forMessage(question.id()));
        Run doomedRun = givenRun(aRun().onThread(doomed).forMessage(doomedMessage.id()).completed());
        store.events().append(eventsOf(doomedRun.id()).tokens("x").build());
        store.idempotency().insert(anIdempotencyRecord().withKey("old").forRun(run).createdAt(at(1)).build());
        List<ChatThread> listed = store.threads().list(thread.ownerId(), null, PageRequest.first(10)).items();
        List<ChatThread> listedForAgent = store.threads().list(thread.ownerId(), thread.agentId(), PageRequest.first(10)).items();

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.threads().update(thread.withTitle("after", at(50)).withMetadata(Map.of(), at(50)));
            store.runs().update(run.started(at(51)), RunStatus.QUEUED);
            store.messages().append(aMessage().inThread(thread).build());
            store.threads().hardDelete(doomed.id());
            store.idempotency().deleteOlderThan(at(100));
            store.threads().softDelete(thread.id(), at(52));
            throw new Boom();
        })).isInstanceOf(Boom.class);

        // then
        assertThat(store.threads().find(thread.id())).contains(thread);
        assertThat(store.runs().find(run.id())).contains(run);
        assertThat(store.messages().count(thread.id())).isEqualTo(1);
        assertThat(store.threads().find(doomed.id())).contains(doomed);
        assertThat(store.messages().find(doomedMessage.id())).contains(doomedMessage);
        assertThat(store.runs().find(doomedRun.id())).isPresent();
        assertThat(store.events().lastSeq(doomedRun.id())).isEqualTo(1);
        assertThat(store.idempotency().find("alice", "", "old")).isPresent();
        assertThat(store.threads().list(thread.ownerId(), null, PageRequest.first(10)).items()).isEqualTo(listed);
        assertThat(store.threads().list(thread.ownerId(), thread.agentId(), PageRequest.first(10)).items()).isEqualTo(listedForAgent);
        assertThat(store.runs().active(thread.id())).containsExactly(run);
    }

    @Test
    void should_roll_back_earlier_work_when_a_store_call_fails_inside() {
        // given
        ChatThread existing = givenThread();
        ChatThread fresh = aThread().createdAt(at(1)).build();

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.threads().insert(fresh);
            store.threads().insert(existing);
        })).isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));

        // then
        assertThat(store.threads().find(fresh.id())).isEmpty();
        assertThat(store.threads().find(existing.id())).contains(existing);
    }

    @Test
    void should_roll_back_and_rethrow_when_the_work_catches_a_failed_store_call_and_goes_on() {
        // given
        ChatThread existing = givenThread();
        ChatThread fresh = aThread().createdAt(at(1)).build();
        ChatThread later = aThread().createdAt(at(2)).build();

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.threads().insert(fresh);
            try {
                store.threads().insert(existing);
            } catch (ConflictException caught) {
                // the work goes on as if nothing happened
            }
            assertThatThrownBy(() -> store.threads().insert(later)).isInstanceOf(IllegalStateException.class);
            return null;
        })).isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));

        // then: nothing of it was kept
        assertThat(store.threads().find(fresh.id())).isEmpty();
        assertThat(store.threads().find(later.id())).isEmpty();
        assertThat(store.threads().find(existing.id())).contains(existing);
    }

    @Test
    void should_roll_back_the_outer_transaction_when_a_nested_one_failed_though_its_failure_was_caught() {
        // given
        ChatThread outer = aThread().build();
        ChatThread inner = aThread().createdAt(at(1)).build();

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.threads().insert(outer);
            try {
                store.inTransaction(() -> {
                    store.threads().insert(inner);
                    throw new Boom();
                });
            } catch (Boom caught) {
                // the outer work goes on
            }
            return null;
        })).isInstanceOf(Boom.class);

        // then
        assertThat(store.threads().find(outer.id())).isEmpty();
        assertThat(store.threads().find(inner.id())).isEmpty();
    }

    @Test
    void should_take_a_failed_call_outside_a_transaction_as_that_call_alone() {
        // given
        ChatThread existing = givenThread();
        ChatThread fresh = aThread().createdAt(at(1)).build();

        // when
        assertThatThrownBy(() -> store.threads().insert(existing)).isInstanceOf(ConflictException.class);
        store.threads().insert(fresh);

        // then
        assertThat(store.threads().find(fresh.id())).contains(fresh);
    }

    @Test
    void should_join_nested_transactions_into_the_outer_one() {
        // given
        ChatThread inner = aThread().build();
        ChatThread outer = aThread().createdAt(at(1)).build();

        // when
        store.inTransaction(() -> {
            store.threads().insert(outer);
            store.inTransaction(() -> store.threads().insert(inner));
            // the outer transaction sees what the inner one wrote
            assertThat(store.threads().find(inner.id())).isPresent();
        });

        // then
        assertThat(store.threads().find(inner.id())).contains(inner);
        assertThat(store.threads().find(outer.id())).contains(outer);
    }

    @Test
    void should_roll_back_a_nested_transactions_work_with_the_outer_one() {
        // given
        ChatThread inner = aThread().build();

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.inTransaction(() -> store.threads().insert(inner));
            throw new Boom();
        })).isInstanceOf(Boom.class);

        // then
        assertThat(store.threads().find(inner.id())).isEmpty();
    }

    @Test
    void should_return_the_works_result() {
        assertThat(store.inTransaction(() -> "result")).isEqualTo("result");
        assertThat(store.inTransaction(() -> (String) null)).isNull();
    }

    @Test
    void should_keep_separate_transactions_independent() {
        // given
        ChatThread committed = aThread().build();
        store.inTransaction(() -> store.threads().insert(committed));

        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.threads().insert(aThread().createdAt(at(1)).build());
            throw new Boom();
        })).isInstanceOf(Boom.class);

        // then
        assertThat(store.threads().find(committed.id())).contains(committed);
        assertThat(store.threads().list("alice", null, dev.parley.chat.model.PageRequest.firstPage()).items())
                .containsExactly(committed);
    }

    @Test
    void should_make_lockers_of_one_thread_take_turns() {
        // given: each worker reads a counter through lock() and writes it back plus one
        ChatThread thread = givenThread(aThread().withMetadata("counter", "0"));
        int n = 10;

        // when
        List<Object> results = race(n, i -> store.inTransaction(() -> {
            ChatThread locked = store.threads().lock(thread.id()).orElseThrow();
            int counter = Integer.parseInt(locked.metadata().get("counter"));
            store.messages().append(aMessage().inThread(thread).withText("worker " + i).build());
            store.threads().update(locked.withMetadata(Map.of("counter", Integer.toString(counter + 1)), at(i + 1L)));
            return "ok";
        }));

        // then: no update was lost
        assertThat(results).containsOnly("ok");
        assertThat(store.threads().find(thread.id()).orElseThrow().metadata()).containsEntry("counter", Integer.toString(n));
        assertThat(store.messages().count(thread.id())).isEqualTo(n);
    }

    @Test
    void should_let_one_of_racing_transactions_start_a_run_on_a_thread() {
        // given: each worker stores a question and a run, then starts the run unless another is active
        ChatThread thread = givenThread();
        int n = 8;

        // when
        List<Object> results = race(n, i -> store.inTransaction(() -> {
            store.threads().lock(thread.id()).orElseThrow();
            Message question = store.messages().append(aMessage().inThread(thread).withText("q" + i).build());
            boolean busy = store.runs().active(thread.id()).stream().anyMatch(r -> r.status() == RunStatus.IN_PROGRESS);
            Run run = aRun().onThread(thread).forMessage(question.id()).createdAt(at(i)).build();
            store.runs().insert(busy ? run : run.started(at(i + 1L)));
            return busy ? "queued" : "started";
        }));

        // then
        assertThat(results).filteredOn("started"::equals).hasSize(1);
        assertThat(results).filteredOn("queued"::equals).hasSize(n - 1);
        assertThat(store.runs().active(thread.id())).hasSize(n);
    }

    @Test
    void should_answer_a_ping() {
        store.ping();
    }

    @Test
    void should_keep_a_completed_transactions_run_update_visible_to_others() {
        // given
        ChatThread thread = givenThread();
        Message question = givenMessage(thread);
        Run run = givenRun(aRun().onThread(thread).forMessage(question.id()).inProgress());

        // when
        boolean updated = store.inTransaction(() -> store.runs().update(
                run.completed(at(5), question.id(), Usage.reported(1, 1), null), RunStatus.IN_PROGRESS));

        // then
        assertThat(updated).isTrue();
        assertThat(race(3, i -> store.runs().find(run.id()).orElseThrow().status()))
                .containsOnly(RunStatus.COMPLETED);
    }
}
