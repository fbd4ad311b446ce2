package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.RunEvent;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/** Checks every run's events must pass, and small views of them. */
final class Events {
    private Events() {}

    /** Seq 1..n without gaps, exactly one terminal event, and it is the last. */
    static void assertWellFormed(List<RunEvent> events) {
        assertThat(events).isNotEmpty();
        assertThat(events.stream().map(RunEvent::seq).toList())
                .containsExactlyElementsOf(LongStream.rangeClosed(1, events.size()).boxed().toList());
        assertThat(events.stream().filter(RunEvent::isTerminal).count()).isEqualTo(1);
        assertThat(events.get(events.size() - 1).isTerminal()).isTrue();
    }

    /** A run's usage is the sum of its model turns' usage. */
    static void assertUsageAddsUp(dev.parley.chat.port.in.RunOutcome outcome) {
        dev.parley.chat.model.Usage sum = dev.parley.chat.model.Usage.ZERO;
        for (dev.parley.chat.model.Step step : outcome.steps()) {
            if (step.type() == dev.parley.chat.model.StepType.MESSAGE_CREATION) {
                sum = sum.plus(step.usage());
            }
        }
        assertThat(outcome.run().usage()).isEqualTo(sum);
    }

    static List<String> types(List<RunEvent> events) {
        return events.stream().map(RunEvent::type).toList();
    }

    static String tokens(List<RunEvent> events) {
        return events.stream().filter(e -> e instanceof RunEvent.Token)
                .map(e -> ((RunEvent.Token) e).content()).collect(Collectors.joining());
    }

    static <T extends RunEvent> List<T> ofType(List<RunEvent> events, Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static RunEvent last(List<RunEvent> events) {
        return events.get(events.size() - 1);
    }
}
