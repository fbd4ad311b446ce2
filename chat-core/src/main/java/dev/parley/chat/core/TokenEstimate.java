package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.ToolCall;
import java.util.List;

/** The rough token count used when a model reports no usage: about four characters per token. */
final class TokenEstimate {
    static final int CHARS_PER_TOKEN = 4;

    private TokenEstimate() {}

    static long ofChars(long chars) {
        return (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
    }

    static long chars(Message message) {
        long chars = message.text().length();
        for (ToolCall call : message.toolCalls()) {
            chars += call.name().length() + call.arguments().length();
        }
        return chars;
    }

    static long of(Message message) {
        return ofChars(chars(message));
    }

    static long ofPrompt(List<Message> messages) {
        long chars = 0;
        for (Message m : messages) {
            chars += chars(m);
        }
        return ofChars(chars);
    }

    static long ofOutput(String text, List<ToolCall> calls) {
        long chars = text.length();
        for (ToolCall call : calls) {
            chars += call.name().length() + call.arguments().length();
        }
        return ofChars(chars);
    }
}
