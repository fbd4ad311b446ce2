package dev.parley.chat.model;

/** Thrown by a model or tool that stopped because its run was cancelled. Code {@code cancelled}. */
public class RunCancelledException extends ChatException {
    private static final long serialVersionUID = 1L;

    public RunCancelledException() {
        super("cancelled", "The run was cancelled");
    }
}
