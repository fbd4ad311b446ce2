package dev.parley.chat.core;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One tool call of a run: run off the run's thread, bounded by the tool's timeout, cancelled with
 * the run (a tool never begins once the run's cancellation fired); failures become results for the model.
 */
final class ToolInvoker {
    private static final Logger log = LoggerFactory.getLogger(ToolInvoker.class);
    static final String TOOL_FAILED = "the tool failed";

    private final Engine engine;
    private final Agent agent;
    private final String userId;
    private final RunState state;
    private final Cancellation cancellation;

    ToolInvoker(Engine engine, Agent agent, String userId, RunState state, Cancellation cancellation) {
        this.engine = engine;
        this.agent = agent;
        this.userId = userId;
        this.state = state;
        this.cancellation = cancellation;
    }

    /** What a tool call gave: its output, or the error the model is told. */
    record ToolResult(String output, String error) {
    }

    /** Runs the tool off this thread, bounded by its timeout; cancelling the run cancels the tool. */
    ToolResult invoke(Run current, ToolCall call, Step step) throws InterruptedException {
        Optional<Tool> found = agent.tool(call.name());
        if (found.isEmpty()) {
            return new ToolResult(null, "tool_not_found: there is no tool named " + call.name());
        }
        Tool tool = found.get();
        Cancellation toolCancellation = new Cancellation();
        AtomicBoolean open = new AtomicBoolean(true);
        Consumer<String> progress = content -> {
            if (content == null || !open.get()) {
                return;
            }
            state.unlessTerminated(() -> {
                if (open.get()) {
                    state.emitLocked(q -> new RunEvent.TraceUpdate(current.id(), q, step.id(), content));
                }
            });
        };
        ToolContext context = new ToolContext(call.arguments(), call.id(), current.id(), current.threadId(), userId,
                toolCancellation, progress);
        CompletableFuture<String> outcome = new CompletableFuture<>();
        Cancellation.Registration forward = cancellation.onCancel(() -> {
            outcome.completeExceptionally(new RunCancelledException());
            toolCancellation.cancel();
        });
        Future<?> task = null;
        try {
            // a cancel that fired before this point completed the outcome already: the tool is not started
            cancellation.throwIfCancelled();
            String runId = current.id().value();
            String threadId = current.threadId().value();
            task = engine.toolExecutor().submit(() -> {
                if (toolCancellation.isCancelled()) {
                    return; // the run was cancelled before the tool began: it never begins
                }
                MDC.put("run_id", runId);
                MDC.put("thread_id", threadId);
                try {
                    outcome.complete(tool.execute(context));
                } catch (Throwable t) {
                    outcome.completeExceptionally(t);
                } finally {
                    MDC.remove("run_id");
                    MDC.remove("thread_id");
                }
            });
            Duration timeout = tool.timeout();
            String output = outcome.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return new ToolResult(output == null ? "" : output, null);
        } catch (TimeoutException e) {
            toolCancellation.cancel();
            log.info("run {}: tool {} timed out after {} ms", current.id(), call.name(), tool.timeout().toMillis());
            return new ToolResult(null, "tool_timeout: the tool did not finish within " + tool.timeout().toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cancellation.isCancelled()) {
                throw new RunCancelledException();
            }
            if (cause instanceof ToolException te) {
                return new ToolResult(null, te.getMessage() == null ? TOOL_FAILED : te.getMessage());
            }
            log.warn("run {}: tool {} failed", current.id(), call.name(), cause);
            return new ToolResult(null, TOOL_FAILED);
        } finally {
            open.set(false);
            forward.close();
            if (task != null && !task.isDone()) {
                toolCancellation.cancel();
                task.cancel(true);
            }
        }
    }
}
