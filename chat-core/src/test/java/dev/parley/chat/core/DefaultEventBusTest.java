package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.testkit.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The event bus {@link ChatServiceBuilder} builds when none is given, and one that is given. */
class DefaultEventBusTest {
    private final CountingSignals signals = new CountingSignals(InMemoryAdapters.store());
    private final ChatStore store = StoreViews.withSignals(signals.store, signals);

    private ChatServiceBuilder builder() {
        return ChatService.builder().store(store).model(ScriptedChatModel.echo()).agents(List.of(ChatHarness.agent(null)));
    }

    @Test
    void should_stream_a_run_on_the_bus_it_builds_when_none_is_given() throws Exception {
        try (ChatService chat = builder().build()) {
            // when
            SendReceipt sent = chat.send(SendMessageCommand.text(ALICE, null, "hello"));

            // then
            List<RunEvent> events = new ArrayList<>();
            try (RunStream subscription = chat.subscribe(ALICE, sent.thread().id(), sent.run().id(), 0,
                    DisconnectPolicy.CONTINUE)) {
                while (!subscription.isFinished()) {
                    subscription.next(WAIT).ifPresent(events::add);
                }
            }
            Events.assertWellFormed(events);
            assertThat(Events.last(events)).isInstanceOf(RunEvent.Done.class);
        }
    }

    @Test
    void should_wake_the_bus_it_builds_by_the_store_signals_and_close_it_on_close() {
        // given
        ChatService chat = builder().build();

        // when / then
        assertThat(signals.eventListeners()).isEqualTo(1);
        chat.close();
        assertThat(signals.eventListeners()).isZero();
    }

    @Test
    void should_leave_a_bus_it_was_given_open() throws Exception {
        // given
        try (RunEventBuses.Bus bus = RunEventBuses.create(store)) {
            ChatService chat = builder().eventBus(bus).build();

            // when
            chat.close();

            // then the bus still publishes and replays
            RunId run = Fixtures.runId();
            bus.publish(new RunEvent.RunStarted(run, 1, Fixtures.threadId(), Fixtures.messageId(), ChatHarness.AGENT));
            try (RunSubscription subscription = bus.subscribe(run, 0)) {
                Optional<RunEvent> first = subscription.next(WAIT);
                assertThat(first).map(RunEvent::seq).contains(1L);
            }
            assertThat(signals.eventListeners()).isEqualTo(1);
        }
        assertThat(signals.eventListeners()).isZero();
    }

    @Test
    void should_close_the_bus_it_built_when_the_build_fails() {
        // when
        assertThatThrownBy(() -> builder().agents(List.of()).build()).isInstanceOf(IllegalArgumentException.class);

        // then
        assertThat(signals.eventListeners()).isZero();
    }

    @Test
    void should_poll_a_store_without_hints_at_the_short_interval() {
        // when
        try (RunEventBuses.Bus bus = RunEventBuses.create(StoreViews.withoutHints(InMemoryAdapters.store()))) {
            // then
            assertThat(((StoreBackedRunEventBus) bus).pollInterval()).isEqualTo(Duration.ofMillis(50));
        }
        try (RunEventBuses.Bus bus = RunEventBuses.create(store)) {
            assertThat(((StoreBackedRunEventBus) bus).pollInterval()).isEqualTo(Duration.ofMillis(250));
        }
    }

    /** The hints of a store, counting the listeners of stored events that are registered and not closed. */
    private static final class CountingSignals implements RunSignals {
        final ChatStore store;
        private final AtomicInteger eventListeners = new AtomicInteger();

        CountingSignals(ChatStore store) {
            this.store = store;
        }

        int eventListeners() {
            return eventListeners.get();
        }

        @Override
        public Registration onRunChanged(Consumer<RunId> listener) {
            return store.signals().onRunChanged(listener);
        }

        @Override
        public Registration onEventsStored(Consumer<RunId> listener) {
            Registration registration = store.signals().onEventsStored(listener);
            eventListeners.incrementAndGet();
            return () -> {
                registration.close();
                eventListeners.decrementAndGet();
            };
        }
    }
}
