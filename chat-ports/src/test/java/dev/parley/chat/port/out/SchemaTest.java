package dev.parley.chat.port.out;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SchemaTest {

    @Test
    void should_write_the_properties_in_order_with_their_types_and_descriptions() {
        // when
        Schema schema = Schema.object()
                .string("city", "The city, e.g. \"Lisbon\"")
                .integer("days", "How many days")
                .number("ratio", null)
                .bool("metric", "")
                .choice("unit", "Temperature unit", "celsius", "fahrenheit")
                .required("city", "unit");

        // then
        assertThat(schema.toJson()).isEqualTo("{\"type\":\"object\",\"properties\":{"
                + "\"city\":{\"type\":\"string\",\"description\":\"The city, e.g. \\\"Lisbon\\\"\"},"
                + "\"days\":{\"type\":\"integer\",\"description\":\"How many days\"},"
                + "\"ratio\":{\"type\":\"number\"},"
                + "\"metric\":{\"type\":\"boolean\"},"
                + "\"unit\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"],\"description\":\"Temperature unit\"}},"
                + "\"required\":[\"city\",\"unit\"],\"additionalProperties\":false}");
    }

    @Test
    void should_describe_a_tool_without_arguments() {
        assertThat(Schema.object().toJson()).isEqualTo("{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}");
    }

    @Test
    void should_leave_a_schema_unchanged_when_extending_it() {
        // given
        Schema base = Schema.object().string("city", "The city");

        // when
        Schema extended = base.integer("days", "Days").required("city");

        // then
        assertThat(base.toJson()).doesNotContain("days").doesNotContain("required");
        assertThat(extended.toJson()).contains("\"days\"", "\"required\":[\"city\"]");
    }

    @Test
    void should_refuse_a_property_twice_and_a_required_name_that_is_no_property() {
        assertThatThrownBy(() -> Schema.object().string("city", "a").integer("city", "b"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Schema.object().string("city", "a").required("town"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("town");
    }

    @Test
    void should_be_read_back_by_the_argument_reader() {
        // the schema is valid JSON: the tools' own reader parses it
        assertThat(ToolArguments.parse(Schema.object().string("q\n", "tab\there").required("q\n").toJson()).names())
                .containsExactly("type", "properties", "required", "additionalProperties");
    }
}
