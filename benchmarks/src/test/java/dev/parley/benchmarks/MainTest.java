package dev.parley.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MainTest {
    @Test
    void should_take_a_count_option_of_one_or_more() {
        assertThat(Main.atLeastOne("--cancels=3000")).isEqualTo(3000);
        assertThat(Main.atLeastOne("--cancel-lanes=1")).isEqualTo(1);
    }

    @Test
    void should_refuse_a_count_option_below_one_or_not_a_number_naming_it() {
        assertThatThrownBy(() -> Main.atLeastOne("--cancel-lanes=0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--cancel-lanes takes a whole number of 1 or more, not 0");
        assertThatThrownBy(() -> Main.atLeastOne("--idle-streams=-5")).hasMessageContaining("--idle-streams");
        assertThatThrownBy(() -> Main.atLeastOne("--cancels=many")).hasMessage("--cancels takes a whole number of 1 or more, not many");
    }
}
