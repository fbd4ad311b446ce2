package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.MessageStore;
import java.time.Instant;
import java.util.Optional;

/**
 * A queued run taking its place in its thread's tree as it starts. A send whose run could not start
 * at once changed no branch: a queued edit's new text waits beside the message it edits, off the
 * active path, and a queued regenerate names the question it answers again, while the runs before
 * it go on writing to the active path. When the run starts, it makes its own branch active:
 * <ul>
 *   <li>a regenerate (its user message is an earlier one, which started another run or none): the
 *       question becomes the active leaf, so that the new answer forks below it;</li>
 *   <li>any other run whose user message is not the active leaf: the branch through that message
 *       (its most recent message at each level below), so that a queued edit answers below its new
 *       text, and a message queued before an edit took the active path elsewhere is answered on the
 *       branch it was asked on.</li>
 * </ul>
 * This happens in the transaction that starts the run, so that whoever sees it in progress sees its
 * branch active. A run started by its send took its place in the send transaction and does not come here.
 */
final class QueuedStart {
    private QueuedStart() {}

    /**
     * Starts the queued {@code run} in the store (see {@link dev.parley.chat.port.out.RunStore#start}),
     * in one transaction with making its branch active when it has one to make active; false when
     * another party started or ended it first.
     */
    static boolean start(ChatStore store, Run run, String instanceId, Instant leaseExpiresAt) {
        if (!changesBranch(store.messages(), run)) {
            return store.runs().start(run, instanceId, leaseExpiresAt);
        }
        return store.inTransaction(() -> {
            boolean taken = store.runs().start(run, instanceId, leaseExpiresAt);
            if (taken) {
                takePlace(store.messages(), run);
            }
            return taken;
        });
    }

    /**
     * True when {@code run} has a branch to make active as it starts: its user message is not the
     * active leaf. Read before the start; {@link #takePlace} decides again in it.
     */
    static boolean changesBranch(MessageStore messages, Run run) {
        return !isLeaf(messages, run.threadId(), run.userMessageId());
    }

    /** In the transaction that starts {@code run}. */
    static void takePlace(MessageStore messages, Run run) {
        if (!changesBranch(messages, run)) {
            return; // where the run answers already
        }
        Message userMessage = messages.find(run.userMessageId()).orElse(null);
        if (userMessage == null) {
            return; // gone with its thread to the trash
        }
        if (regenerates(run, userMessage)) {
            messages.moveLeaf(run.threadId(), userMessage.id());
        } else {
            messages.activate(userMessage.id());
        }
    }

    private static boolean isLeaf(MessageStore messages, ThreadId threadId, MessageId messageId) {
        Optional<MessageId> leaf = messages.activeLeaf(threadId);
        return leaf.isPresent() && leaf.get().equals(messageId);
    }

    /**
     * True for a run that answers again a user message sent before it: every send that stores a
     * user message names its run on it, a regenerate stores none.
     */
    static boolean regenerates(Run run, Message userMessage) {
        return !run.id().equals(userMessage.runId());
    }
}
