package dev.parley.chat.model;

/**
 * Token counts. {@code cachedInputTokens} are the part of {@code inputTokens} the model read from its
 * prompt cache (as OpenAI reports them in {@code prompt_tokens_details.cached_tokens}); they are
 * included in {@code inputTokens}, never more than it, and priced apart ({@link ModelPrice}).
 * {@code estimated} is true when at least one part was estimated by Parley rather than reported by
 * the model (an estimate has no cached tokens).
 */
public record Usage(long inputTokens, long cachedInputTokens, long outputTokens, boolean estimated) {
    public static final Usage ZERO = new Usage(0, 0, false);

    public Usage {
        Require.notNegative(inputTokens, "inputTokens");
        Require.notNegative(cachedInputTokens, "cachedInputTokens");
        Require.notNegative(outputTokens, "outputTokens");
        Require.that(cachedInputTokens <= inputTokens, "cachedInputTokens must not exceed inputTokens");
    }

    /** Counts without cached input tokens. */
    public Usage(long inputTokens, long outputTokens, boolean estimated) {
        this(inputTokens, 0, outputTokens, estimated);
    }

    public static Usage reported(long inputTokens, long outputTokens) {
        return new Usage(inputTokens, outputTokens, false);
    }

    public static Usage estimated(long inputTokens, long outputTokens) {
        return new Usage(inputTokens, outputTokens, true);
    }

    /** These counts with {@code cached} of the input tokens read from the prompt cache (at most {@link #inputTokens}). */
    public Usage withCachedInputTokens(long cached) {
        return new Usage(inputTokens, cached, outputTokens, estimated);
    }

    /** The input tokens that were not read from the prompt cache. */
    public long uncachedInputTokens() {
        return inputTokens - cachedInputTokens;
    }

    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    public Usage plus(Usage other) {
        return new Usage(inputTokens + other.inputTokens, cachedInputTokens + other.cachedInputTokens,
                outputTokens + other.outputTokens, estimated || other.estimated);
    }
}
