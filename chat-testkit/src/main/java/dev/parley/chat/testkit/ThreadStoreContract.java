package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.aThread;
import static dev.parley.chat.testkit.Fixtures.anIdempotencyRecord;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.SortOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Contract of {@link dev.parley.chat.port.out.ThreadStore}: extend it and implement {@link #createStore()}. */
public abstract class ThreadStoreContract extends StoreContractSupport {

    @Test
    void should_find_an_inserted_thread_with_every_field() {
        // given
        ChatThread thread = aThread().ownedBy("alice").withAgent("helper").titled(Fixtures.UNICODE)
                .withMetadata("project", "Apollo 🚀").withMetadata("rtl", Fixtures.RTL)
                .createdAt(at(1)).updatedAt(at(2)).build();

        // when
        store.threads().insert(thread);

        // then
        assertThat(store.threads().find(thread.id())).contains(thread);
    }

    @Test
    void should_keep_a_null_title_and_empty_metadata() {
        // given
        ChatThread thread = aThread().build();

        // when
        store.threads().insert(thread);

        // then
        ChatThread found = store.threads().find(thread.id()).orElseThrow();
        assertThat(found.title()).isNull();
        assertThat(found.metadata()).isEmpty();
    }

    @Test
    void should_find_nothing_for_an_unknown_id() {
        assertThat(store.threads().find(Fixtures.threadId())).isEmpty();
        assertThat(store.threads().lock(Fixtures.threadId())).isEmpty();
    }

    @Test
    void should_refuse_a_second_thread_with_the_same_id() {
        // given
        ChatThread thread = givenThread();

        // when / then
        assertThatThrownBy(() -> store.threads().insert(aThread().withId(thread.id()).ownedBy("bob").build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
        assertThat(store.threads().find(thread.id())).contains(thread);
    }

    @Test
    void should_keep_the_agent_version_a_thread_was_pinned_to_across_updates() {
        // given
        ChatThread thread = aThread().ownedBy("alice").withAgent("agt_1").build().withAgentVersion(3);
        store.threads().insert(thread);
        ChatThread unpinned = givenThread();

        // when
        store.threads().update(thread.withTitle("renamed", at(2000)).withAgentVersion(7));

        // then
        assertThat(store.threads().find(thread.id()).orElseThrow().agentVersion()).isEqualTo(3);
        assertThat(store.threads().find(unpinned.id()).orElseThrow().agentVersion()).isNull();
    }

    @Test
    void should_update_title_metadata_and_updated_at_only() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice").withAgent("helper").titled("old").withMetadata("a", "1"));
        ChatThread changed = new ChatThread(thread.id(), "mallory", "other-agent", "new ✨", Map.of("b", "2"),
                at(500), at(1000), null);

        // when
        boolean updated = store.threads().update(changed);

        // then
        assertThat(updated).isTrue();
        ChatThread found = store.threads().find(thread.id()).orElseThrow();
        assertThat(found.title()).isEqualTo("new ✨");
        assertThat(found.metadata()).isEqualTo(Map.of("b", "2"));
        assertThat(found.updatedAt()).isEqualTo(at(1000));
        assertThat(found.ownerId()).isEqualTo("alice");
        assertThat(found.agentId()).isEqualTo("helper");
        assertThat(found.createdAt()).isEqualTo(thread.createdAt());
    }

    @Test
    void should_not_update_a_missing_thread() {
        assertThat(store.threads().update(aThread().build())).isFalse();
    }

    @Test
    void should_lock_like_find_inside_and_outside_a_transaction() {
        // given
        ChatThread thread = givenThread();

        // when / then
        assertThat(store.threads().lock(thread.id())).contains(thread);
        assertThat(store.inTransaction(() -> store.threads().lock(thread.id()))).contains(thread);
    }

    @Test
    void should_list_the_owners_threads_most_recently_updated_first() {
        // given
        ChatThread older = givenThread(aThread().ownedBy("alice").createdAt(at(1)));
        ChatThread newest = givenThread(aThread().ownedBy("alice").createdAt(at(3)));
        ChatThread middle = givenThread(aThread().ownedBy("alice").createdAt(at(0)).updatedAt(at(2)));
        givenThread(aThread().ownedBy("bob").createdAt(at(4)));

        // when
        Page<ChatThread> page = store.threads().list("alice", null, PageRequest.first(10));

        // then
        assertThat(page.items()).containsExactly(newest, middle, older);
        assertThat(page.hasMore()).isFalse();
        assertThat(page.nextCursor()).isNull();
    }

    @Test
    void should_move_an_updated_thread_up_the_list_and_drop_a_deleted_one() {
        // given
        ChatThread older = givenThread(aThread().ownedBy("alice").withAgent("helper").createdAt(at(1)));
        ChatThread newer = givenThread(aThread().ownedBy("alice").withAgent("helper").createdAt(at(2)));
        ChatThread doomed = givenThread(aThread().ownedBy("alice").withAgent("helper").createdAt(at(3)));
        ChatThread gone = givenThread(aThread().ownedBy("alice").withAgent("helper").createdAt(at(4)));

        // when
        ChatThread touched = older.withTitle("renamed", at(10));
        store.threads().update(touched);
        store.threads().softDelete(doomed.id(), at(11));
        store.threads().hardDelete(gone.id());

        // then
        assertThat(store.threads().list("alice", null, PageRequest.first(10)).items()).containsExactly(touched, newer);
        assertThat(store.threads().list("alice", "helper", PageRequest.first(10)).items()).containsExactly(touched, newer);
        assertThat(walkThreads("alice", "helper", 1)).containsExactly(touched, newer);
    }

    @Test
    void should_break_ties_of_updated_at_by_id_descending() {
        // given
        List<ChatThread> threads = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            threads.add(givenThread(aThread().createdAt(at(7))));
        }
        threads.sort(Comparator.comparing(ChatThread::id).reversed());

        // when
        List<ChatThread> walked = walkThreads("alice", null, 2);

        // then
        assertThat(walked).containsExactlyElementsOf(threads);
    }

    @Test
    void should_filter_threads_by_agent() {
        // given
        ChatThread helper = givenThread(aThread().withAgent("helper"));
        givenThread(aThread().withAgent("coder"));

        // when
        Page<ChatThread> page = store.threads().list("alice", "helper", PageRequest.first(10));

        // then
        assertThat(page.items()).containsExactly(helper);
    }

    @Test
    void should_return_an_empty_last_page_when_the_owner_has_no_threads() {
        Page<ChatThread> page = store.threads().list("nobody", null, PageRequest.firstPage());

        assertThat(page.items()).isEmpty();
        assertThat(page.hasMore()).isFalse();
        assertThat(page.nextCursor()).isNull();
    }

    @Test
    void should_walk_every_thread_once_across_pages() {
        // given
        List<ChatThread> expected = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            expected.add(0, givenThread(aThread().createdAt(at(i * 10L))));
        }

        // when
        List<ChatThread> walked = walkThreads("alice", null, 3);

        // then
        assertThat(walked).containsExactlyElementsOf(expected);
    }

    @Test
    void should_say_no_more_when_the_last_page_is_exactly_full() {
        // given
        for (int i = 0; i < 4; i++) {
            givenThread(aThread().createdAt(at(i)));
        }

        // when
        Page<ChatThread> first = store.threads().list("alice", null, PageRequest.first(2));
        Page<ChatThread> second = store.threads().list("alice", null, new PageRequest(2, first.nextCursor()));

        // then
        assertThat(first.hasMore()).isTrue();
        assertThat(first.nextCursor()).isNotNull();
        assertThat(second.items()).hasSize(2);
        assertThat(second.hasMore()).isFalse();
        assertThat(second.nextCursor()).isNull();
    }

    @Test
    void should_not_shift_later_pages_when_threads_are_created_or_updated_between_requests() {
        // given
        List<ChatThread> threads = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            threads.add(0, givenThread(aThread().createdAt(at(i * 10L))));
        }
        Page<ChatThread> first = store.threads().list("alice", null, PageRequest.first(3));

        // when: a new thread appears and an already seen one moves to the top
        givenThread(aThread().createdAt(at(1000)));
        ChatThread seen = first.items().get(2);
        store.threads().update(seen.withTitle("bumped", at(2000)));
        Page<ChatThread> second = store.threads().list("alice", null, new PageRequest(3, first.nextCursor()));

        // then
        assertThat(first.items()).containsExactlyElementsOf(threads.subList(0, 3));
        assertThat(second.items()).containsExactlyElementsOf(threads.subList(3, 6));
        assertThat(second.hasMore()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage", "!!!", "eyJ4IjoxfQ", "%%%", "null", "0", "-1"})
    void should_reject_a_malformed_cursor_as_an_invalid_parameter(String cursor) {
        givenThread();

        assertThatThrownBy(() -> store.threads().list("alice", null, new PageRequest(10, cursor)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_parameter");
                    assertThat(e.errors()).anySatisfy(err -> assertThat(err.field()).isEqualTo("cursor"));
                });
    }

    @Test
    void should_reject_a_message_cursor_as_a_thread_cursor() {
        // given
        ChatThread thread = givenThread();
        for (int i = 0; i < 3; i++) {
            givenMessage(thread);
        }
        String messageCursor = store.messages().page(thread.id(), PageRequest.first(1), SortOrder.ASC).nextCursor();

        // when / then
        assertThatThrownBy(() -> store.threads().list("alice", null, new PageRequest(10, messageCursor)))
                .isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void should_hide_a_soft_deleted_thread_from_every_read() {
        // given
        ChatThread thread = givenThread(aThread().titled("secret"));
        ChatThread other = givenThread(aThread().createdAt(at(1)));

        // when
        boolean deleted = store.threads().softDelete(thread.id(), at(99));

        // then
        assertThat(deleted).isTrue();
        assertThat(store.threads().find(thread.id())).isEmpty();
        assertThat(store.threads().lock(thread.id())).isEmpty();
        assertThat(store.threads().list("alice", null, PageRequest.firstPage()).items()).containsExactly(other);
        assertThat(store.threads().list("alice", "assistant", PageRequest.firstPage()).items()).containsExactly(other);
        assertThat(store.threads().update(thread.withTitle("revived", at(100)))).isFalse();
        assertThat(store.threads().find(thread.id())).isEmpty();
        assertThat(store.threads().softDelete(thread.id(), at(101))).isFalse();
    }

    @Test
    void should_not_soft_delete_a_missing_thread() {
        assertThat(store.threads().softDelete(Fixtures.threadId(), at(1))).isFalse();
    }

    @Test
    void should_hard_delete_a_thread_with_everything_it_owns() {
        // given
        ChatThread thread = givenThread();
        var message = givenMessage(thread);
        Run run = givenRun(aRun().onThread(thread).forMessage(message.id()).completed());
        store.runs().insertStep(aStep().ofRun(run).completed("42").build());
        store.events().append(Fixtures.eventsOf(run.id()).started(thread.id(), message.id()).tokens("a").build());
        store.idempotency().insert(anIdempotencyRecord().inScope(thread.id().value()).forRun(run).build());

        // when
        boolean deleted = store.threads().hardDelete(thread.id());

        // then
        assertThat(deleted).isTrue();
        assertThat(store.threads().find(thread.id())).isEmpty();
        assertThat(store.messages().count(thread.id())).isZero();
        assertThat(store.messages().find(message.id())).isEmpty();
        assertThat(store.runs().find(run.id())).isEmpty();
        assertThat(store.runs().steps(run.id())).isEmpty();
        assertThat(store.events().lastSeq(run.id())).isZero();
        assertThat(store.events().read(run.id(), 0, 10)).isEmpty();
        assertThat(store.idempotency().find("alice", thread.id().value(), "key-1")).isEmpty();
    }

    @Test
    void should_hard_delete_a_soft_deleted_thread() {
        // given
        ChatThread thread = givenThread();
        givenMessage(thread);
        store.threads().softDelete(thread.id(), at(5));

        // when / then
        assertThat(store.threads().hardDelete(thread.id())).isTrue();
        assertThat(store.threads().hardDelete(thread.id())).isFalse();
        // the id is free again
        store.threads().insert(aThread().withId(thread.id()).build());
        assertThat(store.messages().count(thread.id())).isZero();
    }

    @Test
    void should_leave_other_threads_untouched_by_a_hard_delete() {
        // given
        ChatThread doomed = givenThread();
        ChatThread kept = givenThread(aThread().createdAt(at(1)));
        var keptMessage = givenMessage(kept);
        givenMessage(doomed);
        Run keptRun = givenRun(aRun().onThread(kept).forMessage(keptMessage.id()));
        store.events().append(Fixtures.eventsOf(keptRun.id()).started(kept.id(), keptMessage.id()).build());
        store.idempotency().insert(anIdempotencyRecord().forRun(keptRun).build());

        // when
        store.threads().hardDelete(doomed.id());

        // then
        assertThat(store.threads().find(kept.id())).contains(kept);
        assertThat(store.messages().count(kept.id())).isEqualTo(1);
        assertThat(store.runs().find(keptRun.id())).contains(keptRun);
        assertThat(store.events().lastSeq(keptRun.id())).isEqualTo(1);
        assertThat(store.idempotency().find("alice", "", "key-1")).isPresent();
    }

    @Test
    void should_not_hard_delete_a_missing_thread() {
        assertThat(store.threads().hardDelete(Fixtures.threadId())).isFalse();
    }

    @Test
    void should_keep_every_thread_inserted_concurrently() {
        // given
        int n = 16;
        List<ChatThread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(aThread().createdAt(at(i)).build());
        }

        // when
        List<Object> results = race(n, i -> {
            store.threads().insert(threads.get(i));
            return "ok";
        });

        // then
        assertThat(results).containsOnly("ok");
        assertThat(walkThreads("alice", null, 5)).containsExactlyInAnyOrderElementsOf(threads);
    }

    @Test
    void should_not_list_a_thread_for_another_owner_with_a_valid_cursor() {
        // given
        givenThread(aThread().ownedBy("alice").createdAt(at(1)));
        givenThread(aThread().ownedBy("alice").createdAt(at(2)));
        givenThread(aThread().ownedBy("bob").createdAt(at(0)));
        Page<ChatThread> first = store.threads().list("alice", null, PageRequest.first(1));

        // when
        Page<ChatThread> rest = store.threads().list("alice", null, new PageRequest(10, first.nextCursor()));

        // then
        assertThat(rest.items()).extracting(ChatThread::ownerId).containsOnly("alice");
        assertThat(rest.items()).hasSize(1);
    }

    /** Lists every page and checks the page invariants on the way. */
    protected List<ChatThread> walkThreads(String owner, String agent, int limit) {
        List<ChatThread> all = new ArrayList<>();
        String cursor = null;
        for (int guard = 0; guard < 1000; guard++) {
            Page<ChatThread> page = store.threads().list(owner, agent, new PageRequest(limit, cursor));
            assertThat(page.items().size()).isLessThanOrEqualTo(limit);
            assertThat(page.nextCursor() == null).isEqualTo(!page.hasMore());
            if (page.hasMore()) {
                assertThat(page.items()).hasSize(limit);
            }
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
