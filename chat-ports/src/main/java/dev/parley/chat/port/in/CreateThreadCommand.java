package dev.parley.chat.port.in;

import dev.parley.chat.model.Require;
import java.util.Map;

/** Create a thread for {@code userId}; {@code agentId} null means the default agent, {@code title} may be null. */
public record CreateThreadCommand(String userId, String agentId, String title, Map<String, String> metadata) {
    public CreateThreadCommand {
        Require.notBlank(userId, "userId");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
}
