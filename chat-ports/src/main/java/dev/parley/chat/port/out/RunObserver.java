package dev.parley.chat.port.out;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.Usage;
import java.time.Duration;

/**
 * Learns what the runs executing on this server do, for metrics and tracing. Every method has an
 * empty default, so an observer implements only what it needs; {@link #NONE} ignores everything.
 *
 * <p>Callbacks come on the thread that executes the run (or the one that cancels it), in the run's
 * order, and may come from many runs at once: implementations must be thread-safe and fast, and
 * must not block or call back into the chat service. An exception thrown by a callback is logged
 * and otherwise ignored; it never changes the run.
 */
public interface RunObserver {

    /** An observer that ignores everything. */
    RunObserver NONE = new RunObserver() { };

    /** The run began executing here ({@code queued -> in_progress}). */
    default void runStarted(RunId runId, String agentId) {
    }

    /** The run's first answer token, {@code sinceStart} after it began executing. */
    default void firstToken(RunId runId, String agentId, Duration sinceStart) {
    }

    /** A tool call step of the run ended ({@code completed}, {@code failed} or {@code cancelled}) after {@code latency}. */
    default void toolCallEnded(RunId runId, String agentId, String toolName, StepStatus status, Duration latency) {
    }

    /**
     * The run ended. {@code agentId} is null and {@code duration} zero for a run that never began
     * executing here (a queued run that was cancelled); {@code errorCode} is set for a failed run
     * only; {@code usage} is the run's token usage when it completed, {@link Usage#ZERO} otherwise.
     */
    default void runEnded(RunId runId, String agentId, RunStatus status, String errorCode, Duration duration,
                          Usage usage) {
    }

    /**
     * This server stored the end of {@code ended} (whichever way it ended, also a run of a stopped
     * server it ended): its model, usage and cost as the store's ledger counted them, once per run.
     */
    default void runCharged(Run ended) {
    }

    /**
     * This server ended {@code ended}, a run of another server that stopped, as {@code interrupted}
     * (or as its log already ended): {@code cause} is {@code liveness} when that server was seen gone
     * ({@link ServerLiveness}), {@code lease} when the run's lease expired. Called after
     * {@link #runCharged}, once per run.
     */
    default void runReaped(Run ended, String cause) {
    }
}
