package dev.parley.adapter.otel;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.ToolCall;
import java.util.List;

/**
 * Message content in the JSON shapes of the GenAI conventions' {@code gen_ai.input.messages} and
 * {@code gen_ai.output.messages}: {@code [{"role": ..., "parts": [{"type": "text", "content": ...}]}]}.
 * Only ever recorded when the tracer was built with {@code captureContent(true)}.
 */
final class Content {
    private Content() {
    }

    static String input(List<Message> messages) {
        StringBuilder sb = new StringBuilder("[");
        for (Message m : messages) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append("{\"role\":").append(quote(m.role().name().toLowerCase(java.util.Locale.ROOT))).append(",\"parts\":[");
            boolean first = true;
            String text = m.text();
            if (text != null && !text.isEmpty()) {
                if (m.toolCallId() != null) {
                    sb.append("{\"type\":\"tool_call_response\",\"id\":").append(quote(m.toolCallId()))
                            .append(",\"response\":").append(quote(text)).append('}');
                } else {
                    sb.append("{\"type\":\"text\",\"content\":").append(quote(text)).append('}');
                }
                first = false;
            }
            for (ToolCall call : m.toolCalls()) {
                if (!first) {
                    sb.append(',');
                }
                toolCall(sb, call);
                first = false;
            }
            sb.append("]}");
        }
        return sb.append(']').toString();
    }

    static String output(String text, List<ToolCall> calls, String finishReason) {
        StringBuilder sb = new StringBuilder("[{\"role\":\"assistant\",\"parts\":[");
        boolean first = true;
        if (text != null && !text.isEmpty()) {
            sb.append("{\"type\":\"text\",\"content\":").append(quote(text)).append('}');
            first = false;
        }
        for (ToolCall call : calls) {
            if (!first) {
                sb.append(',');
            }
            toolCall(sb, call);
            first = false;
        }
        sb.append("]");
        if (finishReason != null) {
            sb.append(",\"finish_reason\":").append(quote(finishReason));
        }
        return sb.append("}]").toString();
    }

    private static void toolCall(StringBuilder sb, ToolCall call) {
        sb.append("{\"type\":\"tool_call\",\"id\":").append(quote(call.id())).append(",\"name\":").append(quote(call.name()))
                .append(",\"arguments\":").append(quote(call.arguments())).append('}');
    }

    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
