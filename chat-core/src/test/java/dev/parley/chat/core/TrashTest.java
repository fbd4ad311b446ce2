package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.port.out.ChatStore;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TrashTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    private ChatHarness start(UnaryOperator<ChatServiceBuilder> customize) {
        return start(InMemoryAdapters.store(), customize);
    }

    private ChatHarness start(ChatStore store, UnaryOperator<ChatServiceBuilder> customize) {
        chat = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)), customize);
        return chat;
    }

    @Test
    void should_list_restore_and_hard_delete_a_users_deleted_threads_only() {
        // given
        start(b -> b);
        ChatThread kept = chat.newThread(ALICE);
        ChatThread binned = chat.newThread(ALICE);
        ChatThread forever = chat.newThread(ALICE);
        chat.awaitEnd(chat.send(binned.id(), "hello").run().id());
        chat.service.deleteThread(ALICE, binned.id(), false);
        chat.clock.advance(Duration.ofSeconds(1));
        chat.service.deleteThread(ALICE, forever.id(), false);
        // when / then: newest deletion first, with its deletion time
        var trash = chat.service.listDeletedThreads(ALICE, PageRequest.firstPage()).items();
        assertThat(trash).extracting(ChatThread::id).containsExactly(forever.id(), binned.id());
        assertThat(trash.get(0).deletedAt()).isNotNull();
        assertThat(chat.service.listDeletedThreads(BOB, PageRequest.firstPage()).items()).isEmpty();
        // another user's thread in the trash is as missing as a missing one
        assertThatThrownBy(() -> chat.service.restoreThread(BOB, binned.id())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> chat.service.deleteThread(BOB, forever.id(), true)).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> chat.service.restoreThread(ALICE, kept.id())).isInstanceOf(NotFoundException.class);
        // restore brings the thread back with its history and usage
        ChatThread restored = chat.service.restoreThread(ALICE, binned.id());
        assertThat(restored.deletedAt()).isNull();
        assertThat(restored.usage().runs()).isEqualTo(1);
        assertThat(chat.history(binned.id())).hasSize(2);
        // hard delete empties the trash of that thread for good
        chat.service.deleteThread(ALICE, forever.id(), true);
        assertThat(chat.service.listDeletedThreads(ALICE, PageRequest.firstPage()).items()).isEmpty();
        assertThatThrownBy(() -> chat.service.restoreThread(ALICE, forever.id())).isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_purge_threads_deleted_longer_than_the_retention_ago() {
        // given
        start(b -> b.trashRetention(Duration.ofDays(30)).trashPurgeInterval(Duration.ZERO));
        ChatThread old = chat.newThread(ALICE);
        ChatThread recent = chat.newThread(ALICE);
        chat.service.deleteThread(ALICE, old.id(), false);
        chat.clock.advance(Duration.ofDays(20));
        chat.service.deleteThread(ALICE, recent.id(), false);
        chat.clock.advance(Duration.ofDays(10));
        // when
        int removed = chat.service.purgeTrash();
        // then
        assertThat(removed).isEqualTo(1);
        assertThat(chat.service.listDeletedThreads(ALICE, PageRequest.firstPage()).items()).extracting(ChatThread::id)
                .containsExactly(recent.id());
        assertThat(chat.store.threads().findDeleted(old.id())).isEmpty();
    }

    @Test
    void should_keep_the_trash_forever_with_a_zero_retention() {
        start(b -> b.trashRetention(Duration.ZERO));
        ChatThread thread = chat.newThread(ALICE);
        chat.service.deleteThread(ALICE, thread.id(), false);
        chat.clock.advance(Duration.ofDays(3650));
        assertThat(chat.service.purgeTrash()).isZero();
        assertThat(chat.store.threads().findDeleted(thread.id())).isPresent();
    }

    @Test
    void should_purge_in_batches_until_the_trash_is_empty() {
        start(b -> b.trashRetention(Duration.ofDays(1)).trashPurgeInterval(Duration.ZERO));
        for (int i = 0; i < TrashKeeper.BATCH * 2 + 5; i++) {
            chat.service.deleteThread(ALICE, chat.newThread(ALICE).id(), false);
        }
        chat.clock.advance(Duration.ofDays(2));
        assertThat(chat.service.purgeTrash()).isEqualTo(TrashKeeper.BATCH * 2 + 5);
    }

    @Test
    void should_leave_the_purge_to_the_server_holding_its_lease() {
        // given: another server holds the purge job
        ChatStore store = InMemoryAdapters.store();
        start(store, b -> b.trashRetention(Duration.ofDays(1)).trashPurgeInterval(Duration.ZERO));
        ChatThread thread = chat.newThread(ALICE);
        chat.service.deleteThread(ALICE, thread.id(), false);
        chat.clock.advance(Duration.ofDays(2));
        store.leases().tryAcquire(TrashKeeper.JOB, "other-server", chat.clock.instant(), chat.clock.instant().plusSeconds(60));
        // when / then
        assertThat(chat.service.purgeTrash()).isZero();
        chat.clock.advance(Duration.ofSeconds(61));
        assertThat(chat.service.purgeTrash()).isEqualTo(1);
    }

    @Test
    void should_purge_on_its_own_every_interval() {
        start(b -> b.trashRetention(Duration.ofMillis(1)).trashPurgeInterval(Duration.ofMillis(20)));
        ChatThread thread = chat.newThread(ALICE);
        chat.service.deleteThread(ALICE, thread.id(), false);
        chat.clock.advance(Duration.ofSeconds(1));
        ChatHarness.eventually("the trash was purged", () -> chat.store.threads().findDeleted(thread.id()).isEmpty());
    }
}
