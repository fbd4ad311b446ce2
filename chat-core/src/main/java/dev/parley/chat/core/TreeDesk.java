package dev.parley.chat.core;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The conversation tree: a message on any branch, its versions and metadata, edits and
 * regenerates (sends that place their run on a new branch, through the {@link Sender}; queued, the
 * branch becomes active when the run starts, see {@link QueuedStart}), switching branches and
 * deleting subtrees (under the thread's lock, refused while a run is active).
 */
final class TreeDesk {
    private static final Logger log = LoggerFactory.getLogger(TreeDesk.class);

    private final Engine engine;
    private final ThreadDesk threads;
    private final Sender sender;

    TreeDesk(Engine engine, ThreadDesk threads, Sender sender) {
        this.engine = engine;
        this.threads = threads;
        this.sender = sender;
    }

    Message get(String userId, ThreadId threadId, MessageId messageId) {
        threads.owned(userId, threadId);
        return onThread(threadId, messageId);
    }

    Message updateMetadata(String userId, ThreadId threadId, MessageId messageId, Map<String, String> metadata) {
        RequestValidator.Errors errors = new RequestValidator.Errors();
        RequestValidator.metadata(Require.notNull(metadata, "metadata"), errors);
        errors.throwIfAny();
        get(userId, threadId, messageId);
        return engine.store().messages().updateMetadata(messageId, metadata);
    }

    Page<Message> versions(String userId, ThreadId threadId, MessageId messageId, PageRequest page) {
        get(userId, threadId, messageId);
        return engine.store().messages().versions(messageId, page == null ? PageRequest.firstPage() : page);
    }

    SendReceipt edit(EditMessageCommand command) {
        Require.notNull(command, "command");
        threads.owned(command.userId(), command.threadId());
        SendMessageCommand send = command.asSend();
        return sender.send(send, new Sender.Placement() {
            @Override
            public Message place(ChatThread thread, Message fresh, boolean queued) {
                Message edited = onThread(thread.id(), command.messageId());
                if (edited.role() != Role.USER) {
                    throw notEditable("Only a user message can be edited; this one is a " + edited.role().wireName() + " message");
                }
                return queued ? engine.store().messages().appendAside(fresh, edited.parentId())
                        : engine.store().messages().appendTo(fresh, edited.parentId());
            }

            @Override
            public String kind() {
                return "|edit|" + command.messageId().value();
            }
        });
    }

    SendReceipt regenerate(RegenerateCommand command) {
        Require.notNull(command, "command");
        threads.owned(command.userId(), command.threadId());
        SendMessageCommand send = new SendMessageCommand(command.userId(), command.threadId(), null, List.of(), command.ifBusy(),
                command.idempotencyKey(), null, command.variables()).withModelSettings(command.modelSettings());
        return sender.send(send, new Sender.Placement() {
            @Override
            public Message place(ChatThread thread, Message fresh, boolean queued) {
                Message answer = onThread(thread.id(), command.messageId());
                if (answer.role() != Role.ASSISTANT) {
                    throw notEditable("Only an assistant message can be regenerated; this one is a " + answer.role().wireName()
                            + " message");
                }
                Message question = questionOf(answer);
                if (!queued) {
                    engine.store().messages().moveLeaf(thread.id(), question.id());
                }
                return question;
            }

            @Override
            public String kind() {
                return "|regenerate|" + command.messageId().value();
            }

            @Override
            public boolean hasContent() {
                return false;
            }
        });
    }

    ChatThread activate(String userId, ThreadId threadId, MessageId messageId) {
        ChatThread thread = threads.owned(userId, threadId);
        underLockWhenIdle(userId, threadId, () -> {
            onThread(threadId, messageId);
            return engine.store().messages().activate(messageId);
        });
        log.debug("thread {}: branch through {} activated", threadId, messageId);
        return thread;
    }

    void delete(String userId, ThreadId threadId, MessageId messageId) {
        threads.owned(userId, threadId);
        int removed = underLockWhenIdle(userId, threadId, () -> {
            onThread(threadId, messageId);
            return engine.store().messages().delete(messageId);
        });
        log.debug("thread {}: {} messages removed from {} down", threadId, removed, messageId);
    }

    /** {@code work} in a transaction holding the thread's lock, refused while the thread has an active run. */
    private <T> T underLockWhenIdle(String userId, ThreadId threadId, Supplier<T> work) {
        return engine.store().inTransaction(() -> {
            engine.store().threads().lock(threadId).filter(t -> t.isOwnedBy(userId))
                    .orElseThrow(() -> NotFoundException.thread(threadId));
            if (!engine.store().runs().active(threadId).isEmpty()) {
                throw ConflictException.runInProgress(threadId);
            }
            return work.get();
        });
    }

    /** The message of that thread; {@code message_not_found} otherwise. */
    private Message onThread(ThreadId threadId, MessageId messageId) {
        Require.notNull(messageId, "messageId");
        return engine.store().messages().find(messageId).filter(m -> m.threadId().equals(threadId))
                .orElseThrow(() -> NotFoundException.message(messageId));
    }

    /** The user message an assistant message answers: its run's, or the nearest user message above it. */
    private Message questionOf(Message answer) {
        if (answer.runId() != null) {
            Run run = engine.store().runs().find(answer.runId()).orElse(null);
            if (run != null) {
                Message question = engine.store().messages().find(run.userMessageId()).orElse(null);
                if (question != null) {
                    return question;
                }
            }
        }
        Message current = answer;
        while (current.parentId() != null) {
            current = onThread(answer.threadId(), current.parentId());
            if (current.role() == Role.USER) {
                return current;
            }
        }
        throw notEditable("No user message comes before this answer");
    }

    private static InvalidRequestException notEditable(String message) {
        return new InvalidRequestException(InvalidRequestException.Reason.NOT_EDITABLE, message,
                List.of(new FieldError("message_id", message)));
    }
}
