package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.EventsExpiredException;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LogRetentionTest {
    private final ChatHarness h = ChatHarness.custom(InMemoryAdapters.store(), ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
            b -> b);

    @AfterEach
    void close() {
        h.close();
    }

    private LogRetention retention(Duration keep) {
        Engine engine = new Engine(h.store, null, null, Clock.systemUTC(), null, Map.of(), null, null, Duration.ZERO, Duration.ZERO,
                dev.parley.chat.port.out.RunObserver.NONE, dev.parley.chat.port.out.RunTracer.NONE);
        return new LogRetention(engine, keep);
    }

    @Test
    void should_remove_the_logs_of_runs_ended_longer_ago_than_the_retention_and_keep_the_runs() {
        // given: an ended run, and another one ended later
        ChatThread thread = h.newThread("alice");
        SendReceipt first = h.service.send(SendMessageCommand.text("alice", thread.id(), "one"));
        h.awaitEnd(first.run().id());
        h.clock.advance(Duration.ofMinutes(10));
        java.time.Instant between = h.clock.instant();
        h.clock.advance(Duration.ofMinutes(10));
        SendReceipt second = h.service.send(SendMessageCommand.text("alice", thread.id(), "two"));
        h.awaitEnd(second.run().id());

        // when: the retention passes with the first run past it and the second not
        int removed = retention(Duration.ofHours(1)).pass(between.plus(Duration.ofHours(1)));

        // then
        assertThat(removed).isEqualTo(1);
        assertThatThrownBy(() -> h.service.subscribe("alice", thread.id(), first.run().id(), 0, DisconnectPolicy.CONTINUE))
                .isInstanceOf(EventsExpiredException.class).hasFieldOrPropertyWithValue("code", "events_expired");
        assertThat(h.service.getRun("alice", thread.id(), first.run().id()).run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(h.service.getRun("alice", thread.id(), first.run().id()).responseText()).isNotEmpty();
        try (var events = h.service.subscribe("alice", thread.id(), second.run().id(), 0, DisconnectPolicy.CONTINUE)) {
            assertThat(events).isNotNull();
        }
    }

    @Test
    void should_keep_removing_in_batches_until_nothing_is_past_the_retention() {
        ChatThread thread = h.newThread("alice");
        for (int i = 0; i < LogRetention.BATCH + 5; i++) {
            h.awaitEnd(h.service.send(SendMessageCommand.text("alice", thread.id(), "m" + i)).run().id());
        }

        int removed = retention(Duration.ofMinutes(1)).pass(h.clock.instant().plus(Duration.ofMinutes(2)));

        assertThat(removed).isEqualTo(LogRetention.BATCH + 5);
    }

    @Test
    void should_refuse_a_negative_retention_and_start_nothing_for_zero() {
        assertThatThrownBy(() -> ChatService.builder().eventLogRetention(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThat(LogRetention.start(null, Duration.ZERO)).isNull();
        assertThat(LogRetention.start(null, null)).isNull();
    }
}
