package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class UsageAndPriceTest {

    @Test
    void should_price_cached_input_tokens_at_the_cached_price() {
        // given 1,000 input tokens of which 800 came from the cache
        ModelPrice price = ModelPrice.of("0.15", "0.60", "0.075");
        Usage usage = Usage.reported(1_000, 500).withCachedInputTokens(800);

        // then (200 * 0.15 + 800 * 0.075 + 500 * 0.60) / 1e6
        assertThat(price.cost(usage)).isEqualByComparingTo("0.00039");
    }

    @Test
    void should_price_cached_input_tokens_as_input_when_the_model_has_no_cached_price() {
        ModelPrice price = ModelPrice.of("2.50", "10.00");

        assertThat(price.cachedInputPerMillion()).isEqualByComparingTo("2.50");
        assertThat(price.cost(Usage.reported(1_000, 500).withCachedInputTokens(600)))
                .isEqualByComparingTo(price.cost(Usage.reported(1_000, 500)));
    }

    @Test
    void should_refuse_negative_prices() {
        assertThatThrownBy(() -> ModelPrice.of("1", "1", "-0.1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_refuse_more_cached_input_tokens_than_input_tokens() {
        assertThatThrownBy(() -> Usage.reported(10, 5).withCachedInputTokens(11))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cachedInputTokens");
    }

    @Test
    void should_add_cached_input_tokens_when_usages_are_added() {
        Usage first = Usage.reported(100, 10).withCachedInputTokens(40);
        Usage second = Usage.estimated(50, 5);

        Usage sum = first.plus(second);

        assertThat(sum).isEqualTo(new Usage(150, 40, 15, true));
        assertThat(sum.uncachedInputTokens()).isEqualTo(110);
    }

    @Test
    void should_count_cached_input_tokens_in_the_totals_of_runs() {
        UsageTotals one = UsageTotals.ofRun(Usage.reported(100, 10).withCachedInputTokens(30), new BigDecimal("0.5"));
        UsageTotals two = UsageTotals.ofRun(Usage.reported(20, 2), null);

        UsageTotals both = one.plus(two);

        assertThat(both.cachedInputTokens()).isEqualTo(30);
        assertThat(both.tokens()).isEqualTo(new Usage(120, 30, 12, false));
        assertThat(both).isEqualTo(new UsageTotals(2, 120, 30, 12, new BigDecimal("0.50"), 1));
    }
}
