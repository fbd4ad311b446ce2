package dev.parley.chat.port.in;

import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.ThreadId;
import java.util.List;
import java.util.Map;

/**
 * Edit the user message {@code messageId} of {@code threadId}: {@code content} becomes a new version
 * of it and the agent runs on it. The other fields are those of a {@link SendMessageCommand}.
 */
public record EditMessageCommand(String userId, ThreadId threadId, MessageId messageId, List<ContentPart> content,
                                 BusyPolicy ifBusy, String idempotencyKey, Map<String, String> metadata,
                                 Map<String, String> variables, ModelSettings modelSettings, String continuedFrom) {
    public EditMessageCommand {
        Require.notBlank(userId, "userId");
        Require.notNull(threadId, "threadId");
        Require.notNull(messageId, "messageId");
        content = List.copyOf(Require.notNull(content, "content"));
        ifBusy = ifBusy == null ? BusyPolicy.REJECT : ifBusy;
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        variables = variables == null ? Map.of() : Map.copyOf(variables);
        modelSettings = modelSettings == null ? ModelSettings.DEFAULT : modelSettings;
    }

    /** An edit without model settings of its own, continuing nothing named. */
    public EditMessageCommand(String userId, ThreadId threadId, MessageId messageId, List<ContentPart> content,
                              BusyPolicy ifBusy, String idempotencyKey, Map<String, String> metadata,
                              Map<String, String> variables) {
        this(userId, threadId, messageId, content, ifBusy, idempotencyKey, metadata, variables, null, null);
    }

    /** A plain-text edit that rejects a busy thread. */
    public static EditMessageCommand text(String userId, ThreadId threadId, MessageId messageId, String text) {
        return new EditMessageCommand(userId, threadId, messageId, List.of(ContentPart.text(text)), BusyPolicy.REJECT, null,
                null, null);
    }

    public EditMessageCommand withBusyPolicy(BusyPolicy policy) {
        return new EditMessageCommand(userId, threadId, messageId, content, policy, idempotencyKey, metadata, variables, modelSettings,
                continuedFrom);
    }

    public EditMessageCommand withIdempotencyKey(String key) {
        return new EditMessageCommand(userId, threadId, messageId, content, ifBusy, key, metadata, variables, modelSettings,
                continuedFrom);
    }

    /** The edit with {@code settings} as its run's own model settings (null: none). */
    public EditMessageCommand withModelSettings(ModelSettings settings) {
        return new EditMessageCommand(userId, threadId, messageId, content, ifBusy, idempotencyKey, metadata, variables, settings,
                continuedFrom);
    }

    /** The edit recording that it continues the answer its client calls {@code id} (see {@link SendMessageCommand#continuing}). */
    public EditMessageCommand continuing(String id) {
        return new EditMessageCommand(userId, threadId, messageId, content, ifBusy, idempotencyKey, metadata, variables, modelSettings,
                id);
    }

    /** The send this edit makes. */
    public SendMessageCommand asSend() {
        return new SendMessageCommand(userId, threadId, null, content, ifBusy, idempotencyKey, metadata, variables, null, modelSettings,
                continuedFrom);
    }
}
