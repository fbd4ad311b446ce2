package dev.parley.adapter.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseReaderTest {

    /** Hands out the bytes in the given pieces, one piece per read, like network reads. */
    private static InputStream pieces(byte[]... parts) {
        return new InputStream() {
            private int part;
            private int pos;

            @Override
            public int read() {
                byte[] b = new byte[1];
                return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                while (part < parts.length && pos == parts[part].length) {
                    part++;
                    pos = 0;
                }
                if (part == parts.length) {
                    return -1;
                }
                int n = Math.min(len, parts[part].length - pos);
                System.arraycopy(parts[part], pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    private static List<String> readAll(InputStream in) throws IOException {
        SseReader reader = new SseReader(in);
        List<String> events = new ArrayList<>();
        for (String d; (d = reader.nextData()) != null; ) {
            events.add(d);
        }
        return events;
    }

    private static byte[][] splitAt(byte[] bytes, int at) {
        return new byte[][] {Arrays.copyOfRange(bytes, 0, at), Arrays.copyOfRange(bytes, at, bytes.length)};
    }

    @Test
    void should_decode_characters_split_at_every_byte_boundary() throws IOException {
        // given
        String stream = "data: {\"content\":\"héllo 😀 世界\"}\n\ndata: [DONE]\n\n";
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);

        for (int at = 1; at < bytes.length; at++) {
            // when
            List<String> events = readAll(pieces(splitAt(bytes, at)));

            // then
            assertThat(events).as("split at byte %d", at).containsExactly("{\"content\":\"héllo 😀 世界\"}", "[DONE]");
        }
    }

    @Test
    void should_decode_a_stream_delivered_one_byte_per_read() throws IOException {
        // given
        byte[] bytes = "data: ünïcödé 🎉\n\n".getBytes(StandardCharsets.UTF_8);
        byte[][] single = new byte[bytes.length][];
        for (int i = 0; i < bytes.length; i++) {
            single[i] = new byte[] {bytes[i]};
        }

        // when
        List<String> events = readAll(pieces(single));

        // then
        assertThat(events).containsExactly("ünïcödé 🎉");
    }

    @Test
    void should_accept_lf_cr_and_crlf_line_ends_even_when_crlf_is_split() throws IOException {
        // given
        byte[] a = "data: one\r".getBytes(StandardCharsets.UTF_8);
        byte[] b = "\n\r\ndata: two\r\rdata: three\n\n".getBytes(StandardCharsets.UTF_8);

        // when
        List<String> events = readAll(pieces(a, b));

        // then
        assertThat(events).containsExactly("one", "two", "three");
    }

    @Test
    void should_join_multi_line_data_and_skip_comments_and_other_fields() throws IOException {
        // given
        String stream = ": ping\n\nevent: message\nid: 7\ndata:first\ndata: second\nretry: 10\n\n";

        // when
        List<String> events = readAll(new ByteArrayInputStream(stream.getBytes(StandardCharsets.UTF_8)));

        // then
        assertThat(events).containsExactly("first\nsecond");
    }

    @Test
    void should_drop_an_event_cut_off_by_the_end_of_the_stream() throws IOException {
        // given
        String stream = "data: complete\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"cut";

        // when
        List<String> events = readAll(new ByteArrayInputStream(stream.getBytes(StandardCharsets.UTF_8)));

        // then
        assertThat(events).containsExactly("complete");
    }

    @Test
    void should_replace_malformed_bytes_instead_of_failing() throws IOException {
        // given
        byte[] bytes = {'d', 'a', 't', 'a', ':', ' ', 'a', (byte) 0xC3, 'b', '\n', '\n'};

        // when
        List<String> events = readAll(new ByteArrayInputStream(bytes));

        // then
        assertThat(events).containsExactly("a\uFFFDb");
    }

    @Test
    void should_refuse_an_event_larger_than_the_limit() {
        // given
        String stream = "data: " + "x".repeat(2000) + "\n\n";
        SseReader reader = new SseReader(new ByteArrayInputStream(stream.getBytes(StandardCharsets.UTF_8)), 1000);

        // when / then
        assertThatThrownBy(reader::nextData).isInstanceOf(SseReader.EventTooLargeException.class);
    }

    @Test
    void should_read_a_stream_ending_inside_a_character_and_keep_the_events_before() throws IOException {
        // given a complete event, then an unterminated line ending in the first byte of a two-byte character
        byte[] bytes = {'d', 'a', 't', 'a', ':', ' ', 'o', 'k', '\n', '\n', 'd', 'a', 't', 'a', ':', 'x', (byte) 0xC3};

        // when
        List<String> events = readAll(new ByteArrayInputStream(bytes));

        // then
        assertThat(events).containsExactly("ok");
    }

    @Test
    void should_give_the_events_of_pushed_bytes_as_their_ends_arrive() throws IOException {
        // given
        SseReader reader = new SseReader();
        byte[] stream = "data: h\u00e9\n\ndata: one\ndata: two\r\n\r\ndata: open".getBytes(StandardCharsets.UTF_8);
        List<String> events = new ArrayList<>();

        // when the bytes come one at a time
        for (byte b : stream) {
            reader.push(java.nio.ByteBuffer.wrap(new byte[] {b}));
            for (String d; (d = reader.poll()) != null; ) {
                events.add(d);
            }
        }
        reader.finish();

        // then each event is there once its blank line came; the open one is dropped
        assertThat(events).containsExactly("h\u00e9", "one\ntwo");
        assertThat(reader.poll()).isNull();
    }
}
