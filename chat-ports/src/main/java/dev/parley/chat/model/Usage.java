package dev.parley.chat.model;

/**
 * Token counts. {@code estimated} is true when at least one part was estimated by Parley rather
 * than reported by the model.
 */
public record Usage(long inputTokens, long outputTokens, boolean estimated) {
    public static final Usage ZERO = new Usage(0, 0, false);

    public Usage {
        Require.notNegative(inputTokens, "inputTokens");
        Require.notNegative(outputTokens, "outputTokens");
    }

    public static Usage reported(long inputTokens, long outputTokens) {
        return new Usage(inputTokens, outputTokens, false);
    }

    public static Usage estimated(long inputTokens, long outputTokens) {
        return new Usage(inputTokens, outputTokens, true);
    }

    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    public Usage plus(Usage other) {
        return new Usage(inputTokens + other.inputTokens, outputTokens + other.outputTokens, estimated || other.estimated);
    }
}
