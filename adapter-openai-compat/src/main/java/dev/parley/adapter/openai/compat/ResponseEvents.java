package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Turns a run's events into the events of one OpenAI response, in the official order: {@code
 * response.created}, {@code response.in_progress}, the output items with their content parts and
 * deltas, the {@code response.mcp_call.*} events around a tool step, and exactly one terminal event
 * ({@code response.completed}, {@code response.failed}, or {@code response.incomplete} for a cancelled
 * run, whose status is {@code cancelled}). Numbers the events from 0.
 *
 * <p>The translation depends only on the run's event log, so a replay numbers every event as the live
 * stream did. A wait for approval ends the response ({@code completed}, the requests as items); the
 * run's next response, segment {@code k}, is what follows its {@code k}-th wait.
 */
final class ResponseEvents implements RunEvent.Visitor<Void> {

    /** Where the translated events go. */
    interface Emitter {
        /** {@code json} renders the event; it is not called for an event the emitter skips. */
        void emit(long sequenceNumber, String type, Supplier<String> json);

        /**
         * A text or reasoning delta, the event of every token: {@code frame} renders it; by default as {@link #emit} would
         * be given it, while a stream may write the frame's bytes at once.
         */
        default void delta(long sequenceNumber, TextFrame frame, String text) {
            emit(sequenceNumber, frame.type(), () -> frame.json(text, sequenceNumber));
        }
    }

    /** A translation waiting for its emitter. */
    interface Factory {
        ResponseEvents create(Emitter emitter);
    }

    private final Wire.Ref ref;
    private final Run run;
    private final Map<String, String> metadata;
    private final boolean background;
    private final RunSettings.Echo echo;
    private final Emitter emitter;

    private long sequence = -1;
    private final ArrayNode output = Wire.array();
    private final Map<String, Integer> toolItems = new HashMap<>();
    /** Every tool call begun so far in the run, by step id (an approved call ends in a later response). */
    private final Map<String, ToolCall> calls = new HashMap<>();
    private RunEvent.TraceStart pendingStart;
    /** The output index of the open message or reasoning item, else -1. */
    private int openMessage = -1;
    private int openReasoning = -1;
    private int firstMessage = -1;
    /** The deltas of the open message and reasoning items, their fixed parts rendered once. */
    private TextFrame delta;
    private TextFrame reasoningDelta;
    private final StringBuilder text = new StringBuilder();
    private final StringBuilder thinking = new StringBuilder();
    private boolean started;
    private boolean ended;
    private ObjectNode last;
    /** Waits for approval seen whole so far, and whether the run is in one. */
    private int pauses;
    private boolean inPause;
    private Usage usage = Usage.ZERO;

    /**
     * @param run the run as it was when the translation began (its id, thread, agent, creation time)
     * @param echo what the response objects say of the run's settings and of the response it continued
     */
    ResponseEvents(Wire.Ref ref, Run run, Map<String, String> metadata, boolean background, RunSettings.Echo echo, Emitter emitter) {
        this.ref = ref;
        this.run = run;
        this.metadata = metadata;
        this.background = background;
        this.echo = echo;
        this.emitter = emitter;
    }

    /** Translates the next event of the run's log. */
    void accept(RunEvent event) {
        if (ended || !event.isReplayable()) {
            return;
        }
        if (event instanceof RunEvent.TraceStart start) {
            calls.put(start.stepId().value(), start.toolCall());
        }
        boolean current = pauses == ref.segment();
        if (event instanceof RunEvent.ApprovalRequired required) {
            inPause = true;
            if (current) {
                if (pendingStart != null && pendingStart.stepId().equals(required.stepId())) {
                    pendingStart = null; // the call waits for approval: its request item stands for it
                } else {
                    settle();
                }
                event.accept(this);
            }
            return;
        }
        if (inPause && event instanceof RunEvent.TraceStart start) {
            // the next call of the same turn: its approval request follows it
            if (current) {
                pendingStart = start;
            }
            return;
        }
        if (inPause) {
            if (current) {
                endPause();
                return;
            }
            inPause = false;
            pauses++;
        }
        if (pauses < ref.segment()) {
            return;
        }
        settle();
        if (!started && !(event instanceof RunEvent.RunStarted)) {
            start();
        }
        event.accept(this);
    }

    /**
     * Writes a tool call that began, once it is known not to wait for approval (the event after its
     * start is not its approval request, or the events so far are all there is).
     */
    void settle() {
        if (pendingStart != null && !inPause) {
            RunEvent.TraceStart start = pendingStart;
            pendingStart = null;
            openToolItem(start.stepId().value(), start.toolCall());
        }
    }

    /** Ends the response when the run waits for approval: the requests are its last items. */
    void endPause() {
        if (inPause && pauses == ref.segment() && !ended) {
            terminal("response.completed", responseNow("completed"));
        }
    }

    boolean ended() {
        return ended;
    }

    /** Whether the run has come as far as this response (a later segment does not exist before its wait ended). */
    boolean reached() {
        return pauses >= ref.segment();
    }

    /** The response as the events so far make it: the terminal event's, or in progress. */
    ObjectNode response(String statusWhileGoing) {
        return last != null ? last.deepCopy() : responseNow(statusWhileGoing);
    }

    private void start() {
        started = true;
        // the two first events show the same response: rendered once, when the first one is written
        ObjectNode response = responseNow("in_progress");
        String[] rendered = new String[1];
        Supplier<String> json = () -> rendered[0] != null ? rendered[0] : (rendered[0] = Wire.write(response));
        emitResponse("response.created", json);
        emitResponse("response.in_progress", json);
    }

    /** An event whose data is {@code response}: the same JSON as {@link #emit} writes. */
    private void emitResponse(String type, Supplier<String> response) {
        long number = ++sequence;
        emitter.emit(number, type, () -> "{\"type\":\"" + type + "\",\"response\":" + response.get() + ",\"sequence_number\":" + number + "}");
    }

    private void emit(String type, ObjectNode data) {
        long number = ++sequence;
        emitter.emit(number, type, () -> {
            ObjectNode frame = Wire.object();
            frame.put("type", type);
            frame.setAll(data);
            frame.put("sequence_number", number);
            return Wire.write(frame);
        });
    }

    private ObjectNode responseNow(String status) {
        ObjectNode response = Wire.response(ref, run, output.deepCopy(), metadata, background, echo);
        response.put("status", status);
        response.set("usage", Wire.usage(usage));
        return response;
    }

    private void terminal(String type, ObjectNode response) {
        if (response.get("completed_at").isNull()) {
            response.put("completed_at", run.completedAt() != null ? Wire.seconds(run.completedAt()) : java.time.Instant.now().getEpochSecond());
        }
        ObjectNode data = Wire.object();
        data.set("response", response);
        last = response;
        ended = true;
        emit(type, data);
    }

    private ObjectNode at(int index) {
        ObjectNode data = Wire.object();
        data.put("output_index", index);
        return data;
    }

    private void openMessage() {
        if (openMessage >= 0) {
            return;
        }
        closeReasoning();
        openMessage = output.size();
        text.setLength(0);
        ObjectNode item = Wire.outputMessage(messageId(), null, "in_progress");
        output.add(item);
        emit("response.output_item.added", at(openMessage).set("item", item.deepCopy()));
        ObjectNode part = at(openMessage).put("item_id", messageId()).put("content_index", 0);
        part.set("part", Wire.outputText(""));
        emit("response.content_part.added", part);
        delta = TextFrame.responseDelta(openMessage, messageId());
    }

    /** The first message item of a run has the id a retrieve shows; later ones (after tool calls) are numbered. */
    private String messageId() {
        String base = Wire.messageItemId(run.id());
        return openMessage == firstMessageIndex() ? base : base + "_" + openMessage;
    }

    private int firstMessageIndex() {
        if (firstMessage < 0) {
            firstMessage = openMessage;
        }
        return firstMessage;
    }

    private void closeMessage(String status) {
        if (openMessage < 0) {
            return;
        }
        String id = messageId();
        String full = text.toString();
        emit("response.output_text.done", at(openMessage).put("item_id", id).put("content_index", 0).put("text", full)
                .set("logprobs", Wire.array()));
        ObjectNode partDone = at(openMessage).put("item_id", id).put("content_index", 0);
        partDone.set("part", Wire.outputText(full));
        emit("response.content_part.done", partDone);
        ObjectNode item = Wire.outputMessage(id, full, status);
        output.set(openMessage, item);
        emit("response.output_item.done", at(openMessage).set("item", item.deepCopy()));
        openMessage = -1;
    }

    private void openReasoning() {
        if (openReasoning >= 0) {
            return;
        }
        closeMessage("completed");
        openReasoning = output.size();
        thinking.setLength(0);
        ObjectNode item = Wire.reasoning(run.id(), null);
        output.add(item);
        emit("response.output_item.added", at(openReasoning).set("item", item.deepCopy()));
        ObjectNode part = at(openReasoning).put("item_id", item.get("id").asText()).put("summary_index", 0);
        part.putObject("part").put("type", "summary_text").put("text", "");
        emit("response.reasoning_summary_part.added", part);
        reasoningDelta = TextFrame.reasoningDelta(openReasoning, Wire.reasoningItemId(run.id()));
    }

    private void closeReasoning() {
        if (openReasoning < 0) {
            return;
        }
        String id = Wire.reasoningItemId(run.id());
        String full = thinking.toString();
        emit("response.reasoning_summary_text.done", at(openReasoning).put("item_id", id).put("summary_index", 0).put("text", full));
        ObjectNode part = at(openReasoning).put("item_id", id).put("summary_index", 0);
        part.putObject("part").put("type", "summary_text").put("text", full);
        emit("response.reasoning_summary_part.done", part);
        ObjectNode item = Wire.reasoning(run.id(), full);
        output.set(openReasoning, item);
        emit("response.output_item.done", at(openReasoning).set("item", item.deepCopy()));
        openReasoning = -1;
    }

    private void closeOpen(String messageStatus) {
        closeReasoning();
        closeMessage(messageStatus);
    }

    // ---- the run's events ----

    @Override
    public Void visit(RunEvent.RunStarted event) {
        if (!started) {
            start();
        }
        return null;
    }

    @Override
    public Void visit(RunEvent.Token event) {
        openMessage();
        text.append(event.content());
        emitter.delta(++sequence, delta, event.content());
        return null;
    }

    @Override
    public Void visit(RunEvent.Thinking event) {
        openReasoning();
        thinking.append(event.content());
        emitter.delta(++sequence, reasoningDelta, event.content());
        return null;
    }

    @Override
    public Void visit(RunEvent.TraceStart event) {
        closeOpen("completed");
        pendingStart = event;
        return null;
    }

    private void openToolItem(String id, ToolCall call) {
        closeOpen("completed");
        int index = output.size();
        toolItems.put(id, index);
        ObjectNode item = Wire.mcpCall(id, call, StepStatus.IN_PROGRESS, null, null);
        output.add(item);
        emit("response.output_item.added", at(index).set("item", item.deepCopy()));
        emit("response.mcp_call_arguments.done", at(index).put("item_id", id).put("arguments", item.get("arguments").asText()));
        emit("response.mcp_call.in_progress", at(index).put("item_id", id));
    }

    @Override
    public Void visit(RunEvent.TraceUpdate event) {
        return null;
    }

    @Override
    public Void visit(RunEvent.TraceEnd event) {
        Integer index = toolItems.get(event.stepId().value());
        if (index == null) {
            ToolCall call = calls.get(event.stepId().value());
            if (call == null) {
                return null;
            }
            // a call approved after the wait that ended the previous response
            openToolItem(event.stepId().value(), call);
            index = toolItems.get(event.stepId().value());
        }
        ObjectNode item = (ObjectNode) output.get(index);
        item.put("output", event.output());
        item.put("error", event.error());
        boolean ok = event.status() == StepStatus.COMPLETED;
        item.put("status", ok ? "completed" : "failed");
        emit(ok ? "response.mcp_call.completed" : "response.mcp_call.failed", at(index).put("item_id", event.stepId().value()));
        emit("response.output_item.done", at(index).set("item", item.deepCopy()));
        return null;
    }

    @Override
    public Void visit(RunEvent.ApprovalRequired event) {
        closeOpen("completed");
        int index = output.size();
        ObjectNode item = Wire.approvalRequest(event.toolCall());
        output.add(item);
        emit("response.output_item.added", at(index).set("item", item.deepCopy()));
        emit("response.output_item.done", at(index).set("item", item.deepCopy()));
        return null;
    }

    @Override
    public Void visit(RunEvent.ApprovalDecided event) {
        return null;
    }

    @Override
    public Void visit(RunEvent.Done event) {
        usage = event.usage();
        if (event.finishReason() == FinishReason.LENGTH) {
            // the answer stopped at the output token limit: kept as it is, the response is incomplete
            closeOpen("incomplete");
            ObjectNode response = responseNow("incomplete");
            response.putObject("incomplete_details").put("reason", Wire.MAX_OUTPUT_TOKENS);
            terminal("response.incomplete", response);
            return null;
        }
        closeOpen("completed");
        terminal("response.completed", responseNow("completed"));
        return null;
    }

    @Override
    public Void visit(RunEvent.Error event) {
        closeOpen("incomplete");
        ObjectNode response = responseNow("failed");
        ObjectNode error = response.putObject("error");
        error.put("code", "server_error");
        error.put("message", event.message());
        terminal("response.failed", response);
        return null;
    }

    @Override
    public Void visit(RunEvent.Cancelled event) {
        closeOpen("incomplete");
        ObjectNode response = responseNow("cancelled");
        response.putObject("incomplete_details").put("reason", "cancelled");
        terminal("response.incomplete", response);
        return null;
    }

    @Override
    public Void visit(RunEvent.Heartbeat event) {
        return null;
    }
}
