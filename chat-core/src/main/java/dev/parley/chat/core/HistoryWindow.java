package dev.parley.chat.core;

import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.MessageStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The part of a thread's history a run shows its model. It ends with the run's own user message
 * (queued runs may see answers of earlier runs that were stored after their message); user
 * messages of later runs are left out. Within the agent's limits (the last
 * {@code historyMessages} messages, then at most {@code historyTokenBudget} estimated tokens) the
 * oldest messages go first, but the run's own user message always stays. A tool result never
 * appears without the assistant message that asked for it.
 */
final class HistoryWindow {
    /** Extra messages read beyond the limit, to make up for later user messages that are left out. */
    static final int READ_AHEAD = 32;

    private HistoryWindow() {}

    static List<Message> load(MessageStore store, Run run, Message userMessage, AgentLimits limits, IdGenerator ids) {
        List<Message> latest = store.latest(run.threadId(), limits.historyMessages() + READ_AHEAD);
        List<Message> prior = new ArrayList<>(latest.size());
        for (Message m : latest) {
            if (m.id().equals(userMessage.id())) {
                continue;
            }
            boolean later = m.position() > userMessage.position();
            if (later && (m.role() == Role.USER || run.id().equals(m.runId()))) {
                continue;
            }
            prior.add(m);
        }
        return build(prior, userMessage, limits, ids);
    }

    /** The window from {@code prior} (oldest first, without the user message) and the run's user message. */
    static List<Message> build(List<Message> prior, Message userMessage, AgentLimits limits, IdGenerator ids) {
        int keep = Math.max(0, limits.historyMessages() - 1);
        List<Message> window = new ArrayList<>(prior.subList(Math.max(0, prior.size() - keep), prior.size()));
        if (limits.historyTokenBudget() > 0) {
            long tokens = TokenEstimate.of(userMessage);
            for (Message m : window) {
                tokens += TokenEstimate.of(m);
            }
            while (!window.isEmpty() && tokens > limits.historyTokenBudget()) {
                tokens -= TokenEstimate.of(window.remove(0));
            }
        }
        window.add(userMessage);
        return pairToolResults(window, ids, userMessage.createdAt());
    }

    /**
     * Drops tool results whose call is not in the window (after trimming, those lead the window)
     * and adds a synthetic error result for any call whose result is missing, so that every model
     * API accepts the conversation.
     */
    static List<Message> pairToolResults(List<Message> messages, IdGenerator ids, Instant now) {
        List<Message> out = new ArrayList<>(messages.size());
        Message asking = null;
        Set<String> pending = new LinkedHashSet<>();
        for (Message m : messages) {
            if (m.role() == Role.TOOL) {
                if (pending.remove(m.toolCallId())) {
                    out.add(m);
                }
                continue;
            }
            closePending(out, asking, pending, ids, now);
            if (m.role() == Role.ASSISTANT && !m.toolCalls().isEmpty()) {
                asking = m;
                for (ToolCall call : m.toolCalls()) {
                    pending.add(call.id());
                }
            }
            out.add(m);
        }
        closePending(out, asking, pending, ids, now);
        return out;
    }

    private static void closePending(List<Message> out, Message asking, Set<String> pending, IdGenerator ids, Instant now) {
        if (pending.isEmpty()) {
            return; // the common case, once per message: no iterator over the set's emptied table
        }
        for (String callId : pending) {
            out.add(Message.toolResult(MessageId.next(ids), asking.threadId(), callId,
                    "error: no result was recorded for this call", now).inRun(asking.runId()));
        }
        pending.clear();
    }
}
