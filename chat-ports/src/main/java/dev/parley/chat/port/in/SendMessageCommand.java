package dev.parley.chat.port.in;

import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.ThreadId;
import java.util.List;
import java.util.Map;

/**
 * Send a user message and run the agent. {@code threadId} null creates a new thread (for
 * {@code agentId}, or the default agent when that is null too). {@code idempotencyKey} may be null.
 * {@code variables} are the values of the agent's declared instruction variables for this run;
 * they win over the thread's metadata entries of the same name and over the defaults.
 * {@code instructions}, when not null, is appended to the agent's rendered instructions for this run
 * only (the run stores the instructions it sent, these included). {@code modelSettings} are this
 * run's own model settings: each one given overrides the agent's (the run stores the settings it
 * sends, so a queued start or a resume on any server sends them too). {@code continuedFrom} is the
 * client's own id of the earlier answer this send continues, kept with the run (see
 * {@link RunInstructions#continuedFrom()}), or null. {@code history} (none by default) is stored in
 * order as a new thread's first messages, before the sent one, in the send transaction: a client
 * that keeps its own history hands it over with its next message (a send to an existing thread takes
 * none). {@code approvalToolsWithheld}: the run does not offer the model the agent's tools that
 * require approval, for a client that cannot carry an approval (kept with the run, see
 * {@link RunInstructions#approvalToolsWithheld()}).
 */
public record SendMessageCommand(String userId, ThreadId threadId, String agentId, List<ContentPart> content,
                                 BusyPolicy ifBusy, String idempotencyKey, Map<String, String> metadata,
                                 Map<String, String> variables, String instructions, ModelSettings modelSettings,
                                 String continuedFrom, List<SeedMessage> history, boolean approvalToolsWithheld) {
    public SendMessageCommand {
        Require.notBlank(userId, "userId");
        content = List.copyOf(Require.notNull(content, "content"));
        ifBusy = ifBusy == null ? BusyPolicy.REJECT : ifBusy;
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        variables = variables == null ? Map.of() : Map.copyOf(variables);
        if (instructions != null && instructions.isBlank()) {
            instructions = null;
        }
        modelSettings = modelSettings == null ? ModelSettings.DEFAULT : modelSettings;
        Require.that(continuedFrom == null || (!continuedFrom.isBlank() && continuedFrom.length() <= RunInstructions.MAX_CONTINUED_FROM),
                "continuedFrom must be 1 to " + RunInstructions.MAX_CONTINUED_FROM + " characters");
        history = history == null ? List.of() : List.copyOf(history);
        Require.that(history.isEmpty() || threadId == null, "only a send that starts a new thread takes history");
    }

    /** A command without history, offering every tool of the agent. */
    public SendMessageCommand(String userId, ThreadId threadId, String agentId, List<ContentPart> content,
                              BusyPolicy ifBusy, String idempotencyKey, Map<String, String> metadata,
                              Map<String, String> variables, String instructions, ModelSettings modelSettings,
                              String continuedFrom) {
        this(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, instructions, modelSettings,
                continuedFrom, List.of(), false);
    }

    /** A command without model settings of its own, continuing nothing named. */
    public SendMessageCommand(String userId, ThreadId threadId, String agentId, List<ContentPart> content,
                              BusyPolicy ifBusy, String idempotencyKey, Map<String, String> metadata,
                              Map<String, String> variables, String instructions) {
        this(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, instructions, null, null);
    }

    /** A command without instructions of its own. */
    public SendMessageCommand(String userId, ThreadId threadId, String agentId, List<ContentPart> content,
                              BusyPolicy ifBusy, String idempotencyKey, Map<String, String> metadata,
                              Map<String, String> variables) {
        this(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, null);
    }

    /** A command without instruction variables. */
    public SendMessageCommand(String userId, ThreadId threadId, String agentId, List<ContentPart> content,
                              BusyPolicy ifBusy, String idempotencyKey, Map<String, String> metadata) {
        this(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, Map.of(), null);
    }

    /** A plain-text message that starts a new thread (of the default agent unless {@link #withAgent} names one). */
    public static SendMessageCommand newThread(String userId, String text) {
        return text(userId, null, text);
    }

    /** A plain-text message on an existing thread (or a new one when {@code threadId} is null). */
    public static SendMessageCommand text(String userId, ThreadId threadId, String text) {
        return new SendMessageCommand(userId, threadId, null, List.of(ContentPart.text(text)), BusyPolicy.REJECT, null, null);
    }

    public SendMessageCommand withBusyPolicy(BusyPolicy policy) {
        return new SendMessageCommand(userId, threadId, agentId, content, policy, idempotencyKey, metadata, variables, instructions,
                modelSettings, continuedFrom, history, approvalToolsWithheld);
    }

    public SendMessageCommand withIdempotencyKey(String key) {
        return new SendMessageCommand(userId, threadId, agentId, content, ifBusy, key, metadata, variables, instructions,
                modelSettings, continuedFrom, history, approvalToolsWithheld);
    }

    public SendMessageCommand withAgent(String agent) {
        return new SendMessageCommand(userId, threadId, agent, content, ifBusy, idempotencyKey, metadata, variables, instructions,
                modelSettings, continuedFrom, history, approvalToolsWithheld);
    }

    public SendMessageCommand withVariables(Map<String, String> values) {
        return new SendMessageCommand(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, values, instructions,
                modelSettings, continuedFrom, history, approvalToolsWithheld);
    }

    /** The command with {@code text} appended to the agent's instructions for this run. */
    public SendMessageCommand withInstructions(String text) {
        return new SendMessageCommand(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, text,
                modelSettings, continuedFrom, history, approvalToolsWithheld);
    }

    /** The command with {@code settings} as this run's own model settings (null: none). */
    public SendMessageCommand withModelSettings(ModelSettings settings) {
        return new SendMessageCommand(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, instructions,
                settings, continuedFrom, history, approvalToolsWithheld);
    }

    /** The command recording that it continues the answer its client calls {@code id} (null: none named). */
    public SendMessageCommand continuing(String id) {
        return new SendMessageCommand(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, instructions,
                modelSettings, id, history, approvalToolsWithheld);
    }

    /** The new thread's command with {@code messages} stored before the sent one (see {@code history}). */
    public SendMessageCommand withHistory(List<SeedMessage> messages) {
        return new SendMessageCommand(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, instructions,
                modelSettings, continuedFrom, messages, approvalToolsWithheld);
    }

    /** The command with the agent's tools that require approval withheld from its run. */
    public SendMessageCommand withoutApprovalTools() {
        return new SendMessageCommand(userId, threadId, agentId, content, ifBusy, idempotencyKey, metadata, variables, instructions,
                modelSettings, continuedFrom, history, true);
    }
}
