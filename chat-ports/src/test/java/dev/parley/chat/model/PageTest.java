package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PageTest {

    @Test
    void should_carry_a_cursor_exactly_when_more_items_follow() {
        assertThatThrownBy(() -> new Page<>(List.of(1), true, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Page<>(List.of(1), false, "c")).isInstanceOf(IllegalArgumentException.class);
        assertThat(Page.last(List.of(1, 2)).map(i -> i * 10).items()).containsExactly(10, 20);
    }

    @Test
    void should_accept_limits_from_1_to_100_only() {
        assertThatThrownBy(() -> PageRequest.first(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageRequest.first(101)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new PageRequest(100, "").cursor()).isNull();
    }

    @Test
    void should_read_wire_names_of_enums() {
        assertThat(WireEnum.fromWire(RunStatus.class, "in_progress")).contains(RunStatus.IN_PROGRESS);
        assertThat(WireEnum.fromWire(BusyPolicy.class, "sometimes")).isEmpty();
        assertThat(StepType.MESSAGE_CREATION.wireName()).isEqualTo("message_creation");
    }
}
