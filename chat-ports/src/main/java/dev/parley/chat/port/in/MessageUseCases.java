package dev.parley.chat.port.in;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ThreadId;
import java.util.Map;

/**
 * The conversation tree of a thread: a message on any branch, its versions, editing a question,
 * regenerating an answer, switching branches and deleting a subtree. A message id that is not a
 * message of that thread of that user is {@code message_not_found} (another user's thread is
 * {@code thread_not_found}, as everywhere).
 */
public interface MessageUseCases {

    /** The message, on any branch of the thread. */
    Message getMessage(String userId, ThreadId threadId, MessageId messageId);

    /** Replaces the message's metadata (its content never changes in place) and returns it. */
    Message updateMessage(String userId, ThreadId threadId, MessageId messageId, Map<String, String> metadata);

    /** The message and its siblings of the same role, oldest first. */
    Page<Message> listVersions(String userId, ThreadId threadId, MessageId messageId, PageRequest page);

    /**
     * Stores the command's text as a new version of a user message (a sibling with the same
     * parent), makes it the active leaf and runs the agent on it, with the send rules (validation,
     * busy policy, idempotency). Another role is {@code not_editable}.
     */
    SendReceipt edit(EditMessageCommand command);

    /**
     * Runs the agent again on the user message that an assistant message answered: the new run's
     * messages go on a new branch below that user message, beside the earlier answer's. Another role
     * is {@code not_editable}. The receipt's user message is that (existing) user message.
     */
    SendReceipt regenerate(RegenerateCommand command);

    /**
     * Makes the branch through the message active (below it, the most recently created child at
     * each level) and returns the thread. {@code run_in_progress} while the thread has an active run.
     */
    ChatThread activateMessage(String userId, ThreadId threadId, MessageId messageId);

    /**
     * Removes the message and everything below it on every branch; when the active path ran
     * through it, its parent becomes the active leaf. {@code run_in_progress} while the thread has
     * an active run.
     */
    void deleteMessage(String userId, ThreadId threadId, MessageId messageId);
}
