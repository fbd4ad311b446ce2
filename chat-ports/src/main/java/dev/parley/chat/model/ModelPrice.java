package dev.parley.chat.model;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Price of a model in US dollars per million input and output tokens. */
public record ModelPrice(BigDecimal inputPerMillion, BigDecimal outputPerMillion) {
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    public ModelPrice {
        Require.notNull(inputPerMillion, "inputPerMillion");
        Require.notNull(outputPerMillion, "outputPerMillion");
        Require.that(inputPerMillion.signum() >= 0 && outputPerMillion.signum() >= 0, "prices must not be negative");
    }

    public static ModelPrice of(String inputPerMillion, String outputPerMillion) {
        return new ModelPrice(new BigDecimal(inputPerMillion), new BigDecimal(outputPerMillion));
    }

    /** Cost of {@code usage}, rounded half-up to 8 decimal places. */
    public BigDecimal cost(Usage usage) {
        return inputPerMillion.multiply(BigDecimal.valueOf(usage.inputTokens()))
                .add(outputPerMillion.multiply(BigDecimal.valueOf(usage.outputTokens())))
                .divide(MILLION, 8, RoundingMode.HALF_UP);
    }
}
