package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.UpdateThreadCommand;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OwnershipTest {
    private ChatHarness chat;
    private ChatThread alices;
    private RunId alicesRun;

    @BeforeAll
    void setUp() {
        chat = ChatHarness.of(ScriptedChatModel.echo());
        alices = chat.newThread(ALICE);
        SendReceipt sent = chat.send(alices.id(), "private");
        alicesRun = sent.run().id();
        chat.awaitEnd(alicesRun);
    }

    @AfterAll
    void tearDown() {
        chat.close();
    }

    Stream<Arguments> bobsAttempts() {
        ThreadId thread = alices.id();
        return Stream.of(
                Arguments.of("getThread", (ThrowingCallable) () -> chat.service.getThread(BOB, thread)),
                Arguments.of("updateThread", (ThrowingCallable) () -> chat.service.updateThread(
                        new UpdateThreadCommand(BOB, thread, Optional.of("mine now"), Optional.empty()))),
                Arguments.of("deleteThread", (ThrowingCallable) () -> chat.service.deleteThread(BOB, thread, false)),
                Arguments.of("hardDeleteThread", (ThrowingCallable) () -> chat.service.deleteThread(BOB, thread, true)),
                Arguments.of("listMessages", (ThrowingCallable) () -> chat.service.listMessages(BOB, thread, null, SortOrder.ASC)),
                Arguments.of("send", (ThrowingCallable) () -> chat.service.send(SendMessageCommand.text(BOB, thread, "hi"))),
                Arguments.of("cancelActiveRun", (ThrowingCallable) () -> chat.service.cancelActiveRun(BOB, thread)),
                Arguments.of("cancelRun", (ThrowingCallable) () -> chat.service.cancelRun(BOB, thread, alicesRun)),
                Arguments.of("listRuns", (ThrowingCallable) () -> chat.service.listRuns(BOB, thread, null)),
                Arguments.of("getRun", (ThrowingCallable) () -> chat.service.getRun(BOB, thread, alicesRun)),
                Arguments.of("subscribe", (ThrowingCallable) () -> chat.service.subscribe(BOB, thread, alicesRun, 0,
                        DisconnectPolicy.CONTINUE)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bobsAttempts")
    void should_treat_another_users_thread_exactly_like_a_missing_one(String useCase, ThrowingCallable attempt) {
        // when / then
        assertThatThrownBy(attempt).isInstanceOfSatisfying(NotFoundException.class,
                e -> assertThat(e.code()).isEqualTo("thread_not_found"));
        assertThat(chat.service.getThread(ALICE, alices.id()).title()).isEqualTo("private");
    }

    @Test
    void should_answer_run_not_found_when_awaiting_another_users_run() {
        assertThatThrownBy(() -> chat.service.await(BOB, alicesRun, Duration.ofMillis(1)))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("run_not_found"));
    }

    @Test
    void should_answer_run_not_found_for_a_run_of_another_thread() {
        // given
        ChatThread other = chat.newThread(ALICE);

        // when / then
        assertThatThrownBy(() -> chat.service.getRun(ALICE, other.id(), alicesRun))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("run_not_found"));
        assertThatThrownBy(() -> chat.service.cancelRun(ALICE, other.id(), alicesRun))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("run_not_found"));
    }

    @Test
    void should_list_only_the_callers_threads() {
        // given
        chat.newThread(BOB);

        // when / then
        assertThat(chat.service.listThreads(BOB, null, PageRequest.firstPage()).items())
                .noneMatch(t -> t.id().equals(alices.id()));
        assertThat(chat.service.listThreads(ALICE, null, PageRequest.firstPage()).items())
                .allMatch(t -> t.ownerId().equals(ALICE));
    }

    @Test
    void should_answer_agent_not_found_for_an_unknown_agent() {
        assertThatThrownBy(() -> chat.service.createThread(new CreateThreadCommand(ALICE, "nobody", null, Map.of())))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("agent_not_found"));
        assertThatThrownBy(() -> chat.service.send(SendMessageCommand.text(ALICE, null, "hi").withAgent("nobody")))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("agent_not_found"));
        assertThatThrownBy(() -> chat.service.agent("nobody"))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("agent_not_found"));
    }
}
