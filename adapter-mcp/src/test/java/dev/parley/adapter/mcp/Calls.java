package dev.parley.adapter.mcp;

import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A tool call as the run engine makes it: arguments, a cancel signal and a progress sink that records. */
final class Calls {
    final Cancellation cancellation = new Cancellation();
    final List<String> progress = new CopyOnWriteArrayList<>();
    /** Counted down by the first progress line. */
    final java.util.concurrent.CountDownLatch firstProgress = new java.util.concurrent.CountDownLatch(1);

    String call(Tool tool, String arguments) throws Exception {
        return tool.execute(context(arguments));
    }

    ToolContext context(String arguments) {
        return new ToolContext(arguments, "call_1", null, null, "alice", cancellation, line -> {
            progress.add(line);
            firstProgress.countDown();
        });
    }

    static Tool tool(McpTools mcp, String name) {
        return mcp.tools().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no tool " + name + " among " + mcp.tools().stream().map(Tool::name).toList()));
    }
}
