package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aThread;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ThreadId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Contract of the trash: soft-deleted threads listed, restored and purged through {@link dev.parley.chat.port.out.ThreadStore}. */
public abstract class TrashContract extends StoreContractSupport {

    private ChatThread deleted(String owner, long deletedAtMillis) {
        ChatThread thread = givenThread(aThread().ownedBy(owner));
        assertThat(store.threads().softDelete(thread.id(), at(deletedAtMillis))).isTrue();
        return thread;
    }

    @Test
    void should_find_a_soft_deleted_thread_only_through_the_trash() {
        // given
        ChatThread live = givenThread();
        ChatThread gone = deleted("alice", 5);
        // then
        assertThat(store.threads().findDeleted(gone.id())).hasValueSatisfying(t -> assertThat(t.deletedAt()).isEqualTo(at(5)));
        assertThat(store.threads().findDeleted(live.id())).isEmpty();
        assertThat(store.threads().findDeleted(Fixtures.threadId())).isEmpty();
        assertThat(store.threads().find(gone.id())).isEmpty();
    }

    @Test
    void should_page_a_users_trash_most_recently_deleted_first() {
        // given
        List<ThreadId> expected = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            expected.add(0, deleted("alice", i * 10L).id());
        }
        deleted("bob", 100);
        givenThread(aThread().ownedBy("alice"));
        // when
        Page<ChatThread> first = store.threads().listDeleted("alice", new PageRequest(2, null));
        Page<ChatThread> second = store.threads().listDeleted("alice", new PageRequest(2, first.nextCursor()));
        Page<ChatThread> third = store.threads().listDeleted("alice", new PageRequest(2, second.nextCursor()));
        // then
        List<ThreadId> seen = new ArrayList<>();
        for (Page<ChatThread> page : List.of(first, second, third)) {
            page.items().forEach(t -> seen.add(t.id()));
        }
        assertThat(seen).containsExactlyElementsOf(expected);
        assertThat(first.hasMore()).isTrue();
        assertThat(third.hasMore()).isFalse();
        assertThat(third.nextCursor()).isNull();
    }

    @Test
    void should_restore_a_soft_deleted_thread_with_its_runs() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        var run = givenRun(aRun().onThread(thread).completed());
        store.threads().softDelete(thread.id(), at(5));
        // when
        boolean restored = store.threads().restore(thread.id());
        // then
        assertThat(restored).isTrue();
        assertThat(store.threads().find(thread.id())).hasValueSatisfying(t -> assertThat(t.deletedAt()).isNull());
        assertThat(store.runs().find(run.id())).isPresent();
        assertThat(store.threads().listDeleted("alice", PageRequest.firstPage()).items()).isEmpty();
        assertThat(store.threads().restore(thread.id())).isFalse();
        assertThat(store.threads().restore(Fixtures.threadId())).isFalse();
    }

    @Test
    void should_name_the_threads_deleted_before_a_time_earliest_first() {
        // given
        ChatThread oldest = deleted("alice", 10);
        ChatThread older = deleted("bob", 20);
        deleted("alice", 30);
        givenThread();
        // when / then
        assertThat(store.threads().deletedBefore(at(20), 10)).containsExactly(oldest.id(), older.id());
        assertThat(store.threads().deletedBefore(at(30), 1)).containsExactly(oldest.id());
        assertThat(store.threads().deletedBefore(at(5), 10)).isEmpty();
    }

    @Test
    void should_purge_only_a_thread_still_deleted_before_the_cutoff() {
        // given
        ChatThread old = deleted("alice", 10);
        givenRun(aRun().onThread(old).completed());
        ChatThread recent = deleted("alice", 50);
        ChatThread restored = deleted("alice", 10);
        store.threads().restore(restored.id());
        ChatThread live = givenThread();
        // when
        boolean purgedOld = store.threads().purge(old.id(), at(20));
        boolean purgedRecent = store.threads().purge(recent.id(), at(20));
        boolean purgedRestored = store.threads().purge(restored.id(), at(20));
        boolean purgedLive = store.threads().purge(live.id(), at(20));
        // then
        assertThat(purgedOld).isTrue();
        assertThat(store.threads().findDeleted(old.id())).isEmpty();
        assertThat(purgedRecent).isFalse();
        assertThat(store.threads().findDeleted(recent.id())).isPresent();
        assertThat(purgedRestored).isFalse();
        assertThat(store.threads().find(restored.id())).isPresent();
        assertThat(purgedLive).isFalse();
        assertThat(store.threads().find(live.id())).isPresent();
    }

    @Test
    void should_hard_delete_a_thread_in_the_trash() {
        ChatThread gone = deleted("alice", 10);
        assertThat(store.threads().hardDelete(gone.id())).isTrue();
        assertThat(store.threads().findDeleted(gone.id())).isEmpty();
    }
}
