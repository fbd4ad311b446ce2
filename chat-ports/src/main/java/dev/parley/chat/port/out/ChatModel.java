package dev.parley.chat.port.out;

/**
 * A chat completion model. Implementations must be thread-safe (one instance serves every run). A model
 * that can wait without holding a thread implements {@link AsyncChatModel}.
 */
public interface ChatModel {

    /**
     * Runs one completion, streaming text deltas to {@code listener} as they arrive, and returns
     * the whole answer when the model is done. The concatenated {@code onToken} deltas must equal
     * {@link ModelResponse#text()}.
     *
     * <p>On {@code cancellation} the call must stop promptly (closing any network exchange so the
     * upstream stops generating) and throw {@link dev.parley.chat.model.RunCancelledException}.
     * Failures throw {@link dev.parley.chat.model.ModelException} with a stable code; text already
     * streamed stays with the caller.
     */
    ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation);

    /** The model name used when an agent names none. */
    default String defaultModel() {
        return "default";
    }
}
