package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmbeddingExampleTest {

    @Test
    void should_run_the_conversation_with_the_custom_tool_and_print_it() throws Exception {
        // given
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // when
        EmbeddingExample.run(new PrintStream(bytes, true, StandardCharsets.UTF_8), Map.of());

        // then
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out)
                .contains("[calling order_status {\"order_id\":\"A-1001\"}]")
                .contains("Here is what I found: order A-1001 shipped on 2026-11-20 and arrives on 2026-11-24")
                .contains("second run: completed")
                .contains("--- conversation thr_")
                .contains("user: Where is my order A-1001?")
                .contains("tool: order B-2002 is being packed and ships tomorrow")
                .contains("assistant: Here is what I found: order B-2002 is being packed and ships tomorrow");
    }
}
