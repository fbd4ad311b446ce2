package dev.parley.chat.port.in;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.RunSubscription;
import java.time.Duration;
import java.util.List;

/**
 * Everything a driving adapter (HTTP, WebSocket, plain Java) can ask of Parley. Every call names
 * the acting user; a thread of another user behaves exactly like a missing one
 * ({@link dev.parley.chat.model.NotFoundException}). All methods are thread-safe. Errors are
 * {@link dev.parley.chat.model.ChatException}s with stable codes.
 */
public interface ChatUseCases {

    ChatThread createThread(CreateThreadCommand command);

    /** The user's threads, most recently updated first; {@code agentId} null for all agents. */
    Page<ChatThread> listThreads(String userId, String agentId, PageRequest page);

    ChatThread getThread(String userId, ThreadId threadId);

    ChatThread updateThread(UpdateThreadCommand command);

    /** Soft delete (rows kept, hidden everywhere) or, with {@code hard}, removal of everything. */
    void deleteThread(String userId, ThreadId threadId, boolean hard);

    /** The thread's messages by position, oldest first for {@code ASC}. */
    Page<Message> listMessages(String userId, ThreadId threadId, PageRequest page, SortOrder order);

    /**
     * Stores the user message and a run in one transaction and starts the run in the background;
     * returns at once. The run goes on whatever happens to the caller.
     */
    SendReceipt send(SendMessageCommand command);

    /** Waits up to {@code timeout} for the run to end and returns it with its output. */
    RunOutcome await(String userId, RunId runId, Duration timeout) throws InterruptedException;

    /** Cancels the thread's in-progress run (or its oldest queued one). No active run: ConflictException {@code no_active_run}. */
    Run cancelActiveRun(String userId, ThreadId threadId);

    /** Cancels one run. Already ended: ConflictException {@code no_active_run}. */
    Run cancelRun(String userId, ThreadId threadId, RunId runId);

    /** The thread's runs, newest first. */
    Page<Run> listRuns(String userId, ThreadId threadId, PageRequest page);

    /** A run with its steps and assistant message. */
    RunOutcome getRun(String userId, ThreadId threadId, RunId runId);

    /**
     * Follows a run's events with {@code seq > afterSeq} (0 for all), live or replayed. With
     * {@link DisconnectPolicy#CANCEL}, closing the subscription before the terminal event cancels the run.
     */
    RunSubscription subscribe(String userId, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect);

    List<AgentInfo> agents();

    /** One agent; unknown: NotFoundException {@code agent_not_found}. */
    AgentInfo agent(String agentId);

    /** The id of the agent used when a request names none. */
    String defaultAgentId();

    /** Returns normally when the store is reachable; throws StorageUnavailableException otherwise. */
    void checkReady();
}
