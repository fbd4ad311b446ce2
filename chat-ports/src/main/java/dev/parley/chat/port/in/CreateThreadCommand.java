package dev.parley.chat.port.in;

import dev.parley.chat.model.Require;
import java.util.Map;

/**
 * Create a thread for {@code userId}; {@code agentId} null means the default agent, {@code title} may
 * be null. {@code agentVersion} pins the thread to that version of its agent; null follows the latest.
 */
public record CreateThreadCommand(String userId, String agentId, String title, Map<String, String> metadata,
                                  Integer agentVersion) {
    public CreateThreadCommand {
        Require.notBlank(userId, "userId");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /** A thread that follows its agent's latest version. */
    public CreateThreadCommand(String userId, String agentId, String title, Map<String, String> metadata) {
        this(userId, agentId, title, metadata, null);
    }
}
