package dev.parley.chat.port.out;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ToolException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ToolTest {
    private static final Schema CITY = Schema.object().string("city", "The city").integer("days", "Days").required("city");

    private static ToolContext call(String arguments) {
        return new ToolContext(arguments, "call_1", null, null, "alice", new Cancellation(), null);
    }

    @Test
    void should_make_a_tool_from_a_lambda_that_reads_typed_arguments() throws Exception {
        // given
        Tool weather = Tool.of("weather", "The forecast", CITY,
                ctx -> "Sunny in " + ctx.args().string("city") + " for " + ctx.args().optionalInteger("days").orElse(1) + " day(s)");

        // when
        String answer = weather.execute(call("{\"city\": \"Lisbon\", \"days\": 2}"));

        // then
        assertThat(answer).isEqualTo("Sunny in Lisbon for 2 day(s)");
        assertThat(weather.execute(call("{\"city\": \"Porto\"}"))).isEqualTo("Sunny in Porto for 1 day(s)");
        assertThat(weather.spec().name()).isEqualTo("weather");
        assertThat(weather.spec().description()).isEqualTo("The forecast");
        assertThat(weather.parametersSchema()).isEqualTo(CITY.toJson());
        assertThat(weather.timeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void should_answer_bad_arguments_with_a_tool_error_for_the_model() {
        // given
        Tool weather = Tool.of("weather", "The forecast", CITY, ctx -> "Sunny in " + ctx.args().string("city"));

        // then
        assertThatThrownBy(() -> weather.execute(call("{\"town\": \"Lisbon\"}")))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("\"city\"");
        assertThatThrownBy(() -> weather.execute(call("Lisbon")))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("JSON object");
    }

    @Test
    void should_refuse_a_bad_name_when_the_tool_is_made() {
        assertThatThrownBy(() -> Tool.of("the weather", "x", CITY, ctx -> ""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_take_a_schema_text_for_shapes_the_builder_does_not_cover() throws Exception {
        // given
        String schema = "{\"type\":\"object\",\"properties\":{\"ids\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}";

        // when
        Tool tool = Tool.of("lookup", "Looks ids up", schema, ctx -> ctx.args().json());

        // then
        assertThat(tool.parametersSchema()).isEqualTo(schema);
        assertThat(tool.execute(call("{\"ids\":[\"a\"]}"))).isEqualTo("{\"ids\":[\"a\"]}");
    }

    @Test
    void should_bound_a_tool_by_another_timeout() throws Exception {
        // given
        Tool tool = Tool.of("slow", "Slow", Schema.object(), ctx -> "done");

        // when
        Tool bounded = tool.withTimeout(Duration.ofSeconds(2));

        // then
        assertThat(bounded.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(bounded.spec()).isEqualTo(tool.spec());
        assertThat(bounded.execute(call("{}"))).isEqualTo("done");
        assertThatThrownBy(() -> tool.withTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
