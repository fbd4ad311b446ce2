package dev.parley.chat.model;

/**
 * The thing asked for does not exist, was deleted, or belongs to someone else (the three are
 * indistinguishable on purpose). Codes: {@code thread_not_found}, {@code run_not_found},
 * {@code agent_not_found}, {@code message_not_found}, {@code tool_call_not_found}, {@code not_found}.
 */
public class NotFoundException extends ChatException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(String code, String message) {
        super(code, message);
    }

    public static NotFoundException thread(ThreadId id) {
        return new NotFoundException("thread_not_found", "No thread " + id);
    }

    public static NotFoundException run(RunId id) {
        return new NotFoundException("run_not_found", "No run " + id);
    }

    public static NotFoundException toolCall(String id) {
        return new NotFoundException("tool_call_not_found", "No tool call " + Ids.abbreviate(id) + " in this run");
    }

    public static NotFoundException message(MessageId id) {
        return new NotFoundException("message_not_found", "No message " + id);
    }

    public static NotFoundException agent(String id) {
        return new NotFoundException("agent_not_found", "No agent " + id);
    }
}
