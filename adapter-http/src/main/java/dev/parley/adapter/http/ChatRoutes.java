package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.SendReceipt;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import jakarta.servlet.AsyncContext;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The REST side of the chat flow: the chat routes and the edit and regenerate of a message (sync or
 * streamed), and a run's {@code /events}, streamed as SSE.
 */
final class ChatRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(ChatRoutes.class);

    private final ParleyHttp.Config config;
    private final ChatUseCases chat;
    private final ChatFlow flow;
    private final Bodies bodies;
    /** One thread per open event stream (virtual when the JVM has them): it pumps the stream once the request's own thread is handed back. */
    private final ThreadFactory streamThreads = Threads.factory("parley-sse-");
    private final Set<Thread> pumping = ConcurrentHashMap.newKeySet();

    ChatRoutes(ParleyHttp.Config config, ChatFlow flow, Bodies bodies) {
        this.config = config;
        this.chat = config.chat();
        this.flow = flow;
        this.bodies = bodies;
    }

    /** Ends the open event streams (their clients resume elsewhere with {@code Last-Event-ID}). */
    void shutdown() {
        pumping.forEach(Thread::interrupt);
    }

    void events(Api.Call call) throws InterruptedException, IOException {
        ThreadId thread = Api.threadId(call);
        RunId run = Api.runId(call);
        long after = Bodies.lastEventId(call.ctx());
        if (call.ctx().method() != HandlerType.HEAD) {
            StreamLimits.Slot slot = flow.streamSlot(call.userId());
            try {
                stream(call, ReadAhead.open(chat.subscribe(call.userId(), thread, run, after, DisconnectPolicy.CONTINUE)), slot);
            } catch (RuntimeException | Error | InterruptedException e) {
                slot.close();
                throw e;
            }
            return;
        }
        // HEAD: the checks and headers of the stream without waiting for its events (and without a slot); committed
        // before the handler ends so that Jetty does not announce a Content-Length of 0 for an open-ended stream
        Optional<RunStream> opened = ReadAhead.open(chat.subscribe(call.userId(), thread, run, after, DisconnectPolicy.CONTINUE));
        opened.ifPresent(RunStream::close);
        if (opened.isEmpty()) {
            call.ctx().status(204);
            return;
        }
        SseStream.headers(call.ctx().res());
        call.ctx().res().flushBuffer();
    }

    void chat(Api.Call call, boolean threadless) throws InterruptedException {
        ThreadId pathThread = threadless ? null : Api.threadId(call);
        Requests.Chat req = Requests.chat(bodies.read(call.ctx()), threadless, config.maxMessageChars());
        ThreadId threadId = ChatFlow.target(pathThread, req);
        answer(call, req, key -> flow.send(call.userId(), threadId, req, BusyPolicy.REJECT, key));
    }

    /** {@code POST .../messages/{message_id}/edit}: a chat request whose message is a new version of a user message. */
    void edit(Api.Call call) throws InterruptedException {
        ThreadId threadId = Api.threadId(call);
        MessageId messageId = Ids.message(call.ctx().pathParam("message_id"));
        Requests.Chat req = Requests.chat(bodies.read(call.ctx()), false, config.maxMessageChars());
        answer(call, req, key -> chat.edit(new EditMessageCommand(call.userId(), threadId, messageId, req.content(), req.ifBusy(),
                key, req.metadata(), req.variables()).withModelSettings(req.modelSettings())));
    }

    /** {@code POST .../messages/{message_id}/regenerate}: the chat options, a new run answering the same question. */
    void regenerate(Api.Call call) throws InterruptedException {
        ThreadId threadId = Api.threadId(call);
        MessageId messageId = Ids.message(call.ctx().pathParam("message_id"));
        Requests.Chat req = Requests.regenerate(bodies.read(call.ctx()));
        answer(call, req, key -> chat.regenerate(new RegenerateCommand(call.userId(), threadId, messageId, req.ifBusy(), key,
                req.variables(), req.modelSettings())));
    }

    /** Sends (with the request's idempotency key) and answers as the chat route does: a sync reply or the run's events. */
    private void answer(Api.Call call, Requests.Chat req, Function<String, SendReceipt> send) throws InterruptedException {
        Context ctx = call.ctx();
        String idempotencyKey = Bodies.idempotencyKey(ctx.header("Idempotency-Key"));
        boolean stream = Boolean.TRUE.equals(req.stream()) || Bodies.acceptsEventStream(ctx.header("Accept"));
        long resumeAfter = stream ? Bodies.lastEventId(ctx) : 0;
        if (stream) {
            // the stream's slot is taken before the send: a refused stream leaves no run behind
            StreamLimits.Slot slot = flow.streamSlot(call.userId());
            try {
                SendReceipt receipt = send.apply(idempotencyKey);
                stream(call, flow.follow(call.userId(), receipt, req, resumeAfter, call.requestId()), slot);
            } catch (RuntimeException | Error | InterruptedException e) {
                slot.close();
                throw e;
            }
            return;
        }
        SendReceipt receipt = send.apply(idempotencyKey);
        RunOutcome outcome;
        try {
            outcome = chat.await(call.userId(), receipt.run().id(), config.syncChatTimeout());
        } catch (RuntimeException e) {
            throw ChatFlow.afterSend(e, receipt, call.requestId());
        }
        Run run = outcome.run();
        if (run.status() == RunStatus.FAILED) {
            throw runFailed(run);
        }
        if (!run.isTerminal() && run.status() != RunStatus.REQUIRES_ACTION) {
            throw new ApiProblem(504, "timeout", "The run did not end within " + config.syncChatTimeout().toSeconds()
                    + " s; it goes on and can be followed on its events route")
                    .with("run_id", run.id().value())
                    .with("thread_id", run.threadId().value());
        }
        Api.json(call, 200, syncReply(receipt, outcome));
    }

    /**
     * Answers the request with the subscription's events, or 204 when there is none left (see
     * {@link ReadAhead}). The stream is pumped by a thread of its own, started once the handler returns
     * (servlet async), so the request's thread, with Jetty's and Javalin's frames on its stack, does
     * not stay parked for the life of the stream.
     */
    private void stream(Api.Call call, Optional<RunStream> opened, StreamLimits.Slot slot) {
        stream(call, opened, slot, new SseStream(call.ctx().res()));
    }

    /**
     * {@link #stream(Api.Call, Optional, StreamLimits.Slot)} written by {@code sink}: every HTTP event stream, of this
     * API or another on the app, goes here, holding {@code slot} (closed when the stream ends).
     */
    void stream(Api.Call call, Optional<RunStream> opened, StreamLimits.Slot slot, ChatFlow.Sink sink) {
        Context ctx = call.ctx();
        if (opened.isEmpty()) {
            slot.close();
            ctx.status(204); // the run is over and nothing is left after Last-Event-ID: EventSource stops on 204
            return;
        }
        RunStream subscription = opened.get();
        ctx.future(() -> {
            try {
                AsyncContext async = ctx.req().getAsyncContext();
                async.setTimeout(0); // a stream lasts as long as its run; heartbeats keep it alive
                streamThreads.newThread(() -> pump(call, subscription, async, slot, sink)).start();
            } catch (RuntimeException | Error e) {
                subscription.close();
                slot.close();
                throw e;
            }
            // never completed: the pump ends the request itself (see pump), Javalin has nothing left to write
            return new CompletableFuture<Void>();
        });
    }

    /**
     * Pumps one stream on its own thread, then completes the request's async context itself rather
     * than through Javalin's future: when the client went away or the server is stopping, Jetty may
     * have failed and recycled the request already, and Javalin's completion would then run its
     * error handling on a dead response.
     */
    private void pump(Api.Call call, RunStream subscription, AsyncContext async, StreamLimits.Slot slot, ChatFlow.Sink sink) {
        Thread self = Thread.currentThread();
        pumping.add(self);
        MDC.put("request_id", call.requestId());
        try {
            flow.pump(subscription, sink);
        } catch (InterruptedException e) {
            // the server is stopping: the stream ends here and the client resumes elsewhere with Last-Event-ID
        } catch (RuntimeException e) {
            // the response is committed (headers went out first), so all that is left is to end the stream
            LOG.debug("Event stream ended by an error (request {}): {}", call.requestId(), Errors.toProblem(e, call.requestId()).code);
        } finally {
            subscription.close();
            slot.close();
            MDC.remove("request_id");
            pumping.remove(self);
            try {
                async.complete();
            } catch (RuntimeException alreadyCompleted) {
                // Jetty completed the failed request itself
            }
        }
    }

    static ObjectNode syncReply(SendReceipt receipt, RunOutcome outcome) {
        Run run = outcome.run();
        ObjectNode o = Json.object();
        o.put("thread_id", run.threadId().value());
        o.put("run_id", run.id().value());
        o.put("message_id", outcome.assistantMessage() == null ? null : outcome.assistantMessage().id().value());
        o.put("user_message_id", receipt.userMessage().id().value());
        o.put("status", run.status().wireName());
        o.put("response", outcome.responseText());
        ArrayNode calls = o.putArray("tool_calls");
        for (Step step : outcome.steps()) {
            if (step.type() == StepType.TOOL_CALL) {
                ObjectNode call = Wire.toolCall(step.toolCall());
                call.put("output", step.output());
                call.put("error", step.error());
                calls.add(call);
            }
        }
        Wire.putRequiredAction(o, outcome.pendingApprovals());
        o.put("agent_version", run.agentVersion());
        o.set("usage", Wire.usage(run.usage()));
        Wire.putCost(o, run.costUsd());
        return o;
    }

    static ApiProblem runFailed(Run run) {
        RunError error = run.error();
        String code = error.code();
        ApiProblem problem;
        if (code.startsWith("model_")) {
            problem = new ApiProblem(502, "model_error", "The model failed: " + error.message());
        } else if ("unavailable".equals(code)) {
            problem = new ApiProblem(503, "unavailable", "The service is temporarily unavailable; retry later");
        } else {
            problem = new ApiProblem(500, "run_failed", "The run failed: " + error.message());
        }
        return problem.with("run_id", run.id().value())
                .with("thread_id", run.threadId().value())
                .with("error", Map.of("code", code, "message", error.message()));
    }
}
