package dev.parley.chat.port.in;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.ThreadId;
import java.util.Map;
import java.util.Optional;

/**
 * Change a thread's title and/or metadata. An empty {@code Optional} leaves the field as it is;
 * metadata given replaces the old map whole.
 */
public record UpdateThreadCommand(String userId, ThreadId threadId, Optional<String> title,
                                  Optional<Map<String, String>> metadata) {
    public UpdateThreadCommand {
        Require.notBlank(userId, "userId");
        Require.notNull(threadId, "threadId");
        title = title == null ? Optional.empty() : title;
        metadata = metadata == null ? Optional.empty() : metadata.map(Map::copyOf);
    }
}
