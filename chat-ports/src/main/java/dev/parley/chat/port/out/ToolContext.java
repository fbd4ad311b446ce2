package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import java.util.function.Consumer;

/**
 * One invocation of a tool: the JSON arguments the model produced, who and what it runs for, a
 * cancel signal (also fired on the tool's timeout), and a sink for progress messages that reach
 * clients as {@code trace_update} events. {@link #args()} reads the arguments with typed accessors.
 */
public record ToolContext(String arguments, String toolCallId, RunId runId, ThreadId threadId, String userId,
                          Cancellation cancellation, Consumer<String> progress) {
    public ToolContext {
        Require.notNull(arguments, "arguments");
        Require.notNull(cancellation, "cancellation");
        progress = progress == null ? p -> { } : progress;
    }

    /**
     * The arguments, read with typed accessors ({@code args().string("city")}). Bad JSON, or a missing
     * or mistyped argument, is a {@link dev.parley.chat.model.ToolException} addressed to the model.
     */
    public ToolArguments args() {
        return ToolArguments.parse(arguments);
    }
}
