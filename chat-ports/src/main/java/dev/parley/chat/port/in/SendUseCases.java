package dev.parley.chat.port.in;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;

/** Sending a message (which starts a run) and cancelling runs. Every call names the acting user. Thread-safe. */
public interface SendUseCases {
    /**
     * Stores the user message and a run in one transaction and starts the run in the background;
     * returns at once. The run goes on whatever happens to the caller.
     */
    SendReceipt send(SendMessageCommand command);

    /** Cancels the thread's in-progress run (or its oldest queued one). No active run: ConflictException {@code no_active_run}. */
    Run cancelActiveRun(String userId, ThreadId threadId);

    /** Cancels one run. Already ended: ConflictException {@code no_active_run}. */
    Run cancelRun(String userId, ThreadId threadId, RunId runId);
}
