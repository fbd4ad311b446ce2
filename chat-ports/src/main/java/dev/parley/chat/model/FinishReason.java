package dev.parley.chat.model;

/**
 * Why a completed run's answer ended: {@code stop}, the model finished it; {@code length}, the model
 * stopped at the run's output token limit (or its context length), so the answer is cut short and
 * kept as an {@link MessageStatus#INCOMPLETE} message.
 */
public enum FinishReason implements WireEnum {
    STOP, LENGTH;

    /** The reason for a model's own finish reason ({@code length} and {@code max_tokens} are {@link #LENGTH}). */
    public static FinishReason ofModel(String reason) {
        return "length".equals(reason) || "max_tokens".equals(reason) ? LENGTH : STOP;
    }
}
