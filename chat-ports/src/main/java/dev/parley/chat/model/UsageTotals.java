package dev.parley.chat.model;

import java.math.BigDecimal;

/**
 * What a set of ended runs used: how many there were, their tokens ({@code cachedInputTokens} a part
 * of {@code inputTokens}, see {@link Usage}), and the cost of those whose model had a price
 * ({@code unpricedRuns} had none).
 */
public record UsageTotals(long runs, long inputTokens, long cachedInputTokens, long outputTokens, BigDecimal pricedCostUsd,
                          long unpricedRuns) {
    public static final UsageTotals NONE = new UsageTotals(0, 0, 0, 0, BigDecimal.ZERO, 0);

    public UsageTotals {
        Require.notNegative(runs, "runs");
        Require.notNegative(inputTokens, "inputTokens");
        Require.notNegative(cachedInputTokens, "cachedInputTokens");
        Require.notNegative(outputTokens, "outputTokens");
        // one value, one representation: equal totals are equal records whatever scale a store keeps
        pricedCostUsd = pricedCostUsd == null || pricedCostUsd.signum() == 0 ? BigDecimal.ZERO : pricedCostUsd.stripTrailingZeros();
        Require.that(pricedCostUsd.signum() >= 0, "pricedCostUsd must not be negative");
        Require.notNegative(unpricedRuns, "unpricedRuns");
    }

    /** Totals without cached input tokens. */
    public UsageTotals(long runs, long inputTokens, long outputTokens, BigDecimal pricedCostUsd, long unpricedRuns) {
        this(runs, inputTokens, 0, outputTokens, pricedCostUsd, unpricedRuns);
    }

    /** One ended run: its usage and its cost (null when its model had no price). */
    public static UsageTotals ofRun(Usage usage, BigDecimal costUsd) {
        return new UsageTotals(1, usage.inputTokens(), usage.cachedInputTokens(), usage.outputTokens(),
                costUsd == null ? BigDecimal.ZERO : costUsd, costUsd == null ? 1 : 0);
    }

    /** The tokens as a {@link Usage} (reported). */
    public Usage tokens() {
        return new Usage(inputTokens, Math.min(cachedInputTokens, inputTokens), outputTokens, false);
    }

    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    /** The cost in US dollars; null only when there were runs and none of them had a price. */
    public BigDecimal costUsd() {
        return runs > 0 && unpricedRuns == runs ? null : pricedCostUsd;
    }

    public UsageTotals plus(UsageTotals other) {
        return new UsageTotals(runs + other.runs, inputTokens + other.inputTokens, cachedInputTokens + other.cachedInputTokens,
                outputTokens + other.outputTokens, pricedCostUsd.add(other.pricedCostUsd), unpricedRuns + other.unpricedRuns);
    }
}
