package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.IdempotencyStore;
import dev.parley.chat.port.out.MessageStore;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunStore;
import dev.parley.chat.port.out.ThreadStore;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** A store that can be told to fail appending assistant messages, as a database going away would. */
final class FlakyStore implements ChatStore {
    private final ChatStore delegate;
    private volatile boolean failAssistantAppends;
    private final MessageStore messages;

    FlakyStore(ChatStore delegate) {
        this.delegate = delegate;
        this.messages = new MessageStore() {
            @Override
            public Message append(Message message) {
                if (failAssistantAppends && message.role() == Role.ASSISTANT) {
                    throw new StorageUnavailableException("connection refused", null);
                }
                return delegate.messages().append(message);
            }

            @Override
            public Optional<Message> find(MessageId id) {
                return delegate.messages().find(id);
            }

            @Override
            public Page<Message> page(ThreadId threadId, PageRequest page, SortOrder order) {
                return delegate.messages().page(threadId, page, order);
            }

            @Override
            public List<Message> latest(ThreadId threadId, int max) {
                return delegate.messages().latest(threadId, max);
            }

            @Override
            public long count(ThreadId threadId) {
                return delegate.messages().count(threadId);
            }

            @Override
            public Message appendTo(Message message, MessageId parentId) {
                return delegate.messages().appendTo(message, parentId);
            }

            @Override
            public Message appendAside(Message message, MessageId parentId) {
                return delegate.messages().appendAside(message, parentId);
            }

            @Override
            public Optional<MessageId> activeLeaf(ThreadId threadId) {
                return delegate.messages().activeLeaf(threadId);
            }

            @Override
            public void moveLeaf(ThreadId threadId, MessageId leafId) {
                delegate.messages().moveLeaf(threadId, leafId);
            }

            @Override
            public MessageId activate(MessageId messageId) {
                return delegate.messages().activate(messageId);
            }

            @Override
            public Page<Message> versions(MessageId messageId, PageRequest page) {
                return delegate.messages().versions(messageId, page);
            }

            @Override
            public Message updateMetadata(MessageId messageId, java.util.Map<String, String> metadata) {
                return delegate.messages().updateMetadata(messageId, metadata);
            }

            @Override
            public int delete(MessageId messageId) {
                return delegate.messages().delete(messageId);
            }
        };
    }

    void failAssistantAppends() {
        failAssistantAppends = true;
    }

    @Override
    public ThreadStore threads() {
        return delegate.threads();
    }

    @Override
    public MessageStore messages() {
        return messages;
    }

    @Override
    public RunStore runs() {
        return delegate.runs();
    }

    @Override
    public RunEventStore events() {
        return delegate.events();
    }

    @Override
    public IdempotencyStore idempotency() {
        return delegate.idempotency();
    }

    @Override
    public <T> T inTransaction(Supplier<T> work) {
        return delegate.inTransaction(work);
    }

    @Override
    public void ping() {
        delegate.ping();
    }
}
