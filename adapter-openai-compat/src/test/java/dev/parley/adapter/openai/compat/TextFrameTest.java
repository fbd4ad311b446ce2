package dev.parley.adapter.openai.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextFrameTest {
    private static final List<String> TEXTS = List.of("hello", "", " two words ", "a \"quote\" and a \\ backslash",
            "line\nbreak\ttab\r\u0001\u001f", "naïve — 日本語 🙂", "</script><b>&amp;", "\u2028\u2029");

    @Test
    void should_write_a_response_text_delta_as_jackson_writes_its_tree() {
        for (String text : TEXTS) {
            TextFrame frame = TextFrame.responseDelta(3, "msg_\"odd\"");
            ObjectNode tree = Wire.object().put("type", "response.output_text.delta").put("output_index", 3)
                    .put("item_id", "msg_\"odd\"").put("content_index", 0).put("delta", text);
            tree.set("logprobs", Wire.array());
            tree.put("sequence_number", 1234567L);

            assertThat(frame.json(text, 1234567L)).isEqualTo(Wire.write(tree));
        }
    }

    @Test
    void should_write_a_reasoning_summary_delta_as_jackson_writes_its_tree() {
        for (String text : TEXTS) {
            TextFrame frame = TextFrame.reasoningDelta(0, "rs_1");
            ObjectNode tree = Wire.object().put("type", "response.reasoning_summary_text.delta").put("output_index", 0)
                    .put("item_id", "rs_1").put("summary_index", 0).put("delta", text).put("sequence_number", 9L);

            assertThat(frame.type()).isEqualTo("response.reasoning_summary_text.delta");
            assertThat(frame.json(text, 9L)).isEqualTo(Wire.write(tree));
        }
    }

    @Test
    void should_write_a_chat_completion_chunk_as_jackson_writes_its_tree() {
        for (String text : TEXTS) {
            TextFrame frame = TextFrame.chatChunk("chatcmpl-1", 1_765_000_000L, "mödel \"x\"");
            ObjectNode tree = Wire.object().put("id", "chatcmpl-1").put("object", "chat.completion.chunk").put("created", 1_765_000_000L)
                    .put("model", "mödel \"x\"").putNull("system_fingerprint");
            ObjectNode choice = tree.putArray("choices").addObject();
            choice.put("index", 0);
            choice.putObject("delta").put("content", text);
            choice.putNull("logprobs");
            choice.putNull("finish_reason");

            assertThat(frame.json(text, 0)).isEqualTo(Wire.write(tree));
        }
    }

    @Test
    void should_number_the_first_event_and_frame_the_bytes_for_the_transport() {
        TextFrame frame = TextFrame.responseDelta(0, "msg_1");
        byte[] bytes = frame.bytes("event: e\ndata: ".getBytes(StandardCharsets.UTF_8), "é", 0, "\n\n".getBytes(StandardCharsets.UTF_8));

        assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("event: e\ndata: {\"type\":\"response.output_text.delta\","
                + "\"output_index\":0,\"item_id\":\"msg_1\",\"content_index\":0,\"delta\":\"é\",\"logprobs\":[],\"sequence_number\":0}\n\n");
    }
}
