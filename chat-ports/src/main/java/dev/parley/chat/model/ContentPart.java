package dev.parley.chat.model;

/** One part of a message's content. */
public sealed interface ContentPart permits ContentPart.Text, ContentPart.ImageUrl {

    /** The wire name of the part type: {@code text} or {@code image_url}. */
    String type();

    static Text text(String text) {
        return new Text(text);
    }

    static ImageUrl imageUrl(String url) {
        return new ImageUrl(url);
    }

    /** Plain text (may be empty only for an assistant message that produced no text). */
    record Text(String text) implements ContentPart {
        public Text {
            Require.notNull(text, "text");
        }

        @Override
        public String type() {
            return "text";
        }
    }

    /** A reference to an image: an {@code http(s)} URL or a {@code data:} URL. */
    record ImageUrl(String url) implements ContentPart {
        public ImageUrl {
            Require.notBlank(url, "url");
        }

        @Override
        public String type() {
            return "image_url";
        }
    }
}
