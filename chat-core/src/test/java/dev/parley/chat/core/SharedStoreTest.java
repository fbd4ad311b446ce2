package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ChatStore;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two services sharing one store and event log, as two servers sharing a database do. */
class SharedStoreTest {
    private final ChatStore store = InMemoryAdapters.store();
    private ChatHarness serverA;
    private ChatHarness serverB;

    @AfterEach
    void tearDown() {
        if (serverA != null) {
            serverA.close();
        }
        if (serverB != null) {
            serverB.close();
        }
    }

    @Test
    void should_stop_a_run_executing_on_another_server_and_keep_its_partial_text() throws Exception {
        // given a run executing on server A
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("Half", " done").build();
        serverA = ChatHarness.custom(store, modelA, List.of(ChatHarness.agent(null)),
                b -> b.endedElsewhereCheck(Duration.ofMillis(10)));
        serverB = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.endedElsewhereCheck(Duration.ZERO));
        ChatThread thread = serverA.newThread(ALICE);
        SendReceipt sent = serverA.send(thread.id(), "long task");
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();

        // when server B is asked to cancel it
        Run cancelled = serverB.service.cancelActiveRun(ALICE, thread.id());

        // then
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        List<RunEvent> events = serverA.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "token", "cancelled");
        List<Message> history = serverA.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("long task", "Half done");
        assertThat(history.get(1).status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(((RunEvent.Cancelled) Events.last(events)).messageId()).isEqualTo(history.get(1).id());
        assertThat(serverA.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
    }
}
