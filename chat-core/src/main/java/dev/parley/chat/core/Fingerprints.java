package dev.parley.chat.core;

import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.port.in.SeedMessage;
import dev.parley.chat.port.in.SendMessageCommand;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/** The fingerprint of a send, to tell a retry (same body) from a reused idempotency key (other body). */
final class Fingerprints {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Fingerprints() {}

    /**
     * SHA-256 over the content parts, the requested agent, the busy policy and the run's own instructions, model
     * settings and continued answer, the history a new thread starts with and whether tools that require
     * approval are withheld, in lowercase hex.
     */
    static String of(SendMessageCommand command) {
        MessageDigest digest = sha256();
        parts(digest, command.content());
        put(digest, "agent");
        put(digest, command.agentId() == null ? "" : command.agentId());
        put(digest, "if_busy");
        put(digest, command.ifBusy().wireName());
        if (command.instructions() != null) {
            // only when given, so that the fingerprints of sends without them stay what they were
            put(digest, "instructions");
            put(digest, command.instructions());
        }
        ModelSettings settings = command.modelSettings();
        if (!settings.isDefault()) {
            put(digest, "model_settings");
            put(digest, settings.temperature() == null ? "" : settings.temperature().toString());
            put(digest, settings.maxOutputTokens() == null ? "" : settings.maxOutputTokens().toString());
            put(digest, settings.reasoningEffort() == null ? "" : settings.reasoningEffort().wireName());
        }
        if (command.continuedFrom() != null) {
            put(digest, "continued_from");
            put(digest, command.continuedFrom());
        }
        if (!command.history().isEmpty()) {
            put(digest, "history");
            for (SeedMessage seed : command.history()) {
                put(digest, seed.role().name());
                parts(digest, seed.content());
            }
        }
        if (command.approvalToolsWithheld()) {
            put(digest, "approval_tools_withheld");
        }
        byte[] hash = digest.digest();
        char[] out = new char[hash.length * 2];
        for (int i = 0; i < hash.length; i++) {
            out[2 * i] = HEX[(hash[i] >> 4) & 0xF];
            out[2 * i + 1] = HEX[hash[i] & 0xF];
        }
        return new String(out);
    }

    private static void parts(MessageDigest digest, List<ContentPart> content) {
        for (ContentPart part : content) {
            put(digest, part.type());
            if (part instanceof ContentPart.Text t) {
                put(digest, t.text());
            } else if (part instanceof ContentPart.ImageUrl i) {
                put(digest, i.url());
            }
        }
    }

    /** Length-prefixed, so that no two different inputs share an encoding. */
    private static void put(MessageDigest digest, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        digest.update((byte) (bytes.length >>> 24));
        digest.update((byte) (bytes.length >>> 16));
        digest.update((byte) (bytes.length >>> 8));
        digest.update((byte) bytes.length);
        digest.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
