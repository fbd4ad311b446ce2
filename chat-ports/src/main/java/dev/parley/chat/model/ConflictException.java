package dev.parley.chat.model;

/**
 * The request is valid but clashes with the current state. Codes: {@code run_in_progress} (the
 * thread already has an active run), {@code no_active_run} (nothing to cancel), {@code duplicate}
 * (a unique key already exists in a store), {@code run_ended} (a run's event log already ended).
 */
public class ConflictException extends ChatException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String code, String message) {
        super(code, message);
    }

    public static ConflictException runInProgress(ThreadId threadId) {
        return new ConflictException("run_in_progress", "Thread " + threadId + " already has an active run");
    }

    public static ConflictException noActiveRun(String what) {
        return new ConflictException("no_active_run", "No active run on " + what);
    }
}
