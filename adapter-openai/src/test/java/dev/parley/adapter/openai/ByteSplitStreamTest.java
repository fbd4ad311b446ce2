package dev.parley.adapter.openai;

import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ChatModel;
import static dev.parley.adapter.openai.Conversations.ask;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The whole client over a server that cuts its stream in awkward places. */
class ByteSplitStreamTest {

    /** One call of {@code model}: here {@link ChatModel#complete}; the asynchronous twin of this test makes it with {@code completeAsync}. */
    ModelResponse complete(ChatModel model, ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        return model.complete(request, listener, cancellation);
    }

    @Test
    void should_survive_a_utf8_character_and_a_json_line_split_across_http_chunks() throws Exception {
        // given
        String events = "data: " + Transcripts.textDelta("Grüße ") + "\n\n"
                + "data: " + Transcripts.textDelta("🌍 ok") + "\n\n"
                + "data: " + Transcripts.finish("stop") + "\n\ndata: [DONE]\n\n";
        byte[] bytes = events.getBytes(StandardCharsets.UTF_8);
        int insideUmlaut = indexOf(bytes, "ü".getBytes(StandardCharsets.UTF_8)) + 1;
        int insideEmoji = indexOf(bytes, "🌍".getBytes(StandardCharsets.UTF_8)) + 2;
        int insideJson = indexOf(bytes, "finish_reason\":\"stop".getBytes(StandardCharsets.UTF_8)) + 3;
        try (RawHttpServer raw = new RawHttpServer()) {
            raw.then(c -> {
                c.sseHead();
                c.chunk(Arrays.copyOfRange(bytes, 0, insideUmlaut));
                c.chunk(Arrays.copyOfRange(bytes, insideUmlaut, insideEmoji));
                c.chunk(Arrays.copyOfRange(bytes, insideEmoji, insideJson));
                for (int i = insideJson; i < bytes.length; i++) {
                    c.chunk(new byte[] {bytes[i]});
                }
                c.endChunks();
            });
            RecordingListener listener = new RecordingListener();
            OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(raw.baseUrl()).model("m").build();

            // when
            ModelResponse response = complete(model, ask("Hi"), listener, new Cancellation());

            // then
            assertThat(listener.tokens).containsExactly("Grüße ", "🌍 ok");
            assertThat(response.text()).isEqualTo("Grüße 🌍 ok");
            assertThat(response.finishReason()).isEqualTo("stop");
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }
}
