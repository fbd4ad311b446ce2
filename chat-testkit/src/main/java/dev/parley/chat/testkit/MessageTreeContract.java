package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aMessage;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.SortOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Contract of the conversation tree of {@link dev.parley.chat.port.out.MessageStore}: branches,
 * the active leaf, versions and subtree deletes. Extend it and implement {@link #createStore()}.
 */
public abstract class MessageTreeContract extends StoreContractSupport {
    private long clock;

    @Test
    void should_put_an_edit_beside_the_original_and_make_it_the_active_leaf() {
        // given: q1 a1 q2 a2
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 4);

        // when: q2 is edited
        Message edited = store.messages().appendTo(user(thread, "q2 edited"), chat.get(1).id());

        // then
        assertThat(edited.parentId()).isEqualTo(chat.get(1).id());
        assertThat(edited.position()).isEqualTo(3);
        assertThat(edited.versions()).isEqualTo(new Message.Versions(2, 2));
        assertThat(store.messages().activeLeaf(thread.id())).contains(edited.id());
        assertThat(ids(path(thread))).containsExactly(chat.get(0).id(), chat.get(1).id(), edited.id());
        assertThat(store.messages().find(chat.get(2).id()).orElseThrow().versions()).isEqualTo(new Message.Versions(1, 2));
        assertThat(store.messages().find(chat.get(3).id())).isPresent();
        assertThat(store.messages().count(thread.id())).isEqualTo(5);
    }

    @Test
    void should_put_a_message_aside_without_moving_the_active_leaf_until_its_branch_is_activated() {
        // given: q1 a1 q2 a2
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 4);
        java.time.Instant before = store.threads().find(thread.id()).orElseThrow().updatedAt();

        // when: an edit of q2 waits aside, and the active path goes on meanwhile
        Message aside = store.messages().appendAside(user(thread, "q2 edited"), chat.get(1).id());
        Message a2more = store.messages().append(assistant(thread, "a2, continued"));

        // then: the edit is a version of q2 off the active path, counted with the thread
        assertThat(aside.parentId()).isEqualTo(chat.get(1).id());
        assertThat(aside.position()).isEqualTo(3);
        assertThat(aside.versions()).isEqualTo(new Message.Versions(2, 2));
        assertThat(a2more.parentId()).isEqualTo(chat.get(3).id());
        assertThat(store.messages().activeLeaf(thread.id())).contains(a2more.id());
        assertThat(ids(path(thread))).containsExactly(chat.get(0).id(), chat.get(1).id(), chat.get(2).id(), chat.get(3).id(),
                a2more.id());
        assertThat(store.messages().find(aside.id())).contains(aside);
        assertThat(store.messages().count(thread.id())).isEqualTo(6);
        assertThat(store.threads().find(thread.id()).orElseThrow().updatedAt()).isAfter(before);

        // and when its branch is made active, the path runs through it
        store.messages().moveLeaf(thread.id(), aside.id());
        assertThat(ids(path(thread))).containsExactly(chat.get(0).id(), chat.get(1).id(), aside.id());
        assertThatThrownBy(() -> store.messages().appendAside(user(thread, "x"), Fixtures.messageId()))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_continue_the_new_branch_and_page_the_active_path_across_branches_both_ways() {
        // given: a long first branch, an edit in its middle and a long continuation
        ChatThread thread = givenThread();
        List<Message> first = chat(thread, 10);
        store.messages().appendTo(user(thread, "edit of 5"), first.get(3).id());
        chat(thread, 7);
        Message editAgain = store.messages().appendTo(user(thread, "edit of 9"), path(thread).get(7).id());
        chat(thread, 3);
        List<Message> expected = path(thread);

        // then: 4 + 1 + 3 + 1 + 3 positions, numbered 1..12, each the child of the one before
        assertThat(expected).extracting(Message::position).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
        assertThat(expected.get(8)).isEqualTo(editAgain);
        for (int limit : new int[] {1, 2, 3, 5, 12, 20}) {
            List<Message> reversed = new ArrayList<>(expected);
            Collections.reverse(reversed);
            assertThat(walk(thread, SortOrder.ASC, limit)).containsExactlyElementsOf(expected);
            assertThat(walk(thread, SortOrder.DESC, limit)).containsExactlyElementsOf(reversed);
        }
        assertThat(ids(store.messages().latest(thread.id(), 4))).containsExactlyElementsOf(ids(expected.subList(8, 12)));
        assertThat(ids(store.messages().latest(thread.id(), 100))).containsExactlyElementsOf(ids(expected));
        assertThat(store.messages().latest(thread.id(), 100)).extracting(Message::versions).containsOnly(Message.Versions.ONLY);
    }

    @Test
    void should_activate_the_most_recent_branch_below_a_message() {
        // given: q1 a1, q2 a2 edited to q2' a2', then a2' regenerated to a2''
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 4);
        Message q2b = store.messages().appendTo(user(thread, "q2'"), chat.get(1).id());
        Message a2b = store.messages().append(assistant(thread, "a2'"));
        Message a2c = store.messages().appendTo(assistant(thread, "a2''"), q2b.id());

        // when: the first q2 is activated
        MessageId leaf = store.messages().activate(chat.get(2).id());

        // then
        assertThat(leaf).isEqualTo(chat.get(3).id());
        assertThat(ids(path(thread))).containsExactlyElementsOf(ids(chat));

        // and when: back to the edit, whose latest answer is a2''
        assertThat(store.messages().activate(q2b.id())).isEqualTo(a2c.id());
        assertThat(ids(path(thread))).containsExactly(chat.get(0).id(), chat.get(1).id(), q2b.id(), a2c.id());
        assertThat(store.messages().activate(a2b.id())).isEqualTo(a2b.id());
        assertThat(store.messages().activate(chat.get(0).id())).isEqualTo(a2c.id());
    }

    @Test
    void should_page_the_versions_of_a_message_oldest_first_by_role() {
        // given: three answers to q1 and a tool message beside them
        ChatThread thread = givenThread();
        Message q1 = store.messages().append(user(thread, "q1"));
        Message a1 = store.messages().append(assistant(thread, "a1"));
        Message a2 = store.messages().appendTo(assistant(thread, "a2"), q1.id());
        Message a3 = store.messages().appendTo(assistant(thread, "a3"), q1.id());
        store.messages().appendTo(aMessage().inThread(thread).from(Role.TOOL).answeringToolCall("c1").createdAt(tick()).build(),
                q1.id());

        // when
        Page<Message> firstPage = store.messages().versions(a2.id(), PageRequest.first(2));
        Page<Message> secondPage = store.messages().versions(a2.id(), new PageRequest(2, firstPage.nextCursor()));

        // then
        assertThat(ids(firstPage.items())).containsExactly(a1.id(), a2.id());
        assertThat(firstPage.items()).extracting(Message::versions)
                .containsExactly(new Message.Versions(1, 3), new Message.Versions(2, 3));
        assertThat(firstPage.hasMore()).isTrue();
        assertThat(ids(secondPage.items())).containsExactly(a3.id());
        assertThat(secondPage.hasMore()).isFalse();
        assertThat(store.messages().versions(q1.id(), PageRequest.firstPage()).items()).containsExactly(q1);
        assertThatThrownBy(() -> store.messages().versions(Fixtures.messageId(), PageRequest.firstPage()))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_keep_edits_of_the_first_message_as_versions_of_it() {
        // given
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 2);

        // when
        Message edited = store.messages().appendTo(user(thread, "first, edited"), null);

        // then
        assertThat(edited.parentId()).isNull();
        assertThat(edited.position()).isEqualTo(1);
        assertThat(edited.versions()).isEqualTo(new Message.Versions(2, 2));
        assertThat(path(thread)).containsExactly(edited);
        assertThat(store.messages().activate(chat.get(0).id())).isEqualTo(chat.get(1).id());
    }

    @Test
    void should_append_below_a_leaf_moved_into_the_middle_of_the_path() {
        // given
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 4);

        // when
        store.messages().moveLeaf(thread.id(), chat.get(1).id());
        Message next = store.messages().append(user(thread, "again"));

        // then
        assertThat(next.parentId()).isEqualTo(chat.get(1).id());
        assertThat(ids(path(thread))).containsExactly(chat.get(0).id(), chat.get(1).id(), next.id());
        assertThatThrownBy(() -> store.messages().moveLeaf(thread.id(), Fixtures.messageId())).isInstanceOf(NotFoundException.class);
        ChatThread other = givenThread();
        assertThatThrownBy(() -> store.messages().moveLeaf(other.id(), chat.get(0).id())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> store.messages().appendTo(user(other, "x"), chat.get(0).id())).isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_delete_a_subtree_on_every_branch_and_move_the_leaf_to_its_parent() {
        // given: q1 a1 q2 a2 q3, with q2 edited (q2' a2') and a2 regenerated (a2'')
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 5);
        Message q2b = store.messages().appendTo(user(thread, "q2'"), chat.get(1).id());
        Message a2b = store.messages().append(assistant(thread, "a2'"));
        Message a2c = store.messages().appendTo(assistant(thread, "a2''"), chat.get(2).id());
        store.messages().activate(chat.get(4).id());

        // when: q2 goes, with a2, q3 and a2'' below it
        int removed = store.messages().delete(chat.get(2).id());

        // then
        assertThat(removed).isEqualTo(4);
        for (MessageId gone : List.of(chat.get(2).id(), chat.get(3).id(), chat.get(4).id(), a2c.id())) {
            assertThat(store.messages().find(gone)).isEmpty();
        }
        assertThat(store.messages().activeLeaf(thread.id())).contains(chat.get(1).id());
        assertThat(ids(path(thread))).containsExactly(chat.get(0).id(), chat.get(1).id());
        assertThat(store.messages().find(q2b.id()).orElseThrow().versions()).isEqualTo(Message.Versions.ONLY);
        assertThat(store.messages().count(thread.id())).isEqualTo(4);
        assertThat(store.messages().activate(q2b.id())).isEqualTo(a2b.id());

        // and when: a message off the active path goes, the leaf stays
        Message offPath = store.messages().appendTo(user(thread, "side"), chat.get(1).id());
        store.messages().activate(q2b.id());
        assertThat(store.messages().delete(offPath.id())).isEqualTo(1);
        assertThat(store.messages().activeLeaf(thread.id())).contains(a2b.id());
        assertThat(store.messages().delete(offPath.id())).isZero();
    }

    @Test
    void should_remove_with_a_subtree_the_runs_its_messages_started_or_answered_and_keep_the_others() {
        // given: q1 a1 q2 a2, each answer a run's; a2 regenerated as a2' by a third run; q1 edited as q1' with a fourth
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 4);
        Run first = givenAnsweredRun(thread, chat.get(0), chat.get(1));
        Run second = givenAnsweredRun(thread, chat.get(2), chat.get(3));
        Message a2b = store.messages().appendTo(assistant(thread, "a2'"), chat.get(2).id());
        Run regenerated = givenAnsweredRun(thread, chat.get(2), a2b);
        Message q1b = store.messages().appendTo(user(thread, "q1'"), null);
        Run edited = givenAnsweredRun(thread, q1b, store.messages().append(assistant(thread, "a1'")));

        // when: q2 goes, with a2 and a2'
        int removed = store.messages().delete(chat.get(2).id());

        // then: the runs of q2 went with their steps and events; the others stay whole
        assertThat(removed).isEqualTo(3);
        for (Run gone : List.of(second, regenerated)) {
            assertThat(store.runs().find(gone.id())).isEmpty();
            assertThat(store.runs().steps(gone.id())).isEmpty();
            assertThat(store.events().read(gone.id(), 0, 100)).isEmpty();
        }
        assertThat(store.runs().page(thread.id(), PageRequest.firstPage()).items()).extracting(Run::id)
                .containsExactlyInAnyOrder(first.id(), edited.id());
        for (Run kept : List.of(first, edited)) {
            assertThat(store.runs().steps(kept.id())).hasSize(1);
            assertThat(store.events().read(kept.id(), 0, 100)).hasSize(3);
        }
    }

    /** A completed run started by {@code question} and answered by {@code answer}, with a step and three events. */
    private Run givenAnsweredRun(ChatThread thread, Message question, Message answer) {
        Run run = givenRun(Fixtures.aRun().onThread(thread).forMessage(question.id()).createdAt(tick()));
        Run started = run.started(tick());
        assertThat(store.runs().update(started, dev.parley.chat.model.RunStatus.QUEUED)).isTrue();
        store.runs().insertStep(Fixtures.aStep().ofRun(run).messageCreation().startedAt(tick()).build());
        Run done = started.completed(tick(), answer.id(), dev.parley.chat.model.Usage.ZERO, null);
        assertThat(store.runs().update(done, dev.parley.chat.model.RunStatus.IN_PROGRESS)).isTrue();
        store.events().append(Fixtures.eventsOf(run.id()).started(thread.id(), question.id()).tokens(answer.text())
                .done(thread.id(), answer.id(), dev.parley.chat.model.Usage.ZERO, null).build());
        return done;
    }

    @Test
    void should_leave_an_empty_path_when_the_first_message_is_deleted_and_start_again() {
        // given
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 3);

        // when
        assertThat(store.messages().delete(chat.get(0).id())).isEqualTo(3);
        Message fresh = store.messages().append(user(thread, "again"));

        // then
        assertThat(fresh.parentId()).isNull();
        assertThat(fresh.position()).isEqualTo(1);
        assertThat(path(thread)).containsExactly(fresh);
        assertThat(store.messages().count(thread.id())).isEqualTo(1);
    }

    @Test
    void should_continue_a_branch_cut_short_by_a_delete() {
        // given: the tail of a branch is deleted while a fork above the cut survives
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 6);
        Message fork = store.messages().appendTo(user(thread, "fork"), chat.get(1).id());
        store.messages().activate(chat.get(5).id());
        store.messages().delete(chat.get(4).id());

        // when
        Message a = store.messages().append(assistant(thread, "new tail"));
        Message b = store.messages().append(user(thread, "and more"));

        // then
        assertThat(ids(path(thread))).containsExactly(chat.get(0).id(), chat.get(1).id(), chat.get(2).id(), chat.get(3).id(),
                a.id(), b.id());
        assertThat(store.messages().activate(fork.id())).isEqualTo(fork.id());
    }

    @Test
    void should_replace_metadata_and_nothing_else() {
        ChatThread thread = givenThread();
        Message m = chat(thread, 1).get(0);

        Message updated = store.messages().updateMetadata(m.id(), Map.of("pinned", "yes"));

        assertThat(updated).isEqualTo(m.withMetadata(Map.of("pinned", "yes")));
        assertThat(store.messages().find(m.id())).contains(updated);
        assertThatThrownBy(() -> store.messages().updateMetadata(Fixtures.messageId(), Map.of()))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_let_one_of_two_concurrent_edits_of_one_thread_win_and_refuse_the_other() {
        // given
        ChatThread thread = givenThread();
        List<Message> chat = chat(thread, 4);

        // when: two edits of q2, each checking for an active run under the thread's lock, as a send does
        List<Object> results = race(2, i -> store.inTransaction(() -> {
            store.threads().lock(thread.id()).orElseThrow();
            if (!store.runs().active(thread.id()).isEmpty()) {
                throw ConflictException.runInProgress(thread.id());
            }
            Message edit = store.messages().appendTo(user(thread, "edit " + i), chat.get(1).id());
            Run run = Fixtures.aRun().onThread(thread).forMessage(edit.id()).inProgress().build();
            store.runs().insertStarted(run, "server", at(100_000));
            return edit;
        }));

        // then
        assertThat(results).filteredOn(r -> r instanceof Message).hasSize(1);
        assertThat(results).filteredOn(r -> r instanceof ConflictException ce
                && ce.reason() == ConflictException.Reason.RUN_IN_PROGRESS).hasSize(1);
        Message winner = (Message) results.stream().filter(r -> r instanceof Message).findFirst().orElseThrow();
        assertThat(store.messages().activeLeaf(thread.id())).contains(winner.id());
        assertThat(store.messages().versions(chat.get(2).id(), PageRequest.firstPage()).items()).hasSize(2);
        assertThat(store.messages().count(thread.id())).isEqualTo(5);
    }

    @Test
    void should_keep_the_tree_whole_when_a_delete_races_appends() {
        for (int round = 0; round < 5; round++) {
            // given
            ChatThread thread = givenThread();
            List<Message> chat = chat(thread, 4);
            int n = 6;

            // when: one racer deletes q2 (and everything below it) while the others append to the leaf
            List<Object> results = race(n, i -> i == 0 ? store.messages().delete(chat.get(2).id())
                    : store.messages().append(user(thread, "racer " + i)));

            // then: the active path is whole, and each appended message survived unless it landed below q2
            List<Message> path = path(thread);
            for (int k = 0; k < path.size(); k++) {
                assertThat(path.get(k).position()).isEqualTo(k + 1L);
                assertThat(path.get(k).parentId()).isEqualTo(k == 0 ? null : path.get(k - 1).id());
            }
            assertThat(ids(path)).startsWith(chat.get(0).id(), chat.get(1).id()).doesNotContain(chat.get(2).id());
            long survivors = 0;
            for (Object r : results.subList(1, n)) {
                Message m = (Message) r;
                Optional<Message> found = store.messages().find(m.id());
                if (found.isPresent()) {
                    survivors++;
                    assertThat(path).contains(found.get());
                }
            }
            assertThat(store.messages().count(thread.id())).isEqualTo(2 + survivors);
            assertThat(path).hasSize((int) (2 + survivors));
        }
    }

    // --- helpers ---

    /** Appends {@code n} messages to the active leaf, user and assistant by turns. */
    protected List<Message> chat(ChatThread thread, int n) {
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(store.messages().append(i % 2 == 0 ? user(thread, "q" + i) : assistant(thread, "a" + i)));
        }
        return out;
    }

    private Message user(ChatThread thread, String text) {
        return aMessage().inThread(thread).withText(text).createdAt(tick()).build();
    }

    private Message assistant(ChatThread thread, String text) {
        return aMessage().inThread(thread).fromAssistant().withText(text).createdAt(tick()).build();
    }

    private java.time.Instant tick() {
        return at(++clock);
    }

    private static List<MessageId> ids(List<Message> messages) {
        return messages.stream().map(Message::id).toList();
    }

    /** The whole active path, oldest first. */
    protected List<Message> path(ChatThread thread) {
        return walk(thread, SortOrder.ASC, 100);
    }

    /** Reads every page of the active path and checks the page invariants on the way. */
    protected List<Message> walk(ChatThread thread, SortOrder order, int limit) {
        List<Message> all = new ArrayList<>();
        String cursor = null;
        for (int guard = 0; guard < 1000; guard++) {
            Page<Message> page = store.messages().page(thread.id(), new PageRequest(limit, cursor), order);
            assertThat(page.items().size()).isLessThanOrEqualTo(limit);
            assertThat(page.nextCursor() == null).isEqualTo(!page.hasMore());
            all.addAll(page.items());
            if (!page.hasMore()) {
                assertThat(all).doesNotHaveDuplicates();
                return all;
            }
            cursor = page.nextCursor();
        }
        throw new AssertionError("paging did not end");
    }
}
