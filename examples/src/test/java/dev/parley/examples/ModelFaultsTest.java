package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.openai.OpenAiChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.in.RunStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The run engine over the OpenAI-compatible model of {@code adapter-openai}, against a fake server
 * that misbehaves the way real ones do: the connection drops mid-answer, or the stream goes silent.
 * Each time the run fails with the model's code, keeps what was streamed, and ends its stream.
 */
class ModelFaultsTest {
    private static final String USER = "ivan";
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ChatStore store = InMemoryAdapters.store();
    private final InMemoryAdapters.EventBus bus = InMemoryAdapters.eventBus(store.events());
    private final CountDownLatch release = new CountDownLatch(1);
    private ServerSocket server;
    private ChatService chat;

    @AfterEach
    void tearDown() throws IOException {
        release.countDown();
        if (chat != null) {
            chat.close();
        }
        bus.close();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void should_fail_the_run_with_connection_lost_and_keep_the_partial_text_when_the_model_server_drops_the_connection()
            throws Exception {
        // given a model server that streams two deltas and then closes the connection mid-answer (no [DONE])
        startServer(socket -> writeHeadersAndDeltas(socket.getOutputStream(), "Hel", "lo"));

        // when
        RunOutcome outcome = run("hello");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("model_connection_lost");
        assertPartialAnswerKept(outcome, "Hello");
    }

    @Test
    void should_fail_the_run_with_a_timeout_and_keep_the_partial_text_when_the_model_stream_goes_silent() throws Exception {
        // given a model server that streams two deltas and then says nothing, keeping the connection open
        startServer(socket -> {
            writeHeadersAndDeltas(socket.getOutputStream(), "Hel", "lo");
            try {
                release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        // when
        RunOutcome outcome = run("hello");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("model_timeout");
        assertPartialAnswerKept(outcome, "Hello");
    }

    private RunOutcome run(String text) throws InterruptedException {
        OpenAiChatModel model = OpenAiChatModel.builder()
                .baseUrl("http://127.0.0.1:" + server.getLocalPort() + "/v1")
                .model("fake-model")
                .idleTimeout(Duration.ofMillis(300))
                .maxRetries(0)
                .build();
        chat = ChatService.builder().store(store).eventBus(bus).model(model)
                .agents(List.of(Agent.builder("helper").instructions("You are helpful.").build()))
                .build();
        SendReceipt sent = chat.send(SendMessageCommand.text(USER, null, text));
        RunOutcome outcome = chat.await(USER, sent.run().id(), WAIT);
        assertThat(outcome.run().isTerminal()).as("the run ended").isTrue();
        return outcome;
    }

    private void assertPartialAnswerKept(RunOutcome outcome, String partial) throws InterruptedException {
        assertThat(outcome.responseText()).isEqualTo(partial);
        assertThat(outcome.assistantMessage().status()).isEqualTo(MessageStatus.INCOMPLETE);
        List<Message> history = store.messages().page(outcome.run().threadId(), PageRequest.first(10), SortOrder.ASC).items();
        assertThat(history).extracting(Message::text).containsExactly("hello", partial);
        List<RunEvent> events = new ArrayList<>();
        try (RunStream subscription = chat.subscribe(USER, outcome.run().threadId(), outcome.run().id(), 0, null)) {
            while (!subscription.isFinished()) {
                Optional<RunEvent> next = subscription.next(WAIT);
                assertThat(next).as("an event within %s", WAIT).isPresent();
                events.add(next.get());
            }
        }
        assertThat(events).extracting(RunEvent::type).containsExactly("run_started", "token", "token", "error");
        assertThat(((RunEvent.Error) events.get(3)).code()).isEqualTo(outcome.run().error().code());
    }

    // ---- a fake OpenAI-compatible server ------------------------------------------------------

    @FunctionalInterface
    private interface Behaviour {
        void answer(Socket socket) throws IOException;
    }

    private void startServer(Behaviour behaviour) throws IOException {
        server = new ServerSocket(0);
        Thread thread = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                    readRequest(socket.getInputStream());
                    behaviour.answer(socket);
                } catch (IOException e) {
                    // the server was closed, or the client went away
                }
            }
        }, "fake-model-server");
        thread.setDaemon(true);
        thread.start();
    }

    /** Reads the request head and its body (by Content-Length), so that the client is not reset while it sends. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        in.readNBytes(length);
    }

    private static void writeHeadersAndDeltas(OutputStream out, String... deltas) throws IOException {
        StringBuilder response = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
        for (String delta : deltas) {
            response.append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"fake-model\",")
                    .append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"").append(delta)
                    .append("\"},\"finish_reason\":null}]}\n\n");
        }
        out.write(response.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
