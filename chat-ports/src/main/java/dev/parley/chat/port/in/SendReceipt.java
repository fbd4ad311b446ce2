package dev.parley.chat.port.in;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;

/**
 * What a send stored before the model was called: the thread, the user message and the run (as
 * it was when this receipt was made), and what the run was given to run with (its instructions and
 * model settings; null when the store kept none). {@code replayed} is true when an idempotency key
 * matched an earlier send and nothing new was stored.
 */
public record SendReceipt(ChatThread thread, Message userMessage, Run run, boolean replayed, RunInstructions instructions) {

    /** A receipt that does not say what the run was given. */
    public SendReceipt(ChatThread thread, Message userMessage, Run run, boolean replayed) {
        this(thread, userMessage, run, replayed, null);
    }
}
