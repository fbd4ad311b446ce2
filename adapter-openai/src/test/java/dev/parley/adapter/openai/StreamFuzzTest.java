package dev.parley.adapter.openai;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.port.out.ModelResponse;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes a model server streams back with status 200 are read into a response or a
 * {@link ModelException}: never another exception, and never a hang. The bytes arrive in small
 * pieces of a size the input chooses, so characters, lines and events split across reads too.
 * The streamed answer text always equals the response's text.
 *
 * <p>The first byte of an input chooses the piece size (1 to 64 bytes); the rest is the body. Runs
 * its seeds ({@code StreamFuzzTestInputs/<method>/}) in every build; fuzz for real with
 * {@code JAZZER_FUZZ=1 mvn -pl adapter-openai -am test -Dtest=StreamFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}
 * (the timeout then applies to each input).
 */
class StreamFuzzTest {
    private static final OpenAiChatModel MODEL = OpenAiChatModel.builder().baseUrl("http://127.0.0.1:9/v1").model("fuzz").build();

    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "2m")
    void should_read_any_stream_into_a_response_or_a_model_exception(byte[] input) {
        // given
        int piece = input.length == 0 ? 1 : 1 + (input[0] & 0x3F);
        byte[] body = input.length == 0 ? input : java.util.Arrays.copyOfRange(input, 1, input.length);
        RecordingListener listener = new RecordingListener();

        // when
        ModelResponse response;
        try {
            response = MODEL.readStreamedAnswer(new Pieces(body, piece), listener);
        } catch (ModelException e) {
            // then: a failure the run engine understands
            assertThat(e.code()).startsWith("model_");
            return;
        }

        // then
        assertThat(response.text()).isEqualTo(listener.text());
        assertThat(response.finishReason()).isNotBlank();
    }

    /** The body in pieces of at most {@code size} bytes per read. */
    private static final class Pieces extends InputStream {
        private final ByteArrayInputStream in;
        private final int size;

        Pieces(byte[] bytes, int size) {
            this.in = new ByteArrayInputStream(bytes);
            this.size = size;
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return in.read(b, off, Math.min(len, size));
        }
    }
}
