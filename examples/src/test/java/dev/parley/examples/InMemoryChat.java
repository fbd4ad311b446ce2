package dev.parley.examples;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real {@link ChatService} on the in-memory store and event bus, for tests of your own agents:
 * register it once and start a service per test in one line. Everything it started is closed after
 * each test. Copy it next to your tests.
 *
 * <pre>{@code
 * @RegisterExtension
 * final InMemoryChat parley = InMemoryChat.of(myAgent);
 *
 * @Test
 * void should_answer() throws Exception {
 *     ChatService chat = parley.start(ScriptedChatModel.replying("Hello!"));
 *     ...
 * }
 * }</pre>
 */
final class InMemoryChat implements AfterEachCallback {
    private final List<Agent> agents;
    private final List<AutoCloseable> started = new ArrayList<>();

    private InMemoryChat(List<Agent> agents) {
        this.agents = List.copyOf(agents);
    }

    /** A fixture for {@code agents}; the first is the default agent. */
    static InMemoryChat of(Agent... agents) {
        return new InMemoryChat(List.of(agents));
    }

    /** A chat service where {@code model} answers, on a new, empty in-memory store. */
    ChatService start(ChatModel model) {
        ChatStore store = InMemoryAdapters.store();
        InMemoryAdapters.EventBus bus = InMemoryAdapters.eventBusBuilder(store.events()).signals(store.signals()).build();
        started.add(bus);
        ChatService chat = ChatService.builder().store(store).eventBus(bus).model(model).agents(agents).build();
        started.add(chat);
        return chat;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
        started.clear();
    }
}
