package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ToolCall;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ThreadsTest {

    private static boolean isVirtual(Thread thread) {
        try {
            return (boolean) Thread.class.getMethod("isVirtual").invoke(thread);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    @Test
    void should_run_models_and_tools_on_virtual_threads_exactly_when_the_runtime_has_them() {
        // given
        boolean runtimeHasThem = Runtime.version().feature() >= 21;
        AtomicReference<Thread> modelThread = new AtomicReference<>();
        AtomicReference<Thread> toolThread = new AtomicReference<>();
        ScriptedChatModel scripted = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "probe", "{}")).reply("ok").build();
        try (ChatHarness chat = ChatHarness.of((request, listener, cancellation) -> {
            modelThread.compareAndSet(null, Thread.currentThread());
            return scripted.complete(request, listener, cancellation);
        }, TestTool.named("probe", ctx -> {
            toolThread.set(Thread.currentThread());
            return "probed";
        }))) {
            ChatThread thread = chat.newThread(ALICE);

            // when
            chat.awaitEnd(chat.send(thread.id(), "go").run().id());
        }

        // then
        assertThat(Threads.hasVirtualThreads()).isEqualTo(runtimeHasThem);
        assertThat(isVirtual(modelThread.get())).isEqualTo(runtimeHasThem);
        assertThat(isVirtual(toolThread.get())).isEqualTo(runtimeHasThem);
        assertThat(modelThread.get().getName()).startsWith("parley-run-");
        assertThat(toolThread.get().getName()).startsWith("parley-tool-");
    }
}
