package dev.parley.chat.port.out;

/**
 * Receives a model's deltas as they arrive: on the thread that called the model, or, for
 * {@link AsyncChatModel#completeAsync}, on the model's threads, one call at a time.
 */
public interface ModelStreamListener {

    /** A delta of answer text. */
    void onToken(String delta);

    /** A delta of reasoning text (for models that expose it); never part of the answer. */
    default void onThinking(String delta) {
    }

    /** A listener that ignores everything. */
    static ModelStreamListener ignoring() {
        return delta -> { };
    }
}
