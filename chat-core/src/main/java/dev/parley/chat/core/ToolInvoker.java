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
import dev.parley.chat.port.out.TraceSpan;
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

    /** Runs the tool off this thread, bounded by its timeout, traced as a span; cancelling the run cancels the tool. */
    ToolResult invoke(Run current, ToolCall call, Step step) throws InterruptedException {
        TraceSpan span = engine.tracer().toolCall(state.traceSpan, call);
        try {
            ToolResult result = invoke(current, call, step, span);
            engine.tracer().toolEnded(span, result.output(), result.error());
            if (result.error() != null) {
                String error = result.error();
                int colon = error.indexOf(':');
                span.failed(colon > 0 && error.substring(0, colon).matches("[a-z_]+") ? error.substring(0, colon) : "tool_error", null);
            }
            return result;
        } catch (RunCancelledException | InterruptedException e) {
            span.cancelled();
            throw e;
        } catch (RuntimeException | Error e) {
            span.failed("internal_error", null);
            throw e;
        } finally {
            SafeTracer.end(span);
        }
    }

    private ToolResult invoke(Run current, ToolCall call, Step step, TraceSpan span) throws InterruptedException {
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
            String requestId = RunMdc.requestId();
            task = engine.toolExecutor().submit(span.wrap(() -> {
                if (toolCancellation.isCancelled()) {
                    return; // the run was cancelled before the tool began: it never begins
                }
                String before = RunMdc.put(runId, threadId, requestId);
                try {
                    outcome.complete(tool.execute(context));
                } catch (Throwable t) {
                    outcome.completeExceptionally(t);
                } finally {
                    RunMdc.clear(before);
                }
            }));
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
