package dev.parley.chat.core;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SeedMessage;
import dev.parley.chat.port.in.UpdateThreadCommand;
import dev.parley.chat.port.out.Agent;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Threads and their messages: create, read, rename, delete, and the ownership checks every
 * thread-scoped call makes (another user's thread is as missing as a deleted one).
 */
final class ThreadDesk {
    private static final Logger log = LoggerFactory.getLogger(ThreadDesk.class);
    private final Engine engine;
    private final AgentRegistry agents;
    private final Canceller canceller;
    private final RequestValidator validator;

    ThreadDesk(Engine engine, AgentRegistry agents, Canceller canceller, RequestValidator validator) {
        this.engine = engine;
        this.agents = agents;
        this.canceller = canceller;
        this.validator = validator;
    }

    ChatThread create(CreateThreadCommand command) {
        Require.notNull(command, "command");
        RequestValidator.Errors errors = new RequestValidator.Errors();
        RequestValidator.title(command.title(), errors);
        RequestValidator.metadata(command.metadata(), errors);
        validator.seeds(command.messages(), "messages", errors);
        errors.throwIfAny();
        Agent agent = agents.requireActive(command.agentId() != null ? command.agentId() : agents.defaultAgentId(), false).agent();
        if (command.agentVersion() != null) {
            agents.requireVersion(agent.id(), command.agentVersion());
        }
        Instant now = engine.now();
        ChatThread created = ChatThread.create(ThreadId.next(engine.ids()), command.userId(), agent.id(), blankToNull(command.title()),
                command.metadata(), now).withAgentVersion(command.agentVersion());
        if (command.messages().isEmpty()) {
            engine.store().threads().insert(created);
            log.debug("thread {} created for agent {}", created.id(), agent.id());
            return created;
        }
        ChatThread thread = engine.store().inTransaction(() -> {
            engine.store().threads().insert(created);
            String firstQuestion = appendSeeds(engine, created.id(), command.messages(), now);
            // a thread without a title takes one from its first user message, as a send's does
            String title = created.title() != null || firstQuestion == null ? null
                    : Texts.title(firstQuestion, ChatService.TITLE_CODE_POINTS);
            ChatThread seeded = title == null ? created.touched(now) : created.touched(now).withTitle(title, now);
            engine.store().threads().update(seeded);
            return seeded;
        });
        log.debug("thread {} created for agent {} with {} messages", thread.id(), agent.id(), command.messages().size());
        return thread;
    }

    /**
     * Appends {@code seeds} to the new thread {@code thread} in order, in the caller's transaction;
     * returns the text of the first user message among them, or null.
     */
    static String appendSeeds(Engine engine, ThreadId thread, List<SeedMessage> seeds, Instant now) {
        String firstQuestion = null;
        for (SeedMessage seed : seeds) {
            MessageId id = MessageId.next(engine.ids());
            Message message = seed.role() == Role.USER
                    ? Message.user(id, thread, seed.content(), now)
                    : Message.assistant(id, thread, text(seed.content()), now);
            engine.store().messages().append(message);
            if (firstQuestion == null && seed.role() == Role.USER) {
                firstQuestion = message.text();
            }
        }
        return firstQuestion;
    }

    /** The text parts of {@code content}, joined (a seeded answer is text only). */
    private static String text(List<ContentPart> content) {
        StringBuilder text = new StringBuilder();
        for (ContentPart part : content) {
            if (part instanceof ContentPart.Text t) {
                text.append(t.text());
            }
        }
        return text.toString();
    }

    Page<ChatThread> list(String userId, String agentId, PageRequest page) {
        Require.notBlank(userId, "userId");
        return engine.store().threads().list(userId, agentId, page == null ? PageRequest.firstPage() : page);
    }

    ChatThread update(UpdateThreadCommand command) {
        Require.notNull(command, "command");
        RequestValidator.Errors errors = new RequestValidator.Errors();
        command.title().ifPresent(t -> RequestValidator.title(t, errors));
        command.metadata().ifPresent(m -> RequestValidator.metadata(m, errors));
        errors.throwIfAny();
        ChatThread thread = owned(command.userId(), command.threadId());
        if (command.title().isEmpty() && command.metadata().isEmpty()) {
            return thread;
        }
        Instant now = engine.now();
        ChatThread updated = thread.touched(now);
        if (command.title().isPresent()) {
            updated = updated.withTitle(blankToNull(command.title().get()), now);
        }
        if (command.metadata().isPresent()) {
            updated = updated.withMetadata(command.metadata().get(), now);
        }
        if (!engine.store().threads().update(updated)) {
            throw NotFoundException.thread(command.threadId());
        }
        return updated;
    }

    /**
     * Cancels the thread's runs, then deletes it under the thread's lock, which a send takes too: no
     * run starts between the check and the delete.
     */
    void delete(String userId, ThreadId threadId, boolean hard) {
        if (hard && inTrash(userId, threadId).isPresent()) {
            // nothing runs on a thread in the trash: its runs were stopped when it was deleted
            if (!engine.store().threads().hardDelete(threadId)) {
                throw NotFoundException.thread(threadId);
            }
            log.debug("thread {} removed from the trash", threadId);
            return;
        }
        owned(userId, threadId);
        for (int attempt = 1; ; attempt++) {
            canceller.stopActiveRuns(threadId);
            Boolean deleted = engine.store().inTransaction(() -> {
                if (engine.store().threads().lock(threadId).filter(t -> t.isOwnedBy(userId)).isEmpty()) {
                    return false;
                }
                if (!engine.store().runs().active(threadId).isEmpty()) {
                    return null;
                }
                return hard ? engine.store().threads().hardDelete(threadId)
                        : engine.store().threads().softDelete(threadId, engine.now());
            });
            if (deleted == null) {
                // a send started a run after the runs were stopped: stop that one too
                if (attempt >= ChatService.STATE_ATTEMPTS) {
                    throw ConflictException.runInProgress(threadId);
                }
                continue;
            }
            if (!deleted) {
                throw NotFoundException.thread(threadId);
            }
            log.debug("thread {} deleted ({})", threadId, hard ? "hard" : "soft");
            return;
        }
    }

    Page<Message> messages(String userId, ThreadId threadId, PageRequest page, SortOrder order) {
        owned(userId, threadId);
        return engine.store().messages().page(threadId, page == null ? PageRequest.firstPage() : page,
                order == null ? SortOrder.ASC : order);
    }

    Page<ChatThread> listDeleted(String userId, PageRequest page) {
        Require.notBlank(userId, "userId");
        return engine.store().threads().listDeleted(userId, page == null ? PageRequest.firstPage() : page);
    }

    ChatThread restore(String userId, ThreadId threadId) {
        ChatThread deleted = inTrash(userId, threadId).orElseThrow(() -> NotFoundException.thread(threadId));
        if (!engine.store().threads().restore(threadId)) {
            throw NotFoundException.thread(threadId);
        }
        log.debug("thread {} restored", threadId);
        return engine.store().threads().find(threadId).orElse(deleted.restored());
    }

    /** The user's thread in the trash, or empty. */
    private Optional<ChatThread> inTrash(String userId, ThreadId threadId) {
        Require.notBlank(userId, "userId");
        Require.notNull(threadId, "threadId");
        return engine.store().threads().findDeleted(threadId).filter(t -> t.isOwnedBy(userId));
    }

    /** The user's thread; {@code thread_not_found} when it is missing, deleted or another user's. */
    ChatThread owned(String userId, ThreadId threadId) {
        Require.notBlank(userId, "userId");
        Require.notNull(threadId, "threadId");
        return engine.store().threads().find(threadId).filter(t -> t.isOwnedBy(userId))
                .orElseThrow(() -> NotFoundException.thread(threadId));
    }

    /** The run of that thread; {@code run_not_found} otherwise. */
    Run runOn(ThreadId threadId, RunId runId) {
        Require.notNull(runId, "runId");
        return engine.store().runs().find(runId).filter(r -> r.threadId().equals(threadId))
                .orElseThrow(() -> NotFoundException.run(runId));
    }

    static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }
}
