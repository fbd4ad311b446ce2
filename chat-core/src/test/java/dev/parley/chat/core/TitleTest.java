package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.util.List;
import org.junit.jupiter.api.Test;

class TitleTest {

    private static String title(String text) {
        return Texts.title(text, 60);
    }

    private static int codePoints(String s) {
        return s.codePointCount(0, s.length());
    }

    @Test
    void should_keep_a_short_first_line_whole() {
        assertThat(title("What is the capital of France?")).isEqualTo("What is the capital of France?");
    }

    @Test
    void should_use_only_the_first_line() {
        assertThat(title("  Shopping list\nmilk\neggs")).isEqualTo("Shopping list");
        assertThat(title("\n\n  Second line first\r\nthird")).isEqualTo("Second line first");
    }

    @Test
    void should_cut_a_long_line_at_the_last_word_boundary_within_60_code_points() {
        // given 13 five-letter words: "aaaaa bbbbb ..." is 77 characters
        String text = "alpha bravo charl delta echoo foxtr golfy hotel india julie kilos limas mikes";

        // when
        String title = title(text);

        // then
        assertThat(title).isEqualTo("alpha bravo charl delta echoo foxtr golfy hotel india julie");
        assertThat(codePoints(title)).isLessThanOrEqualTo(60);
    }

    @Test
    void should_keep_a_word_that_ends_exactly_at_the_limit() {
        // given 60 code points followed by a space
        String sixty = "abcdefghi ".repeat(5) + "abcdefghij";
        assertThat(codePoints(sixty)).isEqualTo(60);

        // when / then
        assertThat(title(sixty + " more words")).isEqualTo(sixty);
    }

    @Test
    void should_cut_a_single_long_word_at_60_code_points() {
        String word = "x".repeat(100);
        assertThat(title(word)).isEqualTo("x".repeat(60));
    }

    @Test
    void should_count_emoji_as_one_code_point_and_never_split_a_surrogate_pair() {
        // given 61 emoji without spaces (each two UTF-16 chars)
        String emoji = "\uD83D\uDE00".repeat(61);

        // when
        String title = title(emoji);

        // then
        assertThat(codePoints(title)).isEqualTo(60);
        assertThat(title).isEqualTo("\uD83D\uDE00".repeat(60));
        assertThat(Texts.hasLoneSurrogate(title)).isFalse();
    }

    @Test
    void should_keep_short_emoji_text_whole() {
        String text = "\uD83C\uDF89 Party planning \uD83C\uDF82";
        assertThat(title(text)).isEqualTo(text);
    }

    @Test
    void should_add_no_ellipsis() {
        assertThat(title("word ".repeat(30))).doesNotContain("...", "\u2026").endsWith("word");
    }

    @Test
    void should_give_no_title_for_blank_text() {
        assertThat(title("   \n  ")).isNull();
        assertThat(title("")).isNull();
    }

    @Test
    void should_title_a_thread_from_its_first_user_message_only() {
        try (ChatHarness chat = ChatHarness.of(ScriptedChatModel.echo())) {
            // given
            SendReceipt first = chat.service.send(SendMessageCommand.text(ALICE, null, "Trip to Lisbon\nwith details"));
            chat.awaitEnd(first.run().id());

            // when
            chat.awaitEnd(chat.send(first.thread().id(), "Another topic entirely").run().id());

            // then
            assertThat(first.thread().title()).isEqualTo("Trip to Lisbon");
            assertThat(chat.service.getThread(ALICE, first.thread().id()).title()).isEqualTo("Trip to Lisbon");
        }
    }

    @Test
    void should_keep_a_title_the_client_set() {
        try (ChatHarness chat = ChatHarness.of(ScriptedChatModel.echo())) {
            // given
            ChatThread thread = chat.service.createThread(new CreateThreadCommand(ALICE, null, "My title", null));

            // when
            chat.awaitEnd(chat.send(thread.id(), "Something else").run().id());

            // then
            assertThat(chat.service.getThread(ALICE, thread.id()).title()).isEqualTo("My title");
        }
    }

    @Test
    void should_leave_the_title_empty_for_an_image_only_message() {
        try (ChatHarness chat = ChatHarness.of(ScriptedChatModel.replying("nice picture"))) {
            // given
            ChatThread thread = chat.newThread(ALICE);

            // when
            SendReceipt sent = chat.service.send(new SendMessageCommand(ALICE, thread.id(), null,
                    List.of(ContentPart.imageUrl("https://example.com/cat.png")), null, null, null));
            chat.awaitEnd(sent.run().id());

            // then
            assertThat(chat.service.getThread(ALICE, thread.id()).title()).isNull();
        }
    }
}
