package dev.parley.chat.port.out;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ToolException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ToolArgumentsTest {

    @Test
    void should_read_each_type_of_argument() {
        // given
        ToolArguments args = ToolArguments.parse("""
                {"city": "Lisbon \\u00e9\\n\\"q\\"", "days": 3, "big": -9007199254740993, "exp": 5e3,
                 "ratio": 0.25, "metric": true, "nothing": null, "list": [1, {"a": []}], "nested": {"x": "y"}}""");

        // then
        assertThat(args.string("city")).isEqualTo("Lisbon é\n\"q\"");
        assertThat(args.integer("days")).isEqualTo(3);
        assertThat(args.integer("big")).isEqualTo(-9007199254740993L);
        assertThat(args.integer("exp")).isEqualTo(5000);
        assertThat(args.number("ratio")).isEqualTo(0.25);
        assertThat(args.number("days")).isEqualTo(3.0);
        assertThat(args.bool("metric")).isTrue();
        assertThat(args.names()).containsExactly("city", "days", "big", "exp", "ratio", "metric", "nothing", "list", "nested");
        assertThat(args.has("city")).isTrue();
        assertThat(args.has("nothing")).isFalse();
    }

    @Test
    void should_give_empty_for_a_missing_or_null_optional_argument() {
        // given
        ToolArguments args = ToolArguments.parse("{\"unit\": null}");

        // then
        assertThat(args.optionalString("unit")).isEmpty();
        assertThat(args.optionalString("other")).isEmpty();
        assertThat(args.optionalInteger("days")).isEmpty();
        assertThat(args.optionalNumber("ratio")).isEmpty();
        assertThat(args.optionalBool("metric")).isEmpty();
        assertThat(ToolArguments.parse("{\"days\": 2}").optionalInteger("days")).hasValue(2);
    }

    @Test
    void should_tell_the_model_which_argument_is_missing() {
        ToolArguments args = ToolArguments.parse("{\"town\": \"Lisbon\"}");

        assertThatThrownBy(() -> args.string("city"))
                .isInstanceOf(ToolException.class)
                .hasMessage("The argument \"city\" is required: a string.");
        assertThatThrownBy(() -> args.integer("days")).isInstanceOf(ToolException.class).hasMessageContaining("\"days\"");
        assertThatThrownBy(() -> args.number("ratio")).isInstanceOf(ToolException.class).hasMessageContaining("\"ratio\"");
        assertThatThrownBy(() -> args.bool("metric")).isInstanceOf(ToolException.class).hasMessageContaining("\"metric\"");
        assertThatThrownBy(() -> ToolArguments.parse("{\"city\": null}").string("city")).isInstanceOf(ToolException.class);
    }

    @Test
    void should_tell_the_model_when_an_argument_has_the_wrong_type() {
        ToolArguments args = ToolArguments.parse(
                "{\"city\": 42, \"days\": \"3\", \"half\": 2.5, \"huge\": 1e400, \"wide\": 99999999999999999999, \"flag\": \"yes\"}");

        assertThatThrownBy(() -> args.string("city")).isInstanceOf(ToolException.class)
                .hasMessage("The argument \"city\" must be a string.");
        assertThatThrownBy(() -> args.optionalString("city")).isInstanceOf(ToolException.class);
        assertThatThrownBy(() -> args.integer("days")).isInstanceOf(ToolException.class)
                .hasMessage("The argument \"days\" must be an integer.");
        assertThatThrownBy(() -> args.integer("half")).isInstanceOf(ToolException.class);
        assertThatThrownBy(() -> args.integer("huge")).isInstanceOf(ToolException.class);
        assertThatThrownBy(() -> args.integer("wide")).isInstanceOf(ToolException.class);
        assertThatThrownBy(() -> args.number("huge")).isInstanceOf(ToolException.class);
        assertThatThrownBy(() -> args.number("days")).isInstanceOf(ToolException.class);
        assertThatThrownBy(() -> args.bool("flag")).isInstanceOf(ToolException.class);
    }

    @Test
    void should_read_blank_arguments_as_an_empty_object() {
        assertThat(ToolArguments.parse("  ").names()).isEmpty();
        assertThat(ToolArguments.parse("{}").names()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"not json", "[1, 2]", "\"text\"", "42", "{\"a\": 1,}", "{\"a\" 1}", "{'a': 1}", "{\"a\": 1} x",
            "{\"a\": tru}", "{\"a\": \"open", "{\"a\": 01}", "{\"a\": 1.}", "{\"a\": \"\\x\"}", "{\"a\": \"\\u12\"}", "{"})
    void should_refuse_anything_but_a_json_object_with_a_message_for_the_model(String arguments) {
        assertThatThrownBy(() -> ToolArguments.parse(arguments))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("JSON object");
    }

    @Test
    void should_refuse_absurd_nesting_and_numbers_without_overflowing_or_stalling() {
        String deep = "{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}";
        String longNumber = "{\"a\":1" + "0".repeat(100_000) + "}";

        assertThatThrownBy(() -> ToolArguments.parse(deep)).isInstanceOf(ToolException.class).hasMessageContaining("nested");
        assertThatThrownBy(() -> ToolArguments.parse(longNumber)).isInstanceOf(ToolException.class)
                .hasMessageContaining("longer than");
    }

    @Test
    void should_keep_the_text_as_the_model_wrote_it() {
        String json = "{ \"b\": 1, \"a\": [true] }";

        assertThat(ToolArguments.parse(json).json()).isEqualTo(json);
    }

    @Test
    void should_keep_raw_control_characters_inside_strings() {
        assertThat(ToolArguments.parse("{\"text\": \"two\nlines\"}").string("text")).isEqualTo("two\nlines");
    }
}
