package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ContentPart;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The message columns every history window reads, written and read back as the stores do. */
class JsonColumnsTest {

    @Test
    void should_read_back_metadata_with_its_order_and_every_character() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("b", "quote \" backslash \\ nul \u0000 and é 😀");
        metadata.put("a", "");
        metadata.put("{}", "[1, 2]");

        assertThat(Json.metadata(Json.metadata(metadata))).containsExactlyEntriesOf(metadata);
    }

    @Test
    void should_read_empty_metadata_as_a_map_the_caller_may_fill() {
        Map<String, String> read = Json.metadata(Json.metadata(Map.of()));

        assertThat(read).isEmpty();
        read.put("k", "v");
        assertThat(read).containsEntry("k", "v");
    }

    @Test
    void should_read_metadata_values_that_are_not_strings_as_their_text() {
        assertThat(Json.metadata("{\"n\": 12, \"t\": true, \"z\": null, \"o\": {\"x\": [1]}, \"s\": \"v\"}"))
                .containsExactly(Map.entry("n", "12"), Map.entry("t", "true"), Map.entry("z", "null"), Map.entry("o", ""),
                        Map.entry("s", "v"));
    }

    @Test
    void should_read_back_every_content_part_in_order() {
        List<ContentPart> parts = List.of(ContentPart.text("line one\nline \"two\" \u0000 é"),
                ContentPart.imageUrl("https://example.com/a.png?x=1&y=2"), ContentPart.text(""));

        assertThat(Json.content(Json.content(parts))).containsExactlyElementsOf(parts);
    }

    @Test
    void should_skip_fields_of_a_content_part_it_does_not_know() {
        assertThat(Json.content("[{\"extra\": {\"deep\": [1, {\"a\": 2}]}, \"type\": \"text\", \"text\": \"hi\", \"n\": 3}]"))
                .containsExactly(ContentPart.text("hi"));
    }

    @Test
    void should_refuse_a_content_part_of_an_unknown_type() {
        assertThatThrownBy(() -> Json.content("[{\"type\": \"audio\", \"data\": \"...\"}]"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("audio");
    }

    @Test
    void should_refuse_columns_that_are_not_the_json_it_writes() {
        assertThatThrownBy(() -> Json.content("{\"type\": \"text\"}")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Json.metadata("[]")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Json.content("[{\"type\": \"text\", \"text\": \"cut")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Json.content("[{\"type\": \"text\", \"text\": \"a\"}, \"b\"]")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Json.content("[{\"type\": \"text\", \"text\": \"a\"}")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Json.metadata("{\"a\": \"b\"")).isInstanceOf(IllegalStateException.class);
    }
}
