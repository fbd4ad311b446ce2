package dev.parley.examples;

import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Tool;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The demo server's agents: {@code assistant} (the default, with the {@code calculator},
 * {@code clock} and {@code refund} tools, the last needing approval of each call) and {@code terse} (no tools), and the price of the demo model so that
 * runs show a cost.
 */
public final class DemoAgents {
    /** The general assistant, with the three tools; the default agent. */
    public static final String ASSISTANT = "assistant";
    /** A terse agent without tools. */
    public static final String TERSE = "terse";
    /** The agent with the tools of the MCP servers ({@code PARLEY_MCP_SERVERS}); only there when some are configured. */
    public static final String MCP = "mcp";

    private DemoAgents() {
    }

    /** Both agents; {@code model} names the model they use (null for the ChatModel's default). */
    public static List<Agent> agents(String model, Clock clock) {
        Agent assistant = Agent.builder(ASSISTANT)
                .name("Assistant")
                .description("A helpful general assistant that can calculate, tell the time and refund orders (with approval).")
                .instructions("You are a helpful assistant. Use the calculator tool for arithmetic, the clock tool"
                        + " for the current date or time and the refund tool to refund an order. Answer clearly and briefly.")
                .model(model)
                .tools(CalculatorTool.create(), ClockTool.create(clock), RefundTool.create())
                .build();
        Agent terse = Agent.builder(TERSE)
                .name("Terse")
                .description("Answers in as few words as possible, without tools.")
                .instructions("You answer in as few words as possible. You have no tools.")
                .model(model)
                .build();
        return List.of(assistant, terse);
    }

    /** The two agents, and the {@code mcp} agent with {@code mcpTools} when there are any. */
    public static List<Agent> agents(String model, Clock clock, List<Tool> mcpTools) {
        if (mcpTools.isEmpty()) {
            return agents(model, clock);
        }
        Agent mcp = Agent.builder(MCP)
                .name("MCP tools")
                .description("An assistant with the tools of the configured MCP servers.")
                .instructions("You are a helpful assistant. Use the tools you have when they help, and say what they answered.")
                .model(model)
                .tools(mcpTools)
                .build();
        List<Agent> all = new java.util.ArrayList<>(agents(model, clock));
        all.add(mcp);
        return List.copyOf(all);
    }

    /** Prices in US dollars per million input, output and cached input tokens, by model name: the demo model's, so cost shows. */
    public static Map<String, ModelPrice> prices() {
        return Map.of(DemoChatModel.MODEL_NAME, ModelPrice.of("0.50", "1.50", "0.25"));
    }
}
