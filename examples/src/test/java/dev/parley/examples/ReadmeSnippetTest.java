package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.jdbc.JdbcChatStore;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.out.Schema;
import dev.parley.chat.port.out.Tool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The embedding snippet of the top-level README, compiled and run as written: the body of
 * {@link #readme_embedding_snippet()} is the snippet, and a second test fails when the two differ.
 * The snippet's {@code model} is this class's scripted one.
 */
class ReadmeSnippetTest {
    private static final String BEGIN = "    void readme_embedding_snippet() throws Exception {\n";
    private static final String END = "\n    }\n";

    private final ChatModel model = ScriptedChatModel.builder()
            .callTools(new ToolCall("call_1", "weather", "{\"city\":\"Lisbon\"}"))
            .reply("It is sunny in Lisbon.")
            .build();

    @Test
    void readme_embedding_snippet() throws Exception {
        Tool weather = Tool.of("weather", "Today's weather in a city",
                Schema.object().string("city", "The city, for example Lisbon").required("city"),
                ctx -> "Sunny, 24°C in " + ctx.args().string("city"));
        Agent helper = Agent.builder("helper")
                .instructions("You are helpful. Use the weather tool for questions about the weather.")
                .tools(weather)
                .build();

        try (JdbcChatStore store = JdbcChatStores.create("jdbc:h2:mem:parley;DB_CLOSE_DELAY=-1", "sa", "");
             var bus = InMemoryAdapters.eventBusBuilder(store.events()).signals(store.signals()).build();
             var chat = ChatService.builder().store(store).eventBus(bus).model(model).agents(List.of(helper)).build()) {
            SendReceipt sent = chat.send(SendMessageCommand.newThread("alice", "What is the weather in Lisbon?"));

            // wait for the answer...
            RunOutcome outcome = chat.await("alice", sent.run().id(), Duration.ofSeconds(30));
            System.out.println(outcome.responseText());

            // ...or follow the run's events (live, or replayed from the store as here)
            try (RunStream events = chat.subscribe("alice", sent.thread().id(), sent.run().id(), 0,
                    DisconnectPolicy.CONTINUE)) {
                events.forEach(event -> {
                    if (event instanceof RunEvent.Token token) {
                        System.out.print(token.content());
                    }
                });
            }
        }
    }

    @Test
    void should_be_the_snippet_of_the_readme() throws IOException {
        // given
        String source = Files.readString(Path.of("src/test/java/dev/parley/examples/ReadmeSnippetTest.java"));
        int begin = source.indexOf(BEGIN) + BEGIN.length();
        String body = source.substring(begin, source.indexOf(END, begin));
        String snippet = body.lines().map(line -> line.length() >= 8 ? line.substring(8) : line.strip())
                .collect(Collectors.joining("\n", "```java\n", "\n```\n"));

        // when
        String readme = Files.readString(Path.of("../README.md"));

        // then
        assertThat(readme).contains(snippet);
    }
}
