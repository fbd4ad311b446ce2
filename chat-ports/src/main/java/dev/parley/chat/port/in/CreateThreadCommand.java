package dev.parley.chat.port.in;

import dev.parley.chat.model.Require;
import java.util.List;
import java.util.Map;

/**
 * Create a thread for {@code userId}; {@code agentId} null means the default agent, {@code title} may
 * be null. {@code agentVersion} pins the thread to that version of its agent; null follows the latest.
 * {@code messages} (none by default) are stored in order as the thread's first messages, in the
 * transaction that creates it.
 */
public record CreateThreadCommand(String userId, String agentId, String title, Map<String, String> metadata,
                                  Integer agentVersion, List<SeedMessage> messages) {
    public CreateThreadCommand {
        Require.notBlank(userId, "userId");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        messages = messages == null ? List.of() : List.copyOf(messages);
    }

    /** A thread without seeded messages. */
    public CreateThreadCommand(String userId, String agentId, String title, Map<String, String> metadata, Integer agentVersion) {
        this(userId, agentId, title, metadata, agentVersion, List.of());
    }

    /** A thread that follows its agent's latest version. */
    public CreateThreadCommand(String userId, String agentId, String title, Map<String, String> metadata) {
        this(userId, agentId, title, metadata, null);
    }

    /** This command with {@code messages} to start the thread with. */
    public CreateThreadCommand withMessages(List<SeedMessage> messages) {
        return new CreateThreadCommand(userId, agentId, title, metadata, agentVersion, messages);
    }
}
