package dev.parley.chat.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Model settings: an agent's, sent with every model call of its runs, and a send's own for its run
 * (they override the agent's one by one, {@link #overriddenBy}); each is null when the model's own
 * default applies. {@code temperature} 0-2, {@code maxOutputTokens} 1-1,000,000, {@code reasoningEffort}
 * one of {@link ReasoningEffort}. Out-of-range values are an {@link InvalidRequestException}
 * ({@code validation_failed}) naming {@code model_settings.<field>}.
 */
public record ModelSettings(Double temperature, Integer maxOutputTokens, ReasoningEffort reasoningEffort) {
    /** No settings: the model's defaults. */
    public static final ModelSettings DEFAULT = new ModelSettings(null, null, null);
    public static final int MAX_OUTPUT_TOKENS = 1_000_000;

    public ModelSettings {
        List<FieldError> errors = new ArrayList<>();
        if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
            errors.add(new FieldError("model_settings.temperature", "must be between 0 and 2"));
        }
        if (maxOutputTokens != null && (maxOutputTokens < 1 || maxOutputTokens > MAX_OUTPUT_TOKENS)) {
            errors.add(new FieldError("model_settings.max_output_tokens", "must be between 1 and 1000000"));
        }
        if (!errors.isEmpty()) {
            throw new InvalidRequestException(InvalidRequestException.Reason.VALIDATION_FAILED, "Invalid model settings", errors);
        }
    }

    /** These settings with each one {@code other} gives (not null) in place of this one's. */
    public ModelSettings overriddenBy(ModelSettings other) {
        if (other == null || other.isDefault()) {
            return this;
        }
        return new ModelSettings(other.temperature != null ? other.temperature : temperature,
                other.maxOutputTokens != null ? other.maxOutputTokens : maxOutputTokens,
                other.reasoningEffort != null ? other.reasoningEffort : reasoningEffort);
    }

    /** True when every setting is the model's default. */
    public boolean isDefault() {
        return temperature == null && maxOutputTokens == null && reasoningEffort == null;
    }
}
