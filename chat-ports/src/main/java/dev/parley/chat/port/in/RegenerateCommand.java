package dev.parley.chat.port.in;

import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.ThreadId;
import java.util.Map;

/**
 * Regenerate the assistant message {@code messageId} of {@code threadId}: a new run answers the
 * same user message on a new branch. The other fields are those of a {@link SendMessageCommand}.
 */
public record RegenerateCommand(String userId, ThreadId threadId, MessageId messageId, BusyPolicy ifBusy,
                                String idempotencyKey, Map<String, String> variables, ModelSettings modelSettings) {
    public RegenerateCommand {
        Require.notBlank(userId, "userId");
        Require.notNull(threadId, "threadId");
        Require.notNull(messageId, "messageId");
        ifBusy = ifBusy == null ? BusyPolicy.REJECT : ifBusy;
        variables = variables == null ? Map.of() : Map.copyOf(variables);
        modelSettings = modelSettings == null ? ModelSettings.DEFAULT : modelSettings;
    }

    /** A regenerate without model settings of its own. */
    public RegenerateCommand(String userId, ThreadId threadId, MessageId messageId, BusyPolicy ifBusy, String idempotencyKey,
                             Map<String, String> variables) {
        this(userId, threadId, messageId, ifBusy, idempotencyKey, variables, null);
    }

    /** A regenerate that rejects a busy thread. */
    public static RegenerateCommand of(String userId, ThreadId threadId, MessageId messageId) {
        return new RegenerateCommand(userId, threadId, messageId, BusyPolicy.REJECT, null, null);
    }

    public RegenerateCommand withBusyPolicy(BusyPolicy policy) {
        return new RegenerateCommand(userId, threadId, messageId, policy, idempotencyKey, variables, modelSettings);
    }

    public RegenerateCommand withIdempotencyKey(String key) {
        return new RegenerateCommand(userId, threadId, messageId, ifBusy, key, variables, modelSettings);
    }

    /** The regenerate with {@code settings} as its run's own model settings (null: none). */
    public RegenerateCommand withModelSettings(ModelSettings settings) {
        return new RegenerateCommand(userId, threadId, messageId, ifBusy, idempotencyKey, variables, settings);
    }
}
