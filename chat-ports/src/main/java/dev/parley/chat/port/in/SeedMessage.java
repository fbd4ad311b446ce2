package dev.parley.chat.port.in;

import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Role;
import java.util.List;

/**
 * A message a new thread starts with, as when a conversation is imported or a client that keeps its
 * own history hands it over: a {@link Role#USER} message (text and images) or an
 * {@link Role#ASSISTANT} answer (text). Seeded messages start no run; the thread's first run sees
 * them as its history.
 */
public record SeedMessage(Role role, List<ContentPart> content) {
    public SeedMessage {
        Require.notNull(role, "role");
        Require.that(role == Role.USER || role == Role.ASSISTANT, "a seeded message is the user's or the assistant's");
        content = List.copyOf(Require.notNull(content, "content"));
    }

    /** A user message of {@code text}. */
    public static SeedMessage user(String text) {
        return new SeedMessage(Role.USER, List.of(ContentPart.text(text)));
    }

    /** An assistant answer of {@code text}. */
    public static SeedMessage assistant(String text) {
        return new SeedMessage(Role.ASSISTANT, List.of(ContentPart.text(text)));
    }
}
