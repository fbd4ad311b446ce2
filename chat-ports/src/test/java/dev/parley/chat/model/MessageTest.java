package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageTest {
    private static final MessageId ID = new MessageId("msg_1");
    private static final ThreadId THREAD = new ThreadId("thr_1");
    private static final RunId RUN = new RunId("run_1");
    private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");

    @Test
    void should_make_the_same_messages_as_the_canonical_constructor() {
        assertThat(Message.user(ID, THREAD, "Hi", NOW)).isEqualTo(new Message(ID, THREAD, null, 0, Role.USER,
                List.of(ContentPart.text("Hi")), MessageStatus.COMPLETED, List.of(), null, Map.of(), NOW));
        assertThat(Message.system(ID, THREAD, "Be brief", NOW)).isEqualTo(new Message(ID, THREAD, null, 0, Role.SYSTEM,
                List.of(ContentPart.text("Be brief")), MessageStatus.COMPLETED, null, null, null, NOW));
        assertThat(Message.toolResult(ID, THREAD, "call_1", "42", NOW)).isEqualTo(new Message(ID, THREAD, null, 0, Role.TOOL,
                List.of(ContentPart.text("42")), MessageStatus.COMPLETED, List.of(), "call_1", null, NOW));
    }

    @Test
    void should_change_one_component_at_a_time() {
        // given
        ToolCall call = new ToolCall("call_1", "clock", "{}");

        // when
        Message message = Message.assistant(ID, THREAD, "Let me look.", NOW).inRun(RUN).withToolCalls(call)
                .withStatus(MessageStatus.INCOMPLETE).withMetadata(Map.of("k", "v"));

        // then
        assertThat(message).isEqualTo(new Message(ID, THREAD, RUN, 0, Role.ASSISTANT, List.of(ContentPart.text("Let me look.")),
                MessageStatus.INCOMPLETE, List.of(call), null, Map.of("k", "v"), NOW));
    }

    @Test
    void should_keep_the_rules_of_the_record() {
        assertThatThrownBy(() -> Message.user(ID, THREAD, "Hi", NOW).withToolCalls(new ToolCall("c", "n", "{}")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Message.toolResult(ID, THREAD, " ", "42", NOW)).isInstanceOf(IllegalArgumentException.class);
    }
}
