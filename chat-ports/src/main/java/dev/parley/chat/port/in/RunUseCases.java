package dev.parley.chat.port.in;

import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import java.time.Duration;

/** Reading runs: their pages, outcomes and event streams, and waiting for one to end. Thread-safe. */
public interface RunUseCases {
    /**
     * Waits up to {@code timeout} for the run to end, or to wait for approval of tool calls (status
     * {@code requires_action}), and returns it with its output.
     */
    RunOutcome await(String userId, RunId runId, Duration timeout) throws InterruptedException;

    /** The thread's runs, newest first. */
    Page<Run> listRuns(String userId, ThreadId threadId, PageRequest page);

    /** A run with its steps and assistant message. */
    RunOutcome getRun(String userId, ThreadId threadId, RunId runId);

    /**
     * Decides one tool call the run waits on (status {@code requires_action}) and returns the run as
     * it is after the decision: still waiting while other calls are undecided, else going on (on this
     * server). An unknown call is {@code tool_call_not_found}; a decided call or a run that waits for
     * nothing is a ConflictException {@code not_awaiting_approval}. Of two racing decisions of one
     * call, on any servers, exactly one is recorded.
     */
    RunOutcome decide(ApprovalCommand command);

    /**
     * Follows a run: pushes its events with {@code seq > afterSeq} (0 for all) to {@code sink}, replayed
     * from its log and then live, up to its terminal event, with the guarantees {@link RunEventSink}
     * states. The thread and run are checked before this returns (a failure is thrown, and the sink is
     * never called); the events come on delivery threads, so this never waits for them. With
     * {@link DisconnectPolicy#CANCEL}, an end before the terminal event (the subscription closed, or the
     * sink failed, as when its client went away) cancels the run.
     */
    Subscription subscribe(String userId, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect,
                           RunEventSink sink);

    /**
     * The pull form of {@link #subscribe(String, ThreadId, RunId, long, DisconnectPolicy, RunEventSink)}
     * ({@link RunStream#of}): the events are read with {@link RunStream#next}; with
     * {@link DisconnectPolicy#CANCEL}, closing the stream before the terminal event cancels the run.
     */
    default RunStream subscribe(String userId, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect) {
        return RunStream.of(sink -> subscribe(userId, threadId, runId, afterSeq, onDisconnect, sink));
    }
}
