package dev.parley.adapter.openai;

import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;

/** {@link StreamingDialectsTest}, every call made with {@link OpenAiChatModel#completeAsync}. */
class AsyncStreamingDialectsTest extends StreamingDialectsTest {
    @Override
    ModelResponse complete(ChatModel model, ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        return AsyncCalls.await(model, request, listener, cancellation);
    }
}
