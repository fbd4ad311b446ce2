package dev.parley.chat.port.out;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RunSubscriptionTest {
    private static final RunId RUN = new RunId("run_1");

    /** Answers its events one per call, with an empty answer (a timeout) between two of them. */
    private static final class Scripted implements RunSubscription {
        private final Deque<Optional<RunEvent>> answers = new ArrayDeque<>();
        private boolean finished;

        Scripted(RunEvent... events) {
            for (RunEvent event : events) {
                answers.add(Optional.empty());
                answers.add(Optional.of(event));
            }
        }

        @Override
        public Optional<RunEvent> next(Duration timeout) {
            Optional<RunEvent> answer = answers.isEmpty() ? Optional.empty() : answers.poll();
            answer.filter(RunEvent::isTerminal).ifPresent(e -> finished = true);
            if (answers.isEmpty()) {
                finished = true;
            }
            return answer;
        }

        @Override
        public boolean isFinished() {
            return finished;
        }

        @Override
        public void close() {
            finished = true;
        }
    }

    @Test
    void should_hand_every_event_to_the_action_up_to_the_terminal_one() throws Exception {
        // given
        RunSubscription subscription = new Scripted(new RunEvent.Token(RUN, 1, "Hel"), new RunEvent.Token(RUN, 2, "lo"),
                new RunEvent.Cancelled(RUN, 3, null), new RunEvent.Token(RUN, 4, "never"));
        List<RunEvent> seen = new ArrayList<>();

        // when
        subscription.forEach(seen::add);

        // then
        assertThat(seen).extracting(RunEvent::seq).containsExactly(1L, 2L, 3L);
    }

    @Test
    void should_return_at_once_from_a_closed_subscription() throws Exception {
        // given
        RunSubscription subscription = new Scripted(new RunEvent.Token(RUN, 1, "a"));
        subscription.close();
        List<RunEvent> seen = new ArrayList<>();

        // when
        subscription.forEach(seen::add);

        // then
        assertThat(seen).isEmpty();
    }
}
