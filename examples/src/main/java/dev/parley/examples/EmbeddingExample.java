package dev.parley.examples;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.jdbc.JdbcChatStore;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.adapter.openai.OpenAiChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.out.Schema;
import dev.parley.chat.port.out.Tool;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Parley embedded in a plain Java program, without HTTP: a {@link ChatService} on the JDBC store
 * (an in-memory H2 database here; any {@code jdbc:h2:} or {@code jdbc:postgresql:} URL works), an
 * agent with a custom tool ({@link #orderStatusTool()}), a streamed run printed as it happens, and
 * the stored conversation printed at the end.
 *
 * <p>It needs no network: a scripted model plays the model's part (it calls the tool, then answers
 * from the tool's output). With {@code OPENAI_BASE_URL} set (and {@code OPENAI_API_KEY},
 * {@code PARLEY_MODEL} as needed) a real model decides instead.
 *
 * <pre>
 * java -cp examples/target/parley-demo.jar dev.parley.examples.EmbeddingExample
 * </pre>
 */
public final class EmbeddingExample {
    private static final String USER = "alice";
    static final String ORDER_STATUS = "order_status";
    private static final Map<String, String> ORDERS = Map.of(
            "A-1001", "order A-1001 shipped on 2026-11-20 and arrives on 2026-11-24",
            "B-2002", "order B-2002 is being packed and ships tomorrow");

    private EmbeddingExample() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out, System.getenv());
    }

    /** Runs the example, printing to {@code out}. */
    static void run(PrintStream out, Map<String, String> env) throws Exception {
        try (JdbcChatStore store = JdbcChatStores.create("jdbc:h2:mem:parley-example;DB_CLOSE_DELAY=-1", "sa", "");
             InMemoryAdapters.EventBus events = InMemoryAdapters.eventBusBuilder(store.events())
                     .signals(store.signals())
                     .build();
             ChatService chat = ChatService.builder()
                     .store(store)
                     .eventBus(events)
                     .model(model(env))
                     .agents(List.of(supportAgent()))
                     .build()) {

            // 1. Send a message: a new thread is created, the run starts in the background.
            SendReceipt receipt = chat.send(SendMessageCommand.newThread(USER, "Where is my order A-1001?"));
            ThreadId thread = receipt.thread().id();
            out.println("thread " + thread + " (agent " + receipt.thread().agentId() + ")");

            // 2. Follow the run's events as they happen: tokens, tool calls, the end.
            try (RunStream run = chat.subscribe(USER, thread, receipt.run().id(), 0, DisconnectPolicy.CONTINUE)) {
                out.print("assistant> ");
                run.forEach(event -> print(event, out));
            }

            // 3. Or just wait for the outcome.
            SendReceipt second = chat.send(SendMessageCommand.text(USER, thread, "And order B-2002?"));
            RunOutcome outcome = chat.await(USER, second.run().id(), Duration.ofSeconds(60));
            out.println("second run: " + outcome.run().status().wireName() + ", " + outcome.run().usage().totalTokens() + " tokens");

            // 4. Everything is stored: read the conversation back.
            out.println();
            out.println("--- conversation " + thread + " ---");
            for (Message message : chat.listMessages(USER, thread, PageRequest.first(100), SortOrder.ASC).items()) {
                out.println(format(message));
            }
        }
    }

    /** The example's agent: answers questions about orders with the {@link #orderStatusTool()}. */
    public static Agent supportAgent() {
        return Agent.builder("support")
                .name("Order support")
                .description("Answers questions about orders.")
                .instructions("You help customers with their orders. Use the order_status tool to look an order up.")
                .tools(orderStatusTool())
                .build();
    }

    /**
     * A custom tool: looks an order up by id. A real one would ask an order service; this one has a
     * fixed table. An unknown id fails the call with a message the model can pass on; so does a
     * call without an {@code order_id}, by {@code string("order_id")} alone.
     */
    public static Tool orderStatusTool() {
        return Tool.of(ORDER_STATUS, "Looks up the status of an order by its id, for example A-1001.",
                Schema.object().string("order_id", "The order's id, for example A-1001").required("order_id"),
                ctx -> {
                    String orderId = ctx.args().string("order_id");
                    String status = ORDERS.get(orderId);
                    if (status == null) {
                        throw new ToolException("There is no order " + orderId + ".");
                    }
                    return status;
                });
    }

    private static void print(RunEvent event, PrintStream out) {
        if (event instanceof RunEvent.Token token) {
            out.print(token.content());
        } else if (event instanceof RunEvent.TraceStart start) {
            out.print("[calling " + start.toolCall().name() + " " + start.toolCall().arguments() + "] ");
        } else if (event instanceof RunEvent.TraceEnd end) {
            out.print("[" + end.status().wireName() + " in " + end.latencyMs() + " ms: "
                    + (end.output() != null ? end.output() : end.error()) + "] ");
        } else if (event instanceof RunEvent.Done done) {
            out.println();
            out.println("done: " + done.usage().totalTokens() + " tokens");
        } else if (event instanceof RunEvent.Error error) {
            out.println();
            out.println("failed: " + error.code() + " " + error.message());
        } else if (event instanceof RunEvent.Cancelled) {
            out.println();
            out.println("cancelled");
        }
    }

    private static String format(Message message) {
        StringBuilder line = new StringBuilder(message.role().wireName()).append(": ").append(message.text());
        for (ToolCall call : message.toolCalls()) {
            line.append("[calls ").append(call.name()).append(' ').append(call.arguments()).append(']');
        }
        return line.toString();
    }

    /** A real model when OPENAI_BASE_URL is set; otherwise a scripted one that uses the tool. */
    private static ChatModel model(Map<String, String> env) {
        Optional<OpenAiChatModel> real = OpenAiChatModel.fromEnvironment(env);
        if (real.isPresent()) {
            return real.get();
        }
        ScriptedChatModel.Builder scripted = ScriptedChatModel.builder();
        for (int i = 0; i < 2; i++) {
            scripted.turn(request -> ScriptedChatModel.Script.toolCalls(
                    new ToolCall("call_" + request.messages().size(), ORDER_STATUS,
                            "{\"order_id\":\"" + orderIdIn(lastUserText(request.messages())) + "\"}")));
            scripted.turn(request -> ScriptedChatModel.Script.reply(
                    "Here is what I found: " + request.messages().get(request.messages().size() - 1).text()));
        }
        return scripted.build();
    }

    private static String lastUserText(List<Message> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                return messages.get(i).text();
            }
        }
        return "";
    }

    private static String orderIdIn(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[A-Z]-\\d{4}").matcher(text);
        return m.find() ? m.group() : "unknown";
    }
}
