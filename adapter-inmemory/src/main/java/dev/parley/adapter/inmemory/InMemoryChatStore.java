package dev.parley.adapter.inmemory;

import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.out.AgentStore;
import java.util.TreeMap;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.IdempotencyRecord;
import dev.parley.chat.port.out.IdempotencyStore;
import dev.parley.chat.port.out.JobLeases;
import dev.parley.chat.port.out.UsageStore;
import dev.parley.chat.port.out.MessageStore;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.port.out.RunStore;
import dev.parley.chat.port.out.ThreadStore;
import java.util.ArrayDeque;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The reference {@link ChatStore}: plain maps guarded by one store-wide lock. Every store call
 * holds the lock for its duration; a transaction holds it from start to end, so transactions are
 * serializable and {@link ThreadStore#lock} needs no lock of its own. Changes made inside a
 * transaction are recorded in an undo log and reverted when the work throws, or when a store call
 * inside it failed (as {@link ChatStore#inTransaction} promises).
 *
 * <p>The run event log has a lock of its own, taken after the store lock when both are needed,
 * so that an event bus writing batches from its own thread never waits for a transaction (which
 * may itself be waiting for the bus).
 *
 * <p>Changes to runs and their event logs are hinted to the listeners of {@link #signals()} once
 * they are committed (right away outside a transaction, when the outermost transaction returns
 * inside one), on a thread of the store's own.
 */
final class InMemoryChatStore implements ChatStore {
    final ReentrantLock lock = new ReentrantLock();
    /** Whether the lock holder is inside a transaction. Guarded by {@link #lock}. */
    private boolean transacting;
    /** How to revert the changes of the transaction under way, newest first; reused. Guarded by {@link #lock}. */
    private final Deque<Runnable> undo = new ArrayDeque<>(64);
    /** The first store call that failed in the transaction under way; it rolls back. Guarded by {@link #lock}. */
    private RuntimeException failure;
    /** Hints of the transaction under way, sent when it commits. Guarded by {@link #lock}. */
    private final List<Runnable> pendingHints = new ArrayList<>();

    final Map<ThreadId, ChatThread> threads = new HashMap<>();
    final Map<ThreadId, List<Message>> messagesByThread = new HashMap<>();
    final Map<MessageId, Message> messagesById = new HashMap<>();
    /**
     * The messages under each parent of each thread (a null parent: the thread's first messages), in the
     * order they were made: a message's versions and its children without a walk of its whole thread.
     */
    final Map<Family, List<Message>> families = new HashMap<>();
    /** Each thread's active leaf; absent while its active path is empty. */
    final Map<ThreadId, MessageId> activeLeaves = new HashMap<>();
    final Map<RunId, Run> runs = new HashMap<>();
    /** Who executes each run in progress, and until when (runs started by {@link RunStore#start}). */
    final Map<RunId, Lease> leases = new HashMap<>();
    /** When each run requiring action must be decided by. */
    final Map<RunId, Instant> decideBy = new HashMap<>();
    final Map<ThreadId, List<RunId>> runsByThread = new HashMap<>();
    /** The queued and in-progress runs of each thread that has any (oldest first); kept by {@link #putRun}. */
    final Map<ThreadId, Set<RunId>> activeRunsByThread = new HashMap<>();
    /** The live threads in the order of {@link ThreadStore#list}; kept by {@link #putThread} and {@link #unlistThread}. */
    final ThreadListing listing = new ThreadListing(this);
    final Map<RunId, List<Step>> stepsByRun = new HashMap<>();
    final Map<StepId, Step> steps = new HashMap<>();
    /** Guarded by {@link #eventsLock}, not by {@link #lock}. */
    final Map<RunId, List<RunEvent>> events = new HashMap<>();
    final ReentrantLock eventsLock = new ReentrantLock();
    /** The runs whose logs the retention removed. Guarded by {@link #eventsLock}. */
    final Set<RunId> expiredLogs = new HashSet<>();
    final Map<IdempotencyKey, IdempotencyRecord> idempotency = new HashMap<>();
    /** Every version of each stored agent (index = version - 1), by id; the agent's status apart. */
    final TreeMap<String, List<StoredAgent>> agentVersions = new TreeMap<>();
    final Map<String, AgentStatus> agentStatus = new HashMap<>();
    /** What each run took from its agent. */
    final Map<RunId, RunInstructions> runInstructions = new HashMap<>();
    final Map<RunId, RunOrigin> runOrigins = new HashMap<>();

    private final InMemoryThreadStore threadStore = new InMemoryThreadStore(this);
    private final InMemoryMessageStore messageStore = new InMemoryMessageStore(this);
    private final InMemoryRunStore runStore = new InMemoryRunStore(this);
    private final InMemoryRunEventStore eventStore = new InMemoryRunEventStore(this);
    private final InMemoryIdempotencyStore idempotencyStore = new InMemoryIdempotencyStore(this);
    private final InMemoryAgentStore agentStore = new InMemoryAgentStore(this);
    private final InMemoryRunSignals signals = new InMemoryRunSignals();
    /** Thread totals and the usage ledger, kept as runs end. Guarded by {@link #lock}. */
    final InMemoryUsageStore ledger = new InMemoryUsageStore(this);
    /** Job leases by name. Guarded by {@link #lock}. */
    final Map<String, Lease> jobLeases = new HashMap<>();

    record IdempotencyKey(String ownerId, String scope, String key) {}

    record Lease(String owner, Instant expiresAt) {}

    /** The key of {@link #families}: a thread and a parent in it (null for its first messages). */
    record Family(ThreadId threadId, MessageId parentId) {
        static Family of(Message message) {
            return new Family(message.threadId(), message.parentId());
        }
    }

    @Override
    public ThreadStore threads() {
        return threadStore;
    }

    @Override
    public MessageStore messages() {
        return messageStore;
    }

    @Override
    public RunStore runs() {
        return runStore;
    }

    @Override
    public RunEventStore events() {
        return eventStore;
    }

    @Override
    public IdempotencyStore idempotency() {
        return idempotencyStore;
    }

    @Override
    public AgentStore agents() {
        return agentStore;
    }

    @Override
    public UsageStore usage() {
        return ledger;
    }

    @Override
    public JobLeases leases() {
        return new JobLeases() {
            @Override
            public boolean tryAcquire(String name, String holder, Instant now, Instant until) {
                return locked(() -> {
                    Lease held = jobLeases.get(name);
                    if (held != null && !held.owner().equals(holder) && held.expiresAt().isAfter(now)) {
                        return false;
                    }
                    put(jobLeases, name, new Lease(holder, until));
                    return true;
                });
            }

            @Override
            public void release(String name, String holder) {
                locked(() -> {
                    Lease held = jobLeases.get(name);
                    if (held != null && held.owner().equals(holder)) {
                        remove(jobLeases, name);
                    }
                });
            }
        };
    }

    @Override
    public RunSignals signals() {
        return signals;
    }

    /** Looks at the thread's active runs in the transaction, under the store's lock: a look-up, no copy. */
    @Override
    public Completion completeRunAndLook(Message answer, Step turnEnd, Run completed, RunStatus expected) {
        return inTransaction(() -> {
            Message stored = completeRun(answer, turnEnd, completed, expected);
            boolean queued = false;
            for (RunId id : activeRunsByThread.getOrDefault(completed.threadId(), Set.of())) {
                Run run = runs.get(id);
                queued |= run != null && run.status() == RunStatus.QUEUED;
            }
            return new Completion(stored, queued);
        });
    }

    @Override
    public <T> T inTransaction(Supplier<T> work) {
        List<Runnable> committed;
        T result;
        lock.lock();
        try {
            if (transacting) {
                // nested: join the outer transaction, which fails with anything that leaves here
                return withinTransaction(work);
            }
            transacting = true;
            undo.clear(); // empty unless a revert threw
            failure = null;
            try {
                result = work.get();
                if (failure != null) {
                    // the work caught a store call's failure and went on: the transaction cannot commit
                    throw failure;
                }
                transacting = false;
                undo.clear();
            } catch (Throwable thrown) {
                transacting = false; // the reverts below record nothing
                failure = null;
                pendingHints.clear();
                while (!undo.isEmpty()) {
                    undo.pop().run();
                }
                throw thrown;
            }
            committed = List.copyOf(pendingHints);
            pendingHints.clear();
        } finally {
            lock.unlock();
        }
        committed.forEach(Runnable::run);
        return result;
    }

    /**
     * Runs a store call: inside the calling thread's transaction it is refused once a call before it
     * failed, and its own failure fails the transaction (see {@link ChatStore#inTransaction}); outside
     * one it just runs. Any thread may call it.
     */
    <T> T withinTransaction(Supplier<T> call) {
        boolean inside = lock.isHeldByCurrentThread() && transacting;
        if (inside && failure != null) {
            throw new IllegalStateException("A store call failed earlier in this transaction: it can only roll back", failure);
        }
        try {
            return call.get();
        } catch (RuntimeException e) {
            if (inside && failure == null) {
                failure = e;
            }
            throw e;
        }
    }

    @Override
    public void ping() {
        // always reachable
    }

    /** Hints that the run's row changed: now, or when the calling thread's transaction commits. */
    void runChanged(RunId runId) {
        hint(() -> signals.runChanged(runId));
    }

    /** Hints that the run's event log grew: now, or when the calling thread's transaction commits. */
    void eventsStored(RunId runId) {
        hint(() -> signals.eventsStored(runId));
    }

    /** Never waits for the store lock: the event bus calls this from its own thread. */
    private void hint(Runnable send) {
        if (lock.isHeldByCurrentThread() && transacting) {
            pendingHints.add(send);
            return;
        }
        send.run();
    }

    /** Runs {@code action} under the store lock; inside a transaction, its failure fails the transaction. */
    <T> T locked(Supplier<T> action) {
        lock.lock();
        try {
            return withinTransaction(action);
        } finally {
            lock.unlock();
        }
    }

    void locked(Runnable action) {
        locked(() -> {
            action.run();
            return null;
        });
    }

    // --- mutations that can be undone (call with the lock held) ---

    /** Records how to revert a change when the calling thread is inside a transaction. */
    void recordUndo(Runnable revert) {
        if (lock.isHeldByCurrentThread() && transacting) {
            undo.push(revert);
        }
    }

    <K, V> void put(Map<K, V> map, K key, V value) {
        V previous = map.put(key, value);
        recordUndo(() -> {
            if (previous == null) {
                map.remove(key);
            } else {
                map.put(key, previous);
            }
        });
    }

    <K, V> V remove(Map<K, V> map, K key) {
        V previous = map.remove(key);
        if (previous != null) {
            recordUndo(() -> map.put(key, previous));
        }
        return previous;
    }

    <E> void add(List<E> list, int index, E element) {
        list.add(index, element);
        recordUndo(() -> list.remove(index));
    }

    <E> void add(List<E> list, E element) {
        add(list, list.size(), element);
    }

    <E> E removeAt(List<E> list, int index) {
        E previous = list.remove(index);
        recordUndo(() -> list.add(index, previous));
        return previous;
    }

    <E> void set(List<E> list, int index, E element) {
        E previous = list.set(index, element);
        recordUndo(() -> list.set(index, previous));
    }

    <E> void addTo(Set<E> set, E element) {
        if (set.add(element)) {
            recordUndo(() -> set.remove(element));
        }
    }

    <E> void removeFrom(Set<E> set, E element) {
        if (set.remove(element)) {
            recordUndo(() -> set.add(element));
        }
    }

    /** Stores a run (new or replacing its stored version) and keeps {@link #activeRunsByThread} in step. */
    void putRun(Run run) {
        Run previous = runs.get(run.id());
        put(runs, run.id(), run);
        boolean wasActive = previous != null && previous.status().isActive();
        if (run.status().isActive() && !wasActive) {
            Set<RunId> active = activeRunsByThread.get(run.threadId());
            if (active == null) {
                active = new LinkedHashSet<>();
                put(activeRunsByThread, run.threadId(), active);
            }
            addTo(active, run.id());
        } else if (!run.status().isActive() && wasActive) {
            Set<RunId> active = activeRunsByThread.get(run.threadId());
            removeFrom(active, run.id());
            if (active.isEmpty()) {
                remove(activeRunsByThread, run.threadId());
            }
        }
    }

    /** Stores a thread (new or replacing its stored version) and keeps the listing in step. */
    void putThread(ChatThread thread) {
        ChatThread previous = threads.get(thread.id());
        put(threads, thread.id(), thread);
        listing.replace(previous, thread);
    }

    /** Takes a stored thread version out of the listing (the thread map is left alone). */
    void unlistThread(ChatThread stored) {
        listing.unlist(stored);
    }

    /** The list under {@code key}, created (undoably) when absent. */
    <K, E> List<E> listFor(Map<K, List<E>> map, K key) {
        return listFor(map, key, 10);
    }

    /**
     * The list under {@code key}, created (undoably) with room for {@code capacity} elements when absent:
     * a message's family or a run's steps mostly stay at one, and the store keeps one for each.
     */
    <K, E> List<E> listFor(Map<K, List<E>> map, K key, int capacity) {
        List<E> list = map.get(key);
        if (list == null) {
            list = new ArrayList<>(capacity);
            put(map, key, list);
        }
        return list;
    }

    /** Removes a run's own rows (the run, its lease, decision time, instructions, events and steps); lock held. */
    void dropRun(RunId runId) {
        remove(runs, runId);
        remove(leases, runId);
        remove(decideBy, runId);
        remove(runInstructions, runId);
        remove(runOrigins, runId);
        dropEvents(runId);
        List<Step> removed = remove(stepsByRun, runId);
        if (removed != null) {
            for (Step s : removed) {
                remove(steps, s.id());
            }
        }
    }

    /** Removes the idempotency records that {@code which} selects; lock held. */
    void dropIdempotency(java.util.function.Predicate<IdempotencyRecord> which) {
        List<IdempotencyKey> keys = new ArrayList<>();
        for (Map.Entry<IdempotencyKey, IdempotencyRecord> e : idempotency.entrySet()) {
            if (which.test(e.getValue())) {
                keys.add(e.getKey());
            }
        }
        for (IdempotencyKey k : keys) {
            remove(idempotency, k);
        }
    }

    void dropEvents(RunId runId) {
        eventsLock.lock();
        try {
            List<RunEvent> previous = events.remove(runId);
            if (previous != null) {
                recordUndo(() -> {
                    eventsLock.lock();
                    try {
                        events.put(runId, previous);
                    } finally {
                        eventsLock.unlock();
                    }
                });
            }
        } finally {
            eventsLock.unlock();
        }
    }

    // --- shared checks (call with the lock held) ---

    boolean isLive(ThreadId id) {
        ChatThread t = threads.get(id);
        return t != null && !t.isDeleted();
    }

    static ConflictException duplicate(String what) {
        return ConflictException.duplicate(what);
    }
}
