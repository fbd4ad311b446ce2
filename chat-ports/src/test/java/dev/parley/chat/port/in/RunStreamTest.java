package dev.parley.chat.port.in;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The pull form of a push subscription ({@link RunStream#of}), driven by a test playing the subscription. */
@Timeout(30)
class RunStreamTest {
    private static final RunId RUN = new RunId("run_1");

    private final AtomicReference<RunEventSink> sink = new AtomicReference<>();
    private final AtomicBoolean subscriptionClosed = new AtomicBoolean();

    private RunStream open() {
        return RunStream.of(s -> {
            sink.set(s);
            return () -> subscriptionClosed.set(true);
        });
    }

    private static RunEvent token(long seq) {
        return new RunEvent.Token(RUN, seq, "t" + seq);
    }

    @Test
    void should_return_what_the_subscription_delivered_in_order_then_finish_after_the_terminal_event() throws Exception {
        // given
        RunStream stream = open();
        sink.get().onEvent(token(1));
        sink.get().onEvent(token(2));
        sink.get().onEvent(new RunEvent.Cancelled(RUN, 3, null));
        sink.get().onEnd(null);

        // when
        List<RunEvent> read = new ArrayList<>();
        stream.forEach(read::add);

        // then
        assertThat(read).extracting(RunEvent::seq).containsExactly(1L, 2L, 3L);
        assertThat(stream.isFinished()).isTrue();
        assertThat(stream.next(Duration.ZERO)).isEmpty();
    }

    @Test
    void should_wait_for_the_first_catch_up_before_answering_a_read_that_does_not_wait() throws Exception {
        // given a subscription whose first catch-up has not been handed over yet
        RunStream stream = open();
        CompletableFuture<Optional<RunEvent>> read = CompletableFuture.supplyAsync(() -> {
            try {
                return stream.next(Duration.ZERO);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        // when the catch-up delivers what the log held
        sink.get().onEvent(token(1));
        sink.get().onCaughtUp();

        // then the read saw it
        assertThat(read.get(10, TimeUnit.SECONDS)).contains(token(1));
        assertThat(stream.next(Duration.ZERO)).isEmpty();
        assertThat(stream.isFinished()).isFalse();
    }

    @Test
    void should_answer_empty_and_finish_when_the_subscription_ended_with_nothing() throws Exception {
        // given
        RunStream stream = open();

        // when
        sink.get().onEnd(null);

        // then
        assertThat(stream.next(Duration.ofMinutes(10))).isEmpty();
        assertThat(stream.isFinished()).isTrue();
    }

    @Test
    void should_throw_what_ended_the_subscription_once_the_events_before_it_were_read() throws Exception {
        // given
        RunStream stream = open();
        sink.get().onEvent(token(1));
        sink.get().onEnd(new StorageUnavailableException("the store is down", null));

        // when / then
        assertThat(stream.next(Duration.ZERO)).contains(token(1));
        assertThatThrownBy(() -> stream.next(Duration.ZERO)).isInstanceOf(StorageUnavailableException.class);
        assertThat(stream.isFinished()).isTrue();
    }

    @Test
    void should_close_the_subscription_when_closed_and_wake_a_waiting_reader() throws Exception {
        // given
        RunStream stream = open();
        sink.get().onCaughtUp();
        CompletableFuture<Optional<RunEvent>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return stream.next(Duration.ofMinutes(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        // when
        stream.close();

        // then
        assertThat(waiting.get(10, TimeUnit.SECONDS)).isEmpty();
        assertThat(subscriptionClosed).isTrue();
        assertThat(stream.isFinished()).isTrue();
    }

    @Test
    void should_keep_every_event_for_a_reader_that_falls_far_behind() throws Exception {
        // given a delivery of ten times the stream's capacity on a thread of its own
        RunStream stream = open();
        int count = PulledRunStream.CAPACITY * 10;
        CompletableFuture<Void> delivery = CompletableFuture.runAsync(() -> {
            try {
                for (int seq = 1; seq <= count; seq++) {
                    sink.get().onEvent(token(seq));
                }
                sink.get().onEvent(new RunEvent.Cancelled(RUN, count + 1, null));
                sink.get().onEnd(null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        // when
        List<RunEvent> read = new ArrayList<>();
        stream.forEach(read::add);

        // then
        delivery.get(10, TimeUnit.SECONDS);
        assertThat(read).hasSize(count + 1);
        for (int i = 0; i < read.size(); i++) {
            assertThat(read.get(i).seq()).isEqualTo(i + 1L);
        }
    }

    @Test
    void should_release_a_delivery_waiting_for_room_when_the_reader_closes() throws Exception {
        // given a full stream, and a delivery waiting for room
        RunStream stream = open();
        for (int seq = 1; seq <= PulledRunStream.CAPACITY; seq++) {
            sink.get().onEvent(token(seq));
        }
        CompletableFuture<Void> delivered = new CompletableFuture<>();
        Thread delivery = new Thread(() -> {
            try {
                sink.get().onEvent(token(PulledRunStream.CAPACITY + 1));
                delivered.complete(null);
            } catch (Exception e) {
                delivered.completeExceptionally(e);
            }
        });
        delivery.start();
        while (delivery.getState() != Thread.State.WAITING) {
            assertThat(delivered).isNotDone();
            Thread.onSpinWait();
        }

        // when
        stream.close();

        // then
        delivered.get(10, TimeUnit.SECONDS);
        assertThat(subscriptionClosed).isTrue();
    }
}
