package dev.parley.chat.core;

import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Role;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.SeedMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks what clients send before anything is stored. Field names are those of the wire
 * ({@code message}, {@code title}, {@code metadata}, {@code idempotency_key}).
 */
final class RequestValidator {
    static final int MAX_TITLE_CODE_POINTS = 200;
    static final int MAX_METADATA_KEYS = 16;
    static final int MAX_METADATA_KEY_LENGTH = 64;
    static final int MAX_METADATA_VALUE_LENGTH = 512;
    static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    static final int MAX_IMAGE_URL_LENGTH = 8 * 1024 * 1024;
    /** The most messages a new thread starts with. */
    static final int MAX_SEED_MESSAGES = 1_000;

    private final int maxMessageCodePoints;

    RequestValidator(int maxMessageCodePoints) {
        this.maxMessageCodePoints = maxMessageCodePoints;
    }

    /** Collects field errors and throws them together. */
    static final class Errors {
        private final List<FieldError> errors = new ArrayList<>();

        void add(String field, String message) {
            errors.add(new FieldError(field, message));
        }

        void throwIfAny() {
            if (errors.isEmpty()) {
                return;
            }
            StringBuilder summary = new StringBuilder("Invalid request: ");
            for (int i = 0; i < errors.size(); i++) {
                if (i > 0) {
                    summary.append("; ");
                }
                summary.append(errors.get(i).field()).append(' ').append(errors.get(i).message());
            }
            throw new InvalidRequestException(InvalidRequestException.Reason.VALIDATION_FAILED, summary.toString(), errors);
        }
    }

    void content(List<ContentPart> content, Errors errors) {
        content(content, "message", errors);
    }

    /** The content of a message, as field {@code field}: not empty, no NUL or lone surrogate, within the size limit. */
    void content(List<ContentPart> content, String field, Errors errors) {
        if (content.isEmpty()) {
            errors.add(field, "must not be empty");
            return;
        }
        long codePoints = 0;
        boolean hasText = false;
        boolean hasImage = false;
        for (ContentPart part : content) {
            if (part instanceof ContentPart.Text t) {
                String text = t.text();
                if (containsBadCharacters(field, text, errors)) {
                    return;
                }
                codePoints += Texts.codePoints(text);
                hasText |= !text.isBlank();
            } else if (part instanceof ContentPart.ImageUrl img) {
                hasImage = true;
                if (!isAcceptedImageUrl(img.url())) {
                    errors.add(field, "image_url must be an http(s) or data: URL");
                    return;
                }
            }
        }
        if (!hasText && !hasImage) {
            errors.add(field, "must not be empty");
        } else if (codePoints > maxMessageCodePoints) {
            errors.add(field, "must be at most " + maxMessageCodePoints + " characters");
        }
    }

    /**
     * Messages a new thread starts with ({@code field} names them): at most {@value #MAX_SEED_MESSAGES},
     * each as a chat message's content; an answer is text only.
     */
    void seeds(List<SeedMessage> messages, String field, Errors errors) {
        if (messages.size() > MAX_SEED_MESSAGES) {
            errors.add(field, "must be at most " + MAX_SEED_MESSAGES + " messages");
            return;
        }
        for (int i = 0; i < messages.size(); i++) {
            SeedMessage seed = messages.get(i);
            String at = field + "[" + i + "].content";
            if (seed.role() == Role.ASSISTANT && seed.content().stream().anyMatch(p -> !(p instanceof ContentPart.Text))) {
                errors.add(at, "an assistant message is text only");
                continue;
            }
            content(seed.content(), at, errors);
        }
    }

    static void title(String title, Errors errors) {
        if (title == null || containsBadCharacters("title", title, errors)) {
            return;
        }
        if (Texts.codePoints(title) > MAX_TITLE_CODE_POINTS) {
            errors.add("title", "must be at most " + MAX_TITLE_CODE_POINTS + " characters");
        }
    }

    static void metadata(Map<String, String> metadata, Errors errors) {
        if (metadata.size() > MAX_METADATA_KEYS) {
            errors.add("metadata", "must have at most " + MAX_METADATA_KEYS + " keys");
            return;
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            if (key.isEmpty() || key.length() > MAX_METADATA_KEY_LENGTH) {
                errors.add("metadata", "keys must be 1 to " + MAX_METADATA_KEY_LENGTH + " characters");
                return;
            }
            if (value.length() > MAX_METADATA_VALUE_LENGTH) {
                errors.add("metadata", "values must be at most " + MAX_METADATA_VALUE_LENGTH + " characters");
                return;
            }
            if (containsBadCharacters("metadata", key, errors) || containsBadCharacters("metadata", value, errors)) {
                return;
            }
        }
    }

    static void idempotencyKey(String key, Errors errors) {
        if (key == null) {
            return;
        }
        if (key.isBlank() || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH) {
            errors.add("idempotency_key", "must be 1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " characters");
        } else {
            containsBadCharacters("idempotency_key", key, errors);
        }
    }

    /** The optional reason of an approval decision. */
    static void approvalReason(String reason, Errors errors) {
        if (reason == null || containsBadCharacters("reason", reason, errors)) {
            return;
        }
        if (Texts.codePoints(reason) > ApprovalCommand.MAX_REASON) {
            errors.add("reason", "must be at most " + ApprovalCommand.MAX_REASON + " characters");
        }
    }

    private static boolean containsBadCharacters(String field, String text, Errors errors) {
        if (Texts.containsNul(text)) {
            errors.add(field, "must not contain U+0000");
            return true;
        }
        if (Texts.hasLoneSurrogate(text)) {
            errors.add(field, "must be valid Unicode (lone surrogate)");
            return true;
        }
        return false;
    }

    private static boolean isAcceptedImageUrl(String url) {
        if (url.length() > MAX_IMAGE_URL_LENGTH || Texts.containsNul(url) || Texts.hasLoneSurrogate(url)) {
            return false;
        }
        String lower = url.substring(0, Math.min(url.length(), 8)).toLowerCase(Locale.ROOT);
        if (lower.startsWith("data:")) {
            return url.length() > "data:".length();
        }
        if (!lower.startsWith("http://") && !lower.startsWith("https://")) {
            return false;
        }
        try {
            java.net.URI uri = new java.net.URI(url);
            return uri.getHost() != null && !uri.getHost().isEmpty();
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }
}
