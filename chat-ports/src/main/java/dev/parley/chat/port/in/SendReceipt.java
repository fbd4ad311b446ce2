package dev.parley.chat.port.in;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;

/**
 * What a send stored before the model was called: the thread, the user message and the run (as
 * it was when this receipt was made). {@code replayed} is true when an idempotency key matched an
 * earlier send and nothing new was stored.
 */
public record SendReceipt(ChatThread thread, Message userMessage, Run run, boolean replayed) {
}
