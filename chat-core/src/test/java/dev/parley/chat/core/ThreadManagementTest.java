package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.UpdateThreadCommand;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ThreadManagementTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    @Test
    void should_create_update_and_list_threads_most_recently_updated_first() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.echo());
        ChatThread first = chat.service.createThread(new CreateThreadCommand(ALICE, null, "First", Map.of("topic", "a")));
        chat.clock.advance(Duration.ofSeconds(1));
        ChatThread second = chat.service.createThread(new CreateThreadCommand(ALICE, null, null, null));
        chat.clock.advance(Duration.ofSeconds(1));

        // when
        ChatThread updated = chat.service.updateThread(new UpdateThreadCommand(ALICE, first.id(), Optional.of("Renamed"),
                Optional.of(Map.of("topic", "b"))));

        // then
        assertThat(updated.title()).isEqualTo("Renamed");
        assertThat(updated.metadata()).containsEntry("topic", "b");
        assertThat(updated.updatedAt()).isAfter(first.updatedAt());
        assertThat(chat.service.listThreads(ALICE, null, PageRequest.firstPage()).items()).extracting(ChatThread::id)
                .containsExactly(first.id(), second.id());
        assertThat(chat.service.getThread(ALICE, first.id()).title()).isEqualTo("Renamed");
    }

    @Test
    void should_clear_the_title_when_updated_to_blank() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.echo());
        ChatThread thread = chat.service.createThread(new CreateThreadCommand(ALICE, null, "Title", null));

        // when
        ChatThread updated = chat.service.updateThread(new UpdateThreadCommand(ALICE, thread.id(), Optional.of(" "), null));

        // then
        assertThat(updated.title()).isNull();
    }

    @Test
    void should_hide_a_soft_deleted_thread_and_cancel_its_active_run() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("partial").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hi");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        chat.service.deleteThread(ALICE, thread.id(), false);

        // then the run was cancelled before the thread went away
        assertThat(Events.last(chat.events(sent.run().id()))).isInstanceOf(RunEvent.Cancelled.class);
        assertThatThrownBy(() -> chat.service.getThread(ALICE, thread.id())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> chat.service.listMessages(ALICE, thread.id(), null, SortOrder.ASC))
                .isInstanceOf(NotFoundException.class);
        assertThat(chat.service.listThreads(ALICE, null, null).items()).isEmpty();
        assertThatThrownBy(() -> chat.service.deleteThread(ALICE, thread.id(), false))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("thread_not_found"));
    }

    @Test
    void should_remove_everything_on_hard_delete() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.echo());
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hi");
        chat.awaitEnd(sent.run().id());

        // when
        chat.service.deleteThread(ALICE, thread.id(), true);

        // then
        assertThat(chat.store.runs().find(sent.run().id())).isEmpty();
        assertThat(chat.store.messages().count(thread.id())).isZero();
        assertThatThrownBy(() -> chat.service.getThread(ALICE, thread.id())).isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_page_messages_newest_first_on_request() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.echo());
        ChatThread thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.send(thread.id(), "one").run().id());

        // when
        var page = chat.service.listMessages(ALICE, thread.id(), PageRequest.first(1), SortOrder.DESC);

        // then
        assertThat(page.items()).extracting(m -> m.text()).containsExactly("one");
        assertThat(page.items().get(0).role()).isEqualTo(dev.parley.chat.model.Role.ASSISTANT);
        assertThat(page.hasMore()).isTrue();
    }

    @Test
    void should_return_the_unfinished_run_when_await_times_out() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("slow").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hi");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        var outcome = chat.service.await(ALICE, sent.run().id(), Duration.ofMillis(20));

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(outcome.assistantMessage()).isNull();
        model.release();
        assertThat(chat.awaitEnd(sent.run().id()).responseText()).isEqualTo("slow");
    }
}
