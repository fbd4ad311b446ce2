package dev.parley.examples;

import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.port.out.Agent;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The demo server's agents: {@code assistant} (the default, with the {@code calculator} and
 * {@code clock} tools) and {@code terse} (no tools), and the price of the demo model so that
 * runs show a cost.
 */
public final class DemoAgents {
    /** The general assistant, with both tools; the default agent. */
    public static final String ASSISTANT = "assistant";
    /** A terse agent without tools. */
    public static final String TERSE = "terse";

    private DemoAgents() {
    }

    /** Both agents; {@code model} names the model they use (null for the ChatModel's default). */
    public static List<Agent> agents(String model, Clock clock) {
        Agent assistant = Agent.builder(ASSISTANT)
                .name("Assistant")
                .description("A helpful general assistant that can calculate and tell the time.")
                .instructions("You are a helpful assistant. Use the calculator tool for arithmetic and the clock tool"
                        + " for the current date or time. Answer clearly and briefly.")
                .model(model)
                .tools(CalculatorTool.create(), ClockTool.create(clock))
                .build();
        Agent terse = Agent.builder(TERSE)
                .name("Terse")
                .description("Answers in as few words as possible, without tools.")
                .instructions("You answer in as few words as possible. You have no tools.")
                .model(model)
                .build();
        return List.of(assistant, terse);
    }

    /** Prices in US dollars per million tokens, by model name: the demo model's, so cost shows. */
    public static Map<String, ModelPrice> prices() {
        return Map.of(DemoChatModel.MODEL_NAME, ModelPrice.of("0.50", "1.50"));
    }
}
