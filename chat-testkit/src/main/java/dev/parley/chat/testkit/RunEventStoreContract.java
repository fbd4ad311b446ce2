package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link dev.parley.chat.port.out.RunEventStore}: extend it and implement
 * {@link #createStore()}. Events belong to runs stored in the same store.
 */
public abstract class RunEventStoreContract extends RunContractSupport {
    private static final RecursiveComparisonConfiguration BY_VALUE = RecursiveComparisonConfiguration.builder()
            .withComparatorForType(BigDecimal::compareTo, BigDecimal.class).build();

    protected Run run;

    @BeforeEach
    void givenARun() {
        run = givenRun(aRunHere().inProgress());
    }

    /** Another run, on the same thread, to interleave with. */
    protected Run anotherRun() {
        return givenRun(aRunHere().createdAt(Fixtures.at(1)));
    }

    @Test
    void should_read_back_every_kind_of_event_in_order() {
        // given
        var step = Fixtures.stepId();
        List<RunEvent> events = eventsOf(run.id()).started(thread.id(), question.id())
                .thinking("Hmm, 6*7…").tokens("Let ", "me ", "check")
                .traceStart(step, new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}"))
                .traceUpdate(step, "computing… 50%")
                .traceEnd(step, StepStatus.COMPLETED, "42", null, 12)
                .traceEnd(step, StepStatus.FAILED, null, "tool_timeout", 30_000)
                .approvalRequired(step, new ToolCall("call_2", "refund", "{\"order\":\"A-1\"}"))
                .approvalDecided(step, "call_2", ApprovalDecision.DENY, "Not without a receipt " + Fixtures.EMOJI)
                .approvalDecided(step, "call_3", ApprovalDecision.APPROVE, null)
                .traceEnd(step, StepStatus.DENIED, null, "Not without a receipt", 0)
                .tokens(Fixtures.EMOJI, Fixtures.RTL, Fixtures.COMBINING, "", " ")
                .done(thread.id(), Fixtures.messageId(), Usage.estimated(120, 45), new BigDecimal("0.00042000"))
                .build();

        // when
        store.events().append(events);

        // then
        assertThat(store.events().read(run.id(), 0, 100)).usingRecursiveFieldByFieldElementComparator(BY_VALUE)
                .containsExactlyElementsOf(events);
        assertThat(store.events().lastSeq(run.id())).isEqualTo(events.size());
    }

    @Test
    void should_round_trip_each_terminal_event() {
        // given
        Run failed = anotherRun();
        Run cancelled = givenRun(aRunHere().createdAt(Fixtures.at(2)));
        List<RunEvent> all = new ArrayList<>();
        all.addAll(eventsOf(run.id()).done(thread.id(), Fixtures.messageId(), Usage.reported(1, 2), null).build());
        all.addAll(eventsOf(failed.id()).error("model_error", "The model failed").build());
        all.addAll(eventsOf(cancelled.id()).cancelled(null).build());

        // when
        store.events().append(all);

        // then
        assertThat(store.events().read(run.id(), 0, 10)).containsExactly(all.get(0));
        assertThat(store.events().read(failed.id(), 0, 10)).containsExactly(all.get(1));
        assertThat(store.events().read(cancelled.id(), 0, 10)).containsExactly(all.get(2));
    }

    @Test
    void should_keep_whether_a_done_event_stopped_at_the_output_token_limit() {
        // given
        Run other = anotherRun();
        RunEvent.Done cut = new RunEvent.Done(run.id(), 1, thread.id(), Fixtures.messageId(), Usage.reported(5, 3), null,
                FinishReason.LENGTH);
        RunEvent.Done finished = new RunEvent.Done(other.id(), 1, thread.id(), Fixtures.messageId(), Usage.reported(5, 3), null);

        // when
        store.events().append(List.of(cut, finished));

        // then
        assertThat(store.events().read(run.id(), 0, 10)).singleElement()
                .satisfies(e -> assertThat(((RunEvent.Done) e).finishReason()).isEqualTo(FinishReason.LENGTH));
        assertThat(store.events().read(other.id(), 0, 10)).singleElement()
                .satisfies(e -> assertThat(((RunEvent.Done) e).finishReason()).isEqualTo(FinishReason.STOP));
    }

    @Test
    void should_have_round_tripped_every_kind_of_stored_event_above() {
        // the two tests above store one event of each kind; a new kind of event must join them
        assertThat(Arrays.stream(RunEvent.class.getPermittedSubclasses()).filter(kind -> kind != RunEvent.Heartbeat.class))
                .containsExactlyInAnyOrder(RunEvent.RunStarted.class, RunEvent.Thinking.class, RunEvent.Token.class,
                        RunEvent.TraceStart.class, RunEvent.TraceUpdate.class, RunEvent.TraceEnd.class,
                        RunEvent.ApprovalRequired.class, RunEvent.ApprovalDecided.class,
                        RunEvent.Done.class, RunEvent.Error.class, RunEvent.Cancelled.class);
    }

    @Test
    void should_read_from_any_seq_at_most_max_events() {
        // given
        List<RunEvent> events = eventsOf(run.id()).started(thread.id(), question.id()).tokens("a", "b", "c", "d", "e", "f").build();
        store.events().append(events);

        // when / then
        for (int after = 0; after <= events.size(); after++) {
            assertThat(store.events().read(run.id(), after, 100)).containsExactlyElementsOf(events.subList(after, events.size()));
        }
        assertThat(store.events().read(run.id(), 2, 3)).containsExactlyElementsOf(events.subList(2, 5));
        assertThat(store.events().read(run.id(), 100, 3)).isEmpty();
    }

    @Test
    void should_have_nothing_for_a_run_without_events() {
        assertThat(store.events().read(run.id(), 0, 10)).isEmpty();
        assertThat(store.events().lastSeq(run.id())).isZero();
        assertThat(store.events().lastSeq(Fixtures.runId())).isZero();
    }

    @Test
    void should_continue_a_log_across_appends() {
        // given
        var builder = eventsOf(run.id()).started(thread.id(), question.id());
        store.events().append(builder.build());

        // when
        store.events().append(eventsOf(run.id()).after(1).tokens("x", "y").build());

        // then
        assertThat(store.events().lastSeq(run.id())).isEqualTo(3);
        assertThat(store.events().read(run.id(), 0, 10)).extracting(RunEvent::seq).containsExactly(1L, 2L, 3L);
    }

    @Test
    void should_refuse_an_event_that_leaves_a_gap() {
        // given
        store.events().append(eventsOf(run.id()).tokens("a").build());

        // when / then
        assertThatThrownBy(() -> store.events().append(eventsOf(run.id()).after(2).tokens("c").build()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.events().append(eventsOf(anotherRun().id()).after(1).tokens("b").build()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(store.events().lastSeq(run.id())).isEqualTo(1);
    }

    @Test
    void should_refuse_a_seq_already_stored_as_a_duplicate() {
        // given
        store.events().append(eventsOf(run.id()).tokens("a", "b").build());

        // when / then
        assertThatThrownBy(() -> store.events().append(eventsOf(run.id()).after(1).tokens("B").build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
        assertThat(store.events().read(run.id(), 0, 10)).extracting(e -> ((RunEvent.Token) e).content())
                .containsExactly("a", "b");
    }

    @Test
    void should_refuse_a_batch_that_repeats_a_seq_as_a_duplicate() {
        // given
        List<RunEvent> batch = new ArrayList<>(eventsOf(run.id()).tokens("a", "b").build());
        batch.add(batch.get(1));

        // when / then
        assertThatThrownBy(() -> store.events().append(batch))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
        assertThat(store.events().lastSeq(run.id())).isZero();
    }

    @Test
    void should_refuse_events_after_the_terminal_event_of_a_run() {
        // given: a run ended by one writer
        store.events().append(eventsOf(run.id()).started(thread.id(), question.id()).error("interrupted", "stopped").build());

        // when / then: another writer's late events are refused
        assertThatThrownBy(() -> store.events().append(eventsOf(run.id()).after(2).tokens("late").build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_ENDED));
        assertThat(store.events().lastSeq(run.id())).isEqualTo(2);
    }

    @Test
    void should_refuse_a_batch_that_goes_on_after_its_terminal_event() {
        // given
        List<RunEvent> batch = eventsOf(run.id()).started(thread.id(), question.id()).cancelled(null).tokens("late").build();

        // when / then
        assertThatThrownBy(() -> store.events().append(batch))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_ENDED));
        assertThat(store.events().lastSeq(run.id())).isZero();
    }

    @Test
    void should_store_nothing_of_a_batch_with_a_bad_event() {
        // given
        List<RunEvent> batch = new ArrayList<>(eventsOf(run.id()).tokens("a", "b").build());
        batch.addAll(eventsOf(run.id()).after(5).tokens("z").build());

        // when / then
        assertThatThrownBy(() -> store.events().append(batch)).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.events().lastSeq(run.id())).isZero();
    }

    @Test
    void should_append_a_batch_of_several_runs_atomically() {
        // given
        Run other = anotherRun();
        List<RunEvent> batch = new ArrayList<>();
        batch.addAll(eventsOf(run.id()).tokens("a").build());
        batch.addAll(eventsOf(other.id()).tokens("x", "y").build());
        batch.addAll(eventsOf(run.id()).after(1).tokens("b").build());

        // when
        store.events().append(batch);

        // then
        assertThat(store.events().lastSeq(run.id())).isEqualTo(2);
        assertThat(store.events().lastSeq(other.id())).isEqualTo(2);
        assertThat(store.events().read(other.id(), 0, 10)).containsExactlyElementsOf(batch.subList(1, 3));
    }

    @Test
    void should_accept_an_empty_batch() {
        store.events().append(List.of());

        assertThat(store.events().lastSeq(run.id())).isZero();
    }

    @Test
    void should_never_store_a_heartbeat() {
        // when
        try {
            store.events().append(List.of(new RunEvent.Heartbeat(run.id())));
        } catch (IllegalArgumentException refused) {
            // refusing is as good as skipping
        }

        // then
        assertThat(store.events().lastSeq(run.id())).isZero();
        assertThat(store.events().read(run.id(), 0, 10)).isEmpty();
    }

    @Test
    void should_keep_logs_of_concurrent_runs_apart() {
        // given
        int n = 8;
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            runs.add(givenRun(aRun().onThread(givenThread()).forMessage(question.id()).createdAt(Fixtures.at(i))));
        }

        // when
        List<Object> results = race(n, i -> {
            for (int seq = 0; seq < 20; seq++) {
                store.events().append(eventsOf(runs.get(i).id()).after(seq).tokens("t" + seq).build());
            }
            return "ok";
        });

        // then
        assertThat(results).containsOnly("ok");
        for (Run r : runs) {
            assertThat(store.events().read(r.id(), 0, 100)).extracting(RunEvent::seq)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 20).boxed().toList());
        }
    }

    @Test
    void should_let_exactly_one_of_racing_writers_of_a_seq_win() {
        // given
        int n = 8;

        // when
        List<Object> results = race(n, i -> {
            store.events().append(eventsOf(run.id()).tokens("writer " + i).build());
            return Boolean.TRUE;
        });

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(r -> !Boolean.TRUE.equals(r)).allSatisfy(r -> assertThat(r)
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE)));
        assertThat(store.events().lastSeq(run.id())).isEqualTo(1);
    }

    @Test
    void should_keep_a_long_token_exactly() {
        // given
        String text = Fixtures.longText(32_000);

        // when
        store.events().append(eventsOf(run.id()).tokens(text).build());

        // then
        assertThat(((RunEvent.Token) store.events().read(run.id(), 0, 1).get(0)).content()).isEqualTo(text);
    }

    @Test
    void should_remove_only_the_logs_of_runs_that_ended_before_the_cutoff_and_remember_it() {
        // given: a run that ended at T0 + 2 ms, one that ended an hour later, and one still going
        Run old = givenRun(aRunHere().completed());
        Run recent = givenRun(aRunHere().createdAt(Fixtures.at(3_600_000)).completed());
        for (Run r : List.of(old, recent, run)) {
            store.events().append(eventsOf(r.id()).started(thread.id(), question.id()).tokens("a", "b").build());
        }

        // when
        int first = store.events().expire(Fixtures.at(60_000), 10);
        int again = store.events().expire(Fixtures.at(60_000), 10);

        // then
        assertThat(first).isEqualTo(1);
        assertThat(again).isZero();
        assertThat(store.events().expired(old.id())).isTrue();
        assertThat(store.events().read(old.id(), 0, 10)).isEmpty();
        assertThat(store.events().lastSeq(old.id())).isZero();
        assertThat(store.runs().find(old.id())).isPresent();
        for (Run kept : List.of(recent, run)) {
            assertThat(store.events().expired(kept.id())).isFalse();
            assertThat(store.events().read(kept.id(), 0, 10)).hasSize(3);
        }
    }

    @Test
    void should_expire_at_most_the_number_asked_for_at_a_time() {
        for (int i = 0; i < 3; i++) {
            Run ended = givenRun(aRunHere().completed());
            store.events().append(eventsOf(ended.id()).started(thread.id(), question.id()).build());
        }

        assertThat(store.events().expire(Fixtures.at(60_000), 2)).isEqualTo(2);
        assertThat(store.events().expire(Fixtures.at(60_000), 2)).isEqualTo(1);
        assertThat(store.events().expire(Fixtures.at(60_000), 2)).isZero();
    }
}
