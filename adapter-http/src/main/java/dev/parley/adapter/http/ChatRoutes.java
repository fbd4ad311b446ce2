package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.AwaitedSend;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.SendReceipt;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    ChatRoutes(ParleyHttp.Config config, ChatFlow flow, Bodies bodies) {
        this.config = config;
        this.chat = config.chat();
        this.flow = flow;
        this.bodies = bodies;
    }

    /** Ends the open event streams (their clients resume elsewhere with {@code Last-Event-ID}). */
    void shutdown() {
        flow.shutdown();
    }

    void events(Api.Call call) throws InterruptedException, IOException {
        ThreadId thread = Api.threadId(call);
        RunId run = Api.runId(call);
        long after = Bodies.lastEventId(call.ctx());
        if (call.ctx().method() != HandlerType.HEAD) {
            StreamLimits.Slot slot = flow.streamSlot(call.userId());
            stream(call, new ChatFlow.Follow(call.userId(), thread, run, after, DisconnectPolicy.CONTINUE, null, call.requestId()),
                    slot, new SseStream(call.ctx().res()));
            return;
        }
        // HEAD: the checks and headers of the stream without waiting for its events (and without a slot); committed
        // before the handler ends so that Jetty does not announce a Content-Length of 0 for an open-ended stream.
        // Nothing is left when the run is over and no event follows Last-Event-ID (the first read sees what the log held)
        boolean nothingLeft;
        try (RunStream events = chat.subscribe(call.userId(), thread, run, after, DisconnectPolicy.CONTINUE)) {
            nothingLeft = events.next(Duration.ZERO).isEmpty() && events.isFinished();
        }
        if (nothingLeft) {
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
        answer(call, req, key -> flow.send(call.userId(), threadId, req, BusyPolicy.REJECT, key),
                key -> flow.sendAndAwait(call.userId(), threadId, req, BusyPolicy.REJECT, key, config.syncChatTimeout(), call.requestId()));
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

    /** A send and its run waited for (up to the sync timeout), given the request's idempotency key. */
    private interface SyncSend {
        AwaitedSend apply(String idempotencyKey) throws InterruptedException;
    }

    /** Sends (with the request's idempotency key) and answers as the chat route does: a sync reply or the run's events. */
    private void answer(Api.Call call, Requests.Chat req, Function<String, SendReceipt> send) throws InterruptedException {
        answer(call, req, send, null);
    }

    /**
     * {@link #answer(Api.Call, Requests.Chat, Function)}, where a sync reply's send and wait are {@code syncSend}
     * when given (the run may then execute on the request's thread), else {@code send} then an await.
     */
    private void answer(Api.Call call, Requests.Chat req, Function<String, SendReceipt> send, SyncSend syncSend)
            throws InterruptedException {
        Context ctx = call.ctx();
        String idempotencyKey = Bodies.idempotencyKey(ctx.header("Idempotency-Key"));
        boolean stream = Boolean.TRUE.equals(req.stream()) || Bodies.acceptsEventStream(ctx.header("Accept"));
        long resumeAfter = stream ? Bodies.lastEventId(ctx) : 0;
        if (stream) {
            // the stream's slot is taken before the send: a refused stream leaves no run behind
            StreamLimits.Slot slot = flow.streamSlot(call.userId());
            SendReceipt receipt;
            try {
                receipt = send.apply(idempotencyKey);
            } catch (RuntimeException | Error e) {
                slot.close();
                throw e;
            }
            stream(call, flow.follow(call.userId(), receipt, req, resumeAfter, call.requestId()), slot, new SseStream(ctx.res()));
            return;
        }
        SendReceipt receipt;
        RunOutcome outcome;
        if (syncSend != null) {
            AwaitedSend answered = syncSend.apply(idempotencyKey);
            receipt = answered.receipt();
            outcome = answered.outcome();
        } else {
            receipt = send.apply(idempotencyKey);
            try {
                outcome = chat.await(call.userId(), receipt.run().id(), config.syncChatTimeout());
            } catch (RuntimeException e) {
                throw ChatFlow.afterSend(e, receipt, call.requestId());
            }
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
     * Answers the request with the events of the run {@code follow} names, written by {@code sink}: every HTTP
     * event stream, of this API or another on the app, goes here, holding {@code slot} (closed when the stream
     * ends). The subscription is made before the handler returns (its failures are answered as any
     * request's), and the stream's events are pushed to {@code sink} once the request has gone async (servlet
     * async, no timeout): no thread is parked for it while the run is idle. The request is completed once the
     * stream ends; a stream with nothing to send (a finished run resumed after its terminal event) is answered
     * 204 instead of an empty {@code 200 text/event-stream}, which EventSource would reconnect to forever.
     */
    void stream(Api.Call call, ChatFlow.Follow follow, StreamLimits.Slot slot, ChatFlow.Sink sink) {
        Context ctx = call.ctx();
        HttpStream http = new HttpStream(ctx, follow, slot);
        StreamDelivery delivery;
        try {
            delivery = flow.start(follow, sink, http::end);
        } catch (RuntimeException | Error e) {
            slot.close();
            throw e;
        }
        try {
            ctx.future(() -> {
                AsyncContext async = ctx.req().getAsyncContext();
                async.setTimeout(0); // a stream lasts as long as its run; heartbeats keep it alive
                async.addListener(new ClosedByContainer(delivery));
                http.async = async;
                delivery.attach();
                // never completed: the stream's end completes the request itself (see HttpStream), Javalin has nothing to write
                return new CompletableFuture<Void>();
            });
        } catch (RuntimeException | Error e) {
            delivery.abort();
            throw e;
        }
    }

    /**
     * The request of one stream, finished at the stream's end: answered 204 when nothing was sent, or with
     * the problem when the stream failed before it was opened; then its async context is completed here
     * rather than through Javalin's future, since when the client went away or the server is stopping,
     * Jetty may have failed and recycled the request already, and Javalin's completion would then run its
     * error handling on a dead response.
     */
    private static final class HttpStream {
        private final Context ctx;
        private final ChatFlow.Follow follow;
        private final String requestId;
        private final StreamLimits.Slot slot;
        /** Set before the delivery attaches, read at its end (which follows the attach). */
        volatile AsyncContext async;

        HttpStream(Context ctx, ChatFlow.Follow follow, StreamLimits.Slot slot) {
            this.ctx = ctx;
            this.follow = follow;
            this.requestId = follow.requestId();
            this.slot = slot;
        }

        void end(StreamDelivery.End end) {
            try {
                if (end.failure() != null && !end.byClient()) {
                    LOG.debug("Event stream ended by an error (request {}): {}", requestId, Errors.toProblem(end.failure(), requestId).code);
                }
                if (end.attached() && !end.opened() && !end.byClient()) {
                    answerWithoutStream(end.failure());
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("Event stream of request {} could not be answered: {}", requestId, e.toString());
            } finally {
                slot.close();
                AsyncContext current = async;
                if (current != null) {
                    try {
                        current.complete();
                    } catch (RuntimeException alreadyCompleted) {
                        // Jetty completed the failed request itself
                    }
                }
            }
        }

        /** 204 when there was nothing to send; the problem (in the route's own shape) when the stream failed first. */
        private void answerWithoutStream(Throwable failure) throws IOException {
            if (ctx.res().isCommitted()) {
                return;
            }
            if (failure == null) {
                ctx.res().setStatus(204);
                return;
            }
            ApiProblem problem = failure instanceof RuntimeException e && follow.receipt() != null
                    ? ChatFlow.afterSend(e, follow.receipt(), requestId) // the message and its run are kept: name them
                    : Errors.toProblem(failure, requestId);
            BiConsumer<Context, ApiProblem> errors = ctx.attribute(Api.ERROR_WRITER);
            (errors == null ? (BiConsumer<Context, ApiProblem>) Api::sendProblem : errors).accept(ctx, problem);
            InputStream body = ctx.resultInputStream();
            if (body != null) {
                try (body) {
                    body.transferTo(ctx.res().getOutputStream());
                }
            }
        }
    }

    /** Ends the stream when the container fails or times out its request (a connection error, the server stopping). */
    private record ClosedByContainer(StreamDelivery delivery) implements AsyncListener {
        @Override
        public void onError(AsyncEvent event) {
            delivery.close();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            delivery.close();
        }

        @Override
        public void onComplete(AsyncEvent event) {
            delivery.close();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
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
        FinishReason finish = outcome.finishReason();
        o.put("finish_reason", finish == null ? null : finish.wireName());
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
