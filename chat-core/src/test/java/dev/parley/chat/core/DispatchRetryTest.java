package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DispatchRetryTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    @Test
    void should_start_a_queued_run_once_the_store_answers_again_after_its_start_failed() throws Exception {
        // given a run queued behind a running one, and a store that will fail the next three starts of a run
        AtomicInteger failuresLeft = new AtomicInteger(0);
        ChatStore store = failingRunStarts(InMemoryAdapters.store(), failuresLeft);
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a1").reply("still answered").build();
        chat = ChatHarness.custom(store, model, List.of(ChatHarness.agent(AgentLimits.DEFAULT)), b -> b);
        ChatThread thread = chat.newThread(ALICE);
        chat.send(thread.id(), "first");
        assertThat(model.awaitBlocked(ChatHarness.WAIT)).isTrue();
        SendReceipt queued = chat.send(thread.id(), "second", BusyPolicy.ENQUEUE);
        failuresLeft.set(3);

        // when the running run ends, so that the queued one is due
        chat.service.cancelActiveRun(ALICE, thread.id());
        RunOutcome outcome = chat.awaitEnd(queued.run().id());

        // then
        assertThat(failuresLeft).hasValue(0);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("still answered");
    }

    @Test
    void should_store_nothing_of_a_send_whose_run_could_not_be_started() {
        // given a store that fails the next start of a run
        AtomicInteger failuresLeft = new AtomicInteger(0);
        ChatStore store = failingRunStarts(InMemoryAdapters.store(), failuresLeft);
        chat = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(AgentLimits.DEFAULT)), b -> b);
        ChatThread thread = chat.newThread(ALICE);
        failuresLeft.set(1);

        // when / then: the send fails as a whole, and a retry goes through
        assertThatThrownBy(() -> chat.send(thread.id(), "hello")).isInstanceOf(StorageUnavailableException.class);
        assertThat(chat.history(thread.id())).isEmpty();
        assertThat(store.runs().active(thread.id())).isEmpty();
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "hello").run().id());
        assertThat(outcome.responseText()).isEqualTo("hello");
    }

    /**
     * {@code delegate}, whose run store throws StorageUnavailableException on a run's start (of a queued run, or an
     * insert of one started at once) while {@code failures} lasts.
     */
    private static ChatStore failingRunStarts(ChatStore delegate, AtomicInteger failures) {
        RunStore runs = (RunStore) Proxy.newProxyInstance(RunStore.class.getClassLoader(), new Class<?>[] {RunStore.class},
                (proxy, method, args) -> {
                    if ((method.getName().equals("start") || method.getName().equals("insertStarted"))
                            && failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new StorageUnavailableException("connection pool exhausted", null);
                    }
                    return invoke(method, delegate.runs(), args);
                });
        return (ChatStore) Proxy.newProxyInstance(ChatStore.class.getClassLoader(), new Class<?>[] {ChatStore.class},
                (proxy, method, args) -> method.getName().equals("runs") ? runs : invoke(method, delegate, args));
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
