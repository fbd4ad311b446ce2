package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.ToolCall;
import java.time.Instant;
import java.util.List;

/** The messages a run writes to its thread (its position is the store's to give), and error texts fit for a client. */
final class RunMessages {
    static final int MAX_ERROR_MESSAGE_CODE_POINTS = 300;

    private RunMessages() {
    }

    static Message assistant(Engine engine, Run run, String text, List<ToolCall> calls, MessageStatus status, Instant now) {
        return Message.assistant(MessageId.next(engine.ids()), run.threadId(), text, now).inRun(run.id()).withToolCalls(calls)
                .withStatus(status);
    }

    static Message toolResult(Engine engine, Run run, String toolCallId, String text, Instant now) {
        return Message.toolResult(MessageId.next(engine.ids()), run.threadId(), toolCallId, text, now).inRun(run.id());
    }

    /** The agent's instructions as the conversation's first message. */
    static Message system(Engine engine, Run run, String prompt, Instant at) {
        return Message.system(MessageId.next(engine.ids()), run.threadId(), prompt, at).inRun(run.id());
    }

    /** An error message fit for a client: no control characters, at most 300 code points. */
    static String sanitize(String message, String fallback) {
        if (message == null || message.isBlank()) {
            return fallback;
        }
        StringBuilder sb = new StringBuilder();
        int count = 0;
        for (int i = 0; i < message.length() && count < MAX_ERROR_MESSAGE_CODE_POINTS; ) {
            int cp = message.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isISOControl(cp) || (Character.isSurrogate((char) cp) && cp <= 0xFFFF)) {
                sb.append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
            count++;
        }
        return sb.toString().strip();
    }
}
