package dev.parley.chat.model;

/**
 * The request is valid but clashes with the current state. {@link #reason()} says how, and
 * {@link #code()} is the reason's stable wire code ({@link Reason#wireName()}); code that reacts
 * to a conflict branches on the reason, never on the code text.
 */
public class ConflictException extends ChatException {
    private static final long serialVersionUID = 1L;

    /** Why a request clashed with the state; each constant's {@link #wireName()} is its wire code. */
    public enum Reason implements WireEnum {
        /** {@code run_in_progress}: the thread already has an active run. */
        RUN_IN_PROGRESS("run_in_progress"),
        /** {@code no_active_run}: there is no run to cancel. */
        NO_ACTIVE_RUN("no_active_run"),
        /** {@code duplicate}: a unique key already exists in a store. */
        DUPLICATE("duplicate"),
        /** {@code run_ended}: a run's event log already ended, or the run left the status a change expected. */
        RUN_ENDED("run_ended"),
        /** {@code conflict}: the change breaks another rule of the store. */
        CONSTRAINT("conflict"),
        /** {@code agent_archived}: the agent is archived and starts no new threads. */
        AGENT_ARCHIVED("agent_archived"),
        /** {@code agent_version_conflict}: another update wrote the agent's next version first. */
        AGENT_VERSION_CONFLICT("agent_version_conflict"),
        /** {@code not_awaiting_approval}: the tool call was decided already, or its run waits for no decision. */
        NOT_AWAITING_APPROVAL("not_awaiting_approval");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        @Override
        public String wireName() {
            return code;
        }
    }

    private final Reason reason;

    public ConflictException(Reason reason, String message) {
        super(Require.notNull(reason, "reason").wireName(), message);
        this.reason = reason;
    }

    /** Why the request clashed; its wire code is {@link #code()}. */
    public Reason reason() {
        return reason;
    }

    public static ConflictException runInProgress(ThreadId threadId) {
        return new ConflictException(Reason.RUN_IN_PROGRESS, "Thread " + threadId + " already has an active run");
    }

    public static ConflictException noActiveRun(String what) {
        return new ConflictException(Reason.NO_ACTIVE_RUN, "No active run on " + what);
    }

    /** The tool call (or the run) waits for no decision. */
    public static ConflictException notAwaitingApproval(String what) {
        return new ConflictException(Reason.NOT_AWAITING_APPROVAL, what + " is not awaiting approval");
    }

    /** A record with the same key as {@code what} already exists. */
    public static ConflictException duplicate(String what) {
        return new ConflictException(Reason.DUPLICATE, what + " already exists");
    }

    /** The run {@code runId} was no longer {@code expected} when a change to it was to be stored. */
    public static ConflictException runNotIn(RunId runId, RunStatus expected) {
        return new ConflictException(Reason.RUN_ENDED, "Run " + runId + " is no longer " + expected.wireName());
    }

    /** The events of {@code runId} already ended with their terminal event. */
    public static ConflictException runEnded(RunId runId) {
        return new ConflictException(Reason.RUN_ENDED, "The events of run " + runId + " already ended");
    }
}
