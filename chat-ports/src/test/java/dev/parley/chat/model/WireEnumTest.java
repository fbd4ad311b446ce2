package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WireEnumTest {

    /** A constant with a body of its own is a subclass of the enum; its name is still the enum's. */
    enum Shape implements WireEnum {
        ROUND,
        SHARP_EDGED {
            @Override
            public String toString() {
                return "sharp";
            }
        }
    }

    /** An enum that names itself on the wire, with a name taken twice: the first constant keeps it. */
    enum Renamed implements WireEnum {
        OLD_NAME,
        NEW_NAME,
        ALIAS;

        @Override
        public String wireName() {
            return this == ALIAS ? "old-name" : name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    @Test
    void should_name_a_constant_by_its_lowercase_name() {
        assertThat(RunStatus.IN_PROGRESS.wireName()).isEqualTo("in_progress");
        assertThat(Shape.SHARP_EDGED.wireName()).isEqualTo("sharp_edged");
        assertThat(Shape.ROUND.wireName()).isSameAs(Shape.ROUND.wireName());
    }

    @Test
    void should_find_a_constant_by_its_wire_name_and_nothing_for_another_name() {
        assertThat(WireEnum.fromWire(RunStatus.class, "requires_action")).contains(RunStatus.REQUIRES_ACTION);
        assertThat(WireEnum.fromWire(Shape.class, "sharp_edged")).contains(Shape.SHARP_EDGED);
        assertThat(WireEnum.fromWire(RunStatus.class, "REQUIRES_ACTION")).isEmpty();
        assertThat(WireEnum.fromWire(RunStatus.class, "")).isEmpty();
        assertThat(WireEnum.fromWire(RunStatus.class, null)).isEmpty();
    }

    @Test
    void should_find_a_constant_by_the_name_its_enum_gives_it() {
        assertThat(WireEnum.fromWire(UsageGroup.class, "user")).contains(UsageGroup.USER);
        assertThat(WireEnum.fromWire(Renamed.class, "old-name")).contains(Renamed.OLD_NAME);
        assertThat(WireEnum.fromWire(Renamed.class, "old_name")).isEmpty();
        assertThat(WireEnum.fromWire(Renamed.class, "new-name")).contains(Renamed.NEW_NAME);
        assertThat(Renamed.ALIAS.wireName()).isEqualTo("old-name");
        assertThat(WireEnum.fromWire(Renamed.class, "alias")).isEmpty();
    }
}
