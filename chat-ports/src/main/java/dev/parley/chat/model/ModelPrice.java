package dev.parley.chat.model;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Price of a model in US dollars per million input, output and cached input tokens. Cached input
 * tokens (read from the model's prompt cache, a part of the input tokens) cost
 * {@code cachedInputPerMillion}; a price given without it charges them as other input tokens.
 */
public record ModelPrice(BigDecimal inputPerMillion, BigDecimal outputPerMillion, BigDecimal cachedInputPerMillion) {
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    public ModelPrice {
        Require.notNull(inputPerMillion, "inputPerMillion");
        Require.notNull(outputPerMillion, "outputPerMillion");
        cachedInputPerMillion = cachedInputPerMillion == null ? inputPerMillion : cachedInputPerMillion;
        Require.that(inputPerMillion.signum() >= 0 && outputPerMillion.signum() >= 0 && cachedInputPerMillion.signum() >= 0,
                "prices must not be negative");
    }

    /** A price that charges cached input tokens as other input tokens. */
    public ModelPrice(BigDecimal inputPerMillion, BigDecimal outputPerMillion) {
        this(inputPerMillion, outputPerMillion, null);
    }

    public static ModelPrice of(String inputPerMillion, String outputPerMillion) {
        return new ModelPrice(new BigDecimal(inputPerMillion), new BigDecimal(outputPerMillion));
    }

    public static ModelPrice of(String inputPerMillion, String outputPerMillion, String cachedInputPerMillion) {
        return new ModelPrice(new BigDecimal(inputPerMillion), new BigDecimal(outputPerMillion), new BigDecimal(cachedInputPerMillion));
    }

    /**
     * Cost of {@code usage}: its uncached input tokens at the input price, its cached input tokens at
     * the cached input price and its output tokens at the output price, rounded half-up to 8 decimal places.
     */
    public BigDecimal cost(Usage usage) {
        return inputPerMillion.multiply(BigDecimal.valueOf(usage.uncachedInputTokens()))
                .add(cachedInputPerMillion.multiply(BigDecimal.valueOf(usage.cachedInputTokens())))
                .add(outputPerMillion.multiply(BigDecimal.valueOf(usage.outputTokens())))
                .divide(MILLION, 8, RoundingMode.HALF_UP);
    }
}
