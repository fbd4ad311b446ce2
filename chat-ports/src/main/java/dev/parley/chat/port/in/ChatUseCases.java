package dev.parley.chat.port.in;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Everything a driving adapter (HTTP, WebSocket, plain Java) can ask of Parley: the sum of the use
 * cases by concern ({@link ThreadUseCases}, {@link MessageUseCases}, {@link SendUseCases}, {@link RunUseCases},
 * {@link AgentUseCases}, {@link UsageUseCases}) and the readiness check. Every call names
 * the acting user; a thread of another user behaves exactly like a missing one
 * ({@link dev.parley.chat.model.NotFoundException}). All methods are thread-safe. Errors are
 * {@link dev.parley.chat.model.ChatException}s with stable codes.
 */
public interface ChatUseCases extends ThreadUseCases, SendUseCases, RunUseCases, AgentUseCases, UsageUseCases, MessageUseCases {
    /**
     * Sends, then waits up to {@code timeout} for the run the send started, for a caller that waits
     * anyway (a synchronous chat): {@link #send} then {@link #await} of the receipt's run, as one call.
     * The service may execute the run on the calling thread meanwhile instead of handing it to a run
     * thread and waiting for that thread: Parley's own does, for a run the send starts on a thread with
     * nothing in progress, up to the run's first model turn that asks for tools (the tools and the turns
     * after them go on on a run thread, while the caller waits as {@code await} does). Such a first turn
     * is not cut short at {@code timeout}: a model call under way then finishes first (it is bounded by
     * the model timeout), and an interrupt of the calling thread meanwhile may end the run. A run that
     * queues behind another is waited for as {@code await} does.
     */
    default AwaitedSend sendAndAwait(SendMessageCommand command, Duration timeout) throws InterruptedException {
        return sendAndAwait(command, timeout, receipt -> { });
    }

    /**
     * {@link #sendAndAwait(SendMessageCommand, Duration)}, telling {@code sent} the send's receipt as soon as
     * the message and its run are stored, before the run executes or is waited for: a caller whose wait then
     * fails (the store went away) can still name the run, as after {@link #send}.
     */
    default AwaitedSend sendAndAwait(SendMessageCommand command, Duration timeout, Consumer<SendReceipt> sent)
            throws InterruptedException {
        SendReceipt receipt = send(command);
        sent.accept(receipt);
        return new AwaitedSend(receipt, await(command.userId(), receipt.run().id(), timeout));
    }

    /** Returns normally when the store is reachable; throws StorageUnavailableException otherwise. */
    void checkReady();

    /** What this server executes and what waits (for metrics); {@link ServerLoad#UNKNOWN} unless the implementation reports it. */
    default ServerLoad load() {
        return ServerLoad.UNKNOWN;
    }
}
