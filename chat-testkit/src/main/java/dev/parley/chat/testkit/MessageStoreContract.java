package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aMessage;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Contract of {@link dev.parley.chat.port.out.MessageStore}: extend it and implement {@link #createStore()}. */
public abstract class MessageStoreContract extends StoreContractSupport {

    @Test
    void should_number_a_threads_messages_1_2_3_ignoring_the_given_position() {
        // given
        ChatThread thread = givenThread();

        // when
        List<Message> stored = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Message m = aMessage().inThread(thread).withText("m" + i).build().atPosition(42);
            stored.add(store.messages().append(m));
        }

        // then
        assertThat(stored).extracting(Message::position).containsExactly(1L, 2L, 3L);
        assertThat(store.messages().find(stored.get(1).id())).contains(stored.get(1));
    }

    @Test
    void should_number_each_thread_on_its_own() {
        // given
        ChatThread a = givenThread();
        ChatThread b = givenThread();

        // when
        givenMessage(a);
        givenMessage(a);
        Message firstOfB = givenMessage(b);

        // then
        assertThat(firstOfB.position()).isEqualTo(1);
        assertThat(store.messages().count(a.id())).isEqualTo(2);
        assertThat(store.messages().count(b.id())).isEqualTo(1);
    }

    @Test
    void should_round_trip_every_field() {
        // given
        ChatThread thread = givenThread();
        Message question = givenMessage(thread);
        var runId = givenRun(Fixtures.aRun().onThread(thread).forMessage(question.id())).id();
        Message assistant = aMessage().inThread(thread).inRun(runId).createdAt(at(3))
                .withContent(ContentPart.text("Let me compute "), ContentPart.imageUrl("https://example.com/a.png"),
                        ContentPart.text(Fixtures.UNICODE))
                .withToolCalls(new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\",\"note\":\"π ≈ 3.14 👍\"}"),
                        new ToolCall("call_2", "search", "{}"))
                .withMetadata("source", "web").withMetadata("emoji", Fixtures.EMOJI).incomplete().build()
                .withThinking("First " + Fixtures.UNICODE).withUsage(Usage.estimated(12, 7));
        Message tool = aMessage().inThread(thread).inRun(runId).answeringToolCall("call_1").withText("42").createdAt(at(4)).build();
        Message image = aMessage().inThread(thread).withContent(ContentPart.imageUrl("data:image/png;base64,iVBORw0KGgo=")).build();

        // when
        Message a = store.messages().append(assistant);
        Message t = store.messages().append(tool);
        Message i = store.messages().append(image);

        // then
        assertThat(store.messages().find(a.id())).contains(assistant.atPosition(2).withParent(question.id()));
        assertThat(store.messages().find(t.id())).contains(tool.atPosition(3).withParent(a.id()));
        assertThat(store.messages().find(i.id())).contains(image.atPosition(4).withParent(t.id()));
        assertThat(store.messages().find(question.id()).orElseThrow().thinking()).isNull();
        assertThat(store.messages().find(question.id()).orElseThrow().usage()).isNull();
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void should_round_trip_every_role(Role role) {
        // given
        ChatThread thread = givenThread();
        var builder = aMessage().inThread(thread).from(role);
        if (role == Role.TOOL) {
            builder.answeringToolCall("call_9");
        }
        Message message = builder.build();

        // when
        Message stored = store.messages().append(message);

        // then
        assertThat(store.messages().find(stored.id())).contains(message.atPosition(1));
    }

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.EMOJI, Fixtures.RTL, Fixtures.COMBINING, Fixtures.UNICODE, "", " ", "\n\n"})
    void should_keep_text_exactly_as_given(String text) {
        // given
        ChatThread thread = givenThread();

        // when
        Message stored = store.messages().append(aMessage().inThread(thread).fromAssistant().withText(text).build());

        // then
        assertThat(store.messages().find(stored.id()).orElseThrow().text()).isEqualTo(text);
    }

    @Test
    void should_keep_a_text_of_32000_code_points() {
        // given
        ChatThread thread = givenThread();
        String text = Fixtures.longText(32_000);

        // when
        Message stored = store.messages().append(aMessage().inThread(thread).withText(text).build());

        // then
        String found = store.messages().find(stored.id()).orElseThrow().text();
        assertThat(found.codePointCount(0, found.length())).isEqualTo(32_000);
        assertThat(found).isEqualTo(text);
    }

    @Test
    void should_refuse_a_second_message_with_the_same_id() {
        // given
        ChatThread thread = givenThread();
        Message first = givenMessage(thread);

        // when / then
        assertThatThrownBy(() -> store.messages().append(aMessage().inThread(thread).withId(first.id()).build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
        assertThat(store.messages().count(thread.id())).isEqualTo(1);
    }

    @Test
    void should_refuse_a_message_for_a_thread_that_does_not_exist() {
        assertThatThrownBy(() -> store.messages().append(aMessage().inThread(Fixtures.aThread().build()).build()))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_move_the_threads_updated_at_to_each_new_message_and_never_back() {
        // given
        ChatThread thread = givenThread(Fixtures.aThread().createdAt(at(10)));

        // when
        store.messages().append(aMessage().inThread(thread).createdAt(at(50)).build());

        // then
        ChatThread moved = store.threads().find(thread.id()).orElseThrow();
        assertThat(moved.updatedAt()).isEqualTo(at(50));
        assertThat(moved.title()).isEqualTo(thread.title());
        assertThat(moved.metadata()).isEqualTo(thread.metadata());

        // and when: a message stamped earlier (another server's clock) leaves it where it is
        store.messages().append(aMessage().inThread(thread).createdAt(at(40)).build());

        // then
        assertThat(store.threads().find(thread.id()).orElseThrow().updatedAt()).isEqualTo(at(50));
    }

    @Test
    void should_list_the_thread_of_the_newest_message_first() {
        // given
        ChatThread older = givenThread(Fixtures.aThread().createdAt(at(10)));
        ChatThread newer = givenThread(Fixtures.aThread().createdAt(at(20)));

        // when
        store.messages().append(aMessage().inThread(older).createdAt(at(30)).build());

        // then
        assertThat(store.threads().list(older.ownerId(), null, PageRequest.first(10)).items())
                .extracting(ChatThread::id).containsExactly(older.id(), newer.id());
        assertThat(store.threads().list(older.ownerId(), older.agentId(), PageRequest.first(10)).items())
                .extracting(ChatThread::id).containsExactly(older.id(), newer.id());
    }

    @Test
    void should_find_nothing_for_an_unknown_message() {
        assertThat(store.messages().find(Fixtures.messageId())).isEmpty();
    }

    @Test
    void should_page_oldest_first_across_pages() {
        // given
        ChatThread thread = givenThread();
        List<Message> all = givenMessages(thread, 10);

        // when
        List<Message> walked = walk(thread, SortOrder.ASC, 3);

        // then
        assertThat(walked).containsExactlyElementsOf(all);
    }

    @Test
    void should_page_newest_first_across_pages() {
        // given
        ChatThread thread = givenThread();
        List<Message> all = new ArrayList<>(givenMessages(thread, 10));
        java.util.Collections.reverse(all);

        // when
        List<Message> walked = walk(thread, SortOrder.DESC, 4);

        // then
        assertThat(walked).containsExactlyElementsOf(all);
    }

    @Test
    void should_say_no_more_when_the_last_page_is_exactly_full() {
        // given
        ChatThread thread = givenThread();
        givenMessages(thread, 4);

        for (SortOrder order : SortOrder.values()) {
            // when
            Page<Message> first = store.messages().page(thread.id(), PageRequest.first(2), order);
            Page<Message> second = store.messages().page(thread.id(), new PageRequest(2, first.nextCursor()), order);

            // then
            assertThat(first.hasMore()).isTrue();
            assertThat(second.items()).hasSize(2);
            assertThat(second.hasMore()).isFalse();
            assertThat(second.nextCursor()).isNull();
        }
    }

    @Test
    void should_pick_up_messages_appended_between_oldest_first_pages() {
        // given
        ChatThread thread = givenThread();
        List<Message> all = givenMessages(thread, 4);
        Page<Message> first = store.messages().page(thread.id(), PageRequest.first(3), SortOrder.ASC);

        // when
        Message later = givenMessage(thread);
        Page<Message> second = store.messages().page(thread.id(), new PageRequest(3, first.nextCursor()), SortOrder.ASC);

        // then
        assertThat(second.items()).containsExactly(all.get(3), later);
        assertThat(second.hasMore()).isFalse();
    }

    @Test
    void should_not_shift_newest_first_pages_when_messages_are_appended_between_requests() {
        // given
        ChatThread thread = givenThread();
        List<Message> all = givenMessages(thread, 6);
        Page<Message> first = store.messages().page(thread.id(), PageRequest.first(3), SortOrder.DESC);

        // when
        givenMessage(thread);
        Page<Message> second = store.messages().page(thread.id(), new PageRequest(3, first.nextCursor()), SortOrder.DESC);

        // then
        assertThat(second.items()).containsExactly(all.get(2), all.get(1), all.get(0));
        assertThat(second.hasMore()).isFalse();
    }

    @Test
    void should_return_an_empty_last_page_for_a_thread_without_messages() {
        ChatThread thread = givenThread();

        Page<Message> page = store.messages().page(thread.id(), PageRequest.firstPage(), SortOrder.ASC);

        assertThat(page.items()).isEmpty();
        assertThat(page.hasMore()).isFalse();
        assertThat(page.nextCursor()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage", "!!!", "eyJ4IjoxfQ", "%%%", "null"})
    void should_reject_a_malformed_cursor_as_an_invalid_parameter(String cursor) {
        ChatThread thread = givenThread();
        givenMessages(thread, 2);

        for (SortOrder order : SortOrder.values()) {
            assertThatThrownBy(() -> store.messages().page(thread.id(), new PageRequest(10, cursor), order))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                        assertThat(e.code()).isEqualTo("invalid_parameter");
                        assertThat(e.errors()).anySatisfy(err -> assertThat(err.field()).isEqualTo("cursor"));
                    });
        }
    }

    @Test
    void should_return_the_latest_messages_oldest_first() {
        // given
        ChatThread thread = givenThread();
        List<Message> all = givenMessages(thread, 5);

        // when / then
        assertThat(store.messages().latest(thread.id(), 2)).containsExactly(all.get(3), all.get(4));
        assertThat(store.messages().latest(thread.id(), 50)).containsExactlyElementsOf(all);
        assertThat(store.messages().latest(Fixtures.threadId(), 5)).isEmpty();
    }

    @Test
    void should_count_messages_of_a_thread() {
        ChatThread thread = givenThread();
        givenMessages(thread, 7);

        assertThat(store.messages().count(thread.id())).isEqualTo(7);
        assertThat(store.messages().count(Fixtures.threadId())).isZero();
    }

    @Test
    void should_hide_the_messages_of_a_soft_deleted_thread() {
        // given
        ChatThread thread = givenThread();
        Message message = givenMessage(thread);

        // when
        store.threads().softDelete(thread.id(), at(10));

        // then
        assertThat(store.messages().find(message.id())).isEmpty();
        assertThat(store.messages().count(thread.id())).isZero();
        assertThat(store.messages().latest(thread.id(), 10)).isEmpty();
        assertThat(store.messages().page(thread.id(), PageRequest.firstPage(), SortOrder.ASC).items()).isEmpty();
    }

    @Test
    void should_give_concurrent_appends_to_one_thread_distinct_gap_free_positions() {
        // given
        ChatThread thread = givenThread();
        int n = 24;

        // when
        List<Object> results = race(n, i -> store.messages().append(aMessage().inThread(thread).withText("m" + i).build()));

        // then
        assertThat(results).allSatisfy(r -> assertThat(r).isInstanceOf(Message.class));
        assertThat(results.stream().map(r -> ((Message) r).position()).sorted().toList())
                .containsExactlyElementsOf(LongStream.rangeClosed(1, n).boxed().toList());
        assertThat(walk(thread, SortOrder.ASC, 7)).extracting(Message::position)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, n).boxed().toList());
    }

    /** Appends {@code n} user messages and returns them as stored. */
    protected List<Message> givenMessages(ChatThread thread, int n) {
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(store.messages().append(aMessage().inThread(thread).withText("message " + i).createdAt(at(i)).build()));
        }
        return out;
    }

    /** Reads every page and checks the page invariants on the way. */
    protected List<Message> walk(ChatThread thread, SortOrder order, int limit) {
        List<Message> all = new ArrayList<>();
        String cursor = null;
        for (int guard = 0; guard < 1000; guard++) {
            Page<Message> page = store.messages().page(thread.id(), new PageRequest(limit, cursor), order);
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
