package dev.parley.chat.port.out;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class AgentTest {
    private static final Tool CLOCK = Tool.of("clock", "The time", Schema.object(), ctx -> "noon");
    private static final Tool ECHO = Tool.of("echo", "Echoes", Schema.object(), ctx -> ctx.arguments());

    @Test
    void should_build_the_same_agent_as_the_canonical_constructor() {
        // when
        Agent built = Agent.builder("support")
                .name("Order support")
                .description("Answers questions about orders.")
                .instructions("You help customers.")
                .model("gpt-4o-mini")
                .tools(CLOCK)
                .tools(List.of(ECHO))
                .limits(new AgentLimits(3, 20, 0))
                .build();

        // then
        assertThat(built).isEqualTo(new Agent("support", "Order support", "Answers questions about orders.",
                "You help customers.", "gpt-4o-mini", List.of(CLOCK, ECHO), new AgentLimits(3, 20, 0)));
    }

    @Test
    void should_default_everything_but_the_id() {
        // when
        Agent agent = Agent.builder("helper").build();

        // then
        assertThat(agent.name()).isEqualTo("helper");
        assertThat(agent.description()).isEmpty();
        assertThat(agent.systemPrompt()).isEmpty();
        assertThat(agent.model()).isNull();
        assertThat(agent.tools()).isEmpty();
        assertThat(agent.limits()).isEqualTo(AgentLimits.DEFAULT);
    }

    @Test
    void should_apply_the_records_checks() {
        assertThatThrownBy(() -> Agent.builder("not an id").build()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Agent.builder("a").tools(CLOCK, CLOCK).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate tool name clock");
    }
}
