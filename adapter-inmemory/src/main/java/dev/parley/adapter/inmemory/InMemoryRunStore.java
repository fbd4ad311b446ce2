package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.RunStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Runs and steps of an {@link InMemoryChatStore}. */
final class InMemoryRunStore implements RunStore {
    private static final String CURSOR_KIND = "run";
    private static final Comparator<Run> OLDEST_FIRST = Comparator.comparing(Run::createdAt).thenComparing(Run::id);
    private static final Comparator<Run> NEWEST_FIRST = OLDEST_FIRST.reversed();

    private final InMemoryChatStore db;

    InMemoryRunStore(InMemoryChatStore db) {
        this.db = db;
    }

    @Override
    public void insert(Run run) {
        db.locked(() -> {
            if (!db.threads.containsKey(run.threadId())) {
                throw NotFoundException.thread(run.threadId());
            }
            if (db.runs.containsKey(run.id())) {
                throw InMemoryChatStore.duplicate("run " + run.id());
            }
            if (run.status().holdsThread() && anotherInProgress(run)) {
                throw ConflictException.runInProgress(run.threadId());
            }
            db.putRun(run);
            db.add(db.listFor(db.runsByThread, run.threadId()), run.id());
        });
    }

    @Override
    public void insertStarted(Run started, String owner, Instant leaseExpiresAt) {
        Require.that(started.status() == RunStatus.IN_PROGRESS, "insertStarted stores a run in progress");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        db.locked(() -> {
            insert(started);
            db.put(db.leases, started.id(), new InMemoryChatStore.Lease(owner, leaseExpiresAt));
        });
    }

    @Override
    public Optional<Run> find(RunId id) {
        return db.locked(() -> Optional.ofNullable(db.runs.get(id)).filter(r -> db.isLive(r.threadId())));
    }

    @Override
    public boolean update(Run run, RunStatus expected) {
        Require.notNull(expected, "expected");
        return changed(run, db.locked(() -> replace(run, expected)));
    }

    /** Replaces the stored run if its status is {@code expected}; lock held. */
    private boolean replace(Run run, RunStatus expected) {
        Run stored = db.runs.get(run.id());
        if (stored == null || stored.status() != expected) {
            return false;
        }
        Require.that(stored.threadId().equals(run.threadId()), "a run never moves to another thread");
        if (run.status().holdsThread() && anotherInProgress(run)) {
            throw ConflictException.runInProgress(run.threadId());
        }
        // like a database row, the recorded agent version is not the caller's to change
        db.putRun(stored.agentVersion() == null || run.agentVersion() != null ? run : run.withAgentVersion(stored.agentVersion()));
        if (run.isTerminal()) {
            db.ledger.record(run);
        }
        return true;
    }

    /** Hints a replacement that ended the run (see {@link dev.parley.chat.port.out.RunSignals#onRunChanged}). */
    private boolean changed(Run run, boolean replaced) {
        if (replaced && run.isTerminal()) {
            db.runChanged(run.id());
        }
        return replaced;
    }

    @Override
    public boolean start(Run started, String owner, Instant leaseExpiresAt) {
        Require.that(started.status() == RunStatus.IN_PROGRESS, "start moves a run to in_progress");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        return changed(started, db.locked(() -> {
            if (!replace(started, RunStatus.QUEUED)) {
                return false;
            }
            db.put(db.leases, started.id(), new InMemoryChatStore.Lease(owner, leaseExpiresAt));
            return true;
        }));
    }

    @Override
    public Optional<Instant> leaseExpiresAt(RunId id) {
        Require.notNull(id, "id");
        return db.locked(() -> {
            InMemoryChatStore.Lease lease = db.runs.containsKey(id) ? db.leases.get(id) : null;
            return Optional.ofNullable(lease == null ? null : lease.expiresAt());
        });
    }

    @Override
    public boolean renewLease(RunId id, String owner, Instant leaseExpiresAt) {
        Require.notNull(id, "id");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        return db.locked(() -> {
            Run stored = db.runs.get(id);
            InMemoryChatStore.Lease lease = db.leases.get(id);
            if (stored == null || stored.status() != RunStatus.IN_PROGRESS || lease == null || !lease.owner().equals(owner)) {
                return false;
            }
            db.put(db.leases, id, new InMemoryChatStore.Lease(owner, leaseExpiresAt));
            return true;
        });
    }

    @Override
    public List<Run> expiredLeases(Instant now, int max) {
        Require.notNull(now, "now");
        Require.that(max >= 0, "max must not be negative");
        List<Expired> found = db.locked(() -> {
            List<Expired> out = new ArrayList<>();
            for (Run r : db.runs.values()) {
                if (r.status() != RunStatus.IN_PROGRESS || !db.isLive(r.threadId())) {
                    continue;
                }
                InMemoryChatStore.Lease lease = db.leases.get(r.id());
                if (lease == null || !lease.expiresAt().isAfter(now)) {
                    out.add(new Expired(r, lease == null ? null : lease.expiresAt()));
                }
            }
            return out;
        });
        found.sort(SOONEST_EXPIRED);
        return found.stream().limit(max).map(Expired::run).toList();
    }

    private record Expired(Run run, Instant expiresAt) {}

    private static final Comparator<Expired> SOONEST_EXPIRED = Comparator
            .comparing(Expired::expiresAt, Comparator.nullsFirst(Comparator.<Instant>naturalOrder()))
            .thenComparing(Expired::run, OLDEST_FIRST);

    @Override
    public boolean updateIfLeaseExpired(Run run, Instant now) {
        Require.notNull(now, "now");
        return changed(run, db.locked(() -> {
            InMemoryChatStore.Lease lease = db.leases.get(run.id());
            if (lease != null && lease.expiresAt().isAfter(now)) {
                return false;
            }
            return replace(run, RunStatus.IN_PROGRESS);
        }));
    }

    @Override
    public boolean pause(Run waiting, Instant decideBy) {
        Require.that(waiting.status() == RunStatus.REQUIRES_ACTION, "pause moves a run to requires_action");
        Require.notNull(decideBy, "decideBy");
        return db.locked(() -> {
            if (!replace(waiting, RunStatus.IN_PROGRESS)) {
                return false;
            }
            db.remove(db.leases, waiting.id());
            db.put(db.decideBy, waiting.id(), decideBy);
            return true;
        });
    }

    @Override
    public boolean resume(Run resumed, String owner, Instant leaseExpiresAt) {
        Require.that(resumed.status() == RunStatus.IN_PROGRESS, "resume moves a run to in_progress");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        return db.locked(() -> {
            if (!replace(resumed, RunStatus.REQUIRES_ACTION)) {
                return false;
            }
            db.remove(db.decideBy, resumed.id());
            db.put(db.leases, resumed.id(), new InMemoryChatStore.Lease(owner, leaseExpiresAt));
            return true;
        });
    }

    @Override
    public boolean expediteDecision(RunId id, Instant decideBy) {
        Require.notNull(decideBy, "decideBy");
        return db.locked(() -> {
            Run stored = db.runs.get(id);
            if (stored == null || stored.status() != RunStatus.REQUIRES_ACTION) {
                return false;
            }
            db.put(db.decideBy, id, decideBy);
            return true;
        });
    }

    @Override
    public List<Run> decisionsDue(Instant now, int max) {
        Require.notNull(now, "now");
        Require.that(max >= 0, "max must not be negative");
        List<Expired> found = db.locked(() -> {
            List<Expired> out = new ArrayList<>();
            for (Run r : db.runs.values()) {
                Instant by = db.decideBy.get(r.id());
                if (r.status() == RunStatus.REQUIRES_ACTION && db.isLive(r.threadId()) && by != null && !by.isAfter(now)) {
                    out.add(new Expired(r, by));
                }
            }
            return out;
        });
        found.sort(SOONEST_EXPIRED);
        return found.stream().limit(max).map(Expired::run).toList();
    }

    private boolean anotherInProgress(Run run) {
        for (RunId id : db.activeRunsByThread.getOrDefault(run.threadId(), Set.of())) {
            if (!id.equals(run.id()) && db.runs.get(id).status().holdsThread()) {
                return true;
            }
        }
        return false;
    }

    /** Costs the thread's active runs, not all its runs: they are indexed by {@link InMemoryChatStore#putRun}. */
    @Override
    public List<Run> active(ThreadId threadId) {
        List<Run> found = db.locked(() -> {
            List<Run> out = new ArrayList<>();
            if (db.isLive(threadId)) {
                for (RunId id : db.activeRunsByThread.getOrDefault(threadId, Set.of())) {
                    out.add(db.runs.get(id));
                }
            }
            return out;
        });
        found.sort(OLDEST_FIRST);
        return List.copyOf(found);
    }

    @Override
    public Page<Run> page(ThreadId threadId, PageRequest page) {
        Run after = page.cursor() == null ? null : decode(page.cursor());
        List<Run> found = db.locked(() -> {
            List<Run> out = new ArrayList<>();
            for (Run r : runsOf(threadId)) {
                if (after == null || NEWEST_FIRST.compare(r, after) > 0) {
                    out.add(r);
                }
            }
            return out;
        });
        found.sort(NEWEST_FIRST);
        return Pages.of(found, page.limit(), last -> Cursors.encode(CURSOR_KIND, Cursors.instant(last.createdAt()),
                last.id().value()));
    }

    /** A stand-in run carrying the cursor's sort key. */
    private static Run decode(String cursor) {
        String[] f = Cursors.decode(cursor, CURSOR_KIND, 2);
        Instant createdAt = Cursors.parseInstant(f[0]);
        RunId id = Cursors.parseId(RunId.parse(f[1]));
        return new Run(id, new ThreadId("thr_cursor"), "cursor", null, new MessageId("msg_cursor"),
                RunStatus.QUEUED, null, null, null, null, createdAt, null, null);
    }

    /** The store's lock, which a transaction holds to its end, is the lock of every user's count. */
    @Override
    public int lockActiveRunsOf(String userId) {
        Require.notBlank(userId, "userId");
        return db.locked(() -> {
            int count = 0;
            for (Map.Entry<ThreadId, Set<RunId>> entry : db.activeRunsByThread.entrySet()) {
                ChatThread thread = db.threads.get(entry.getKey());
                if (thread != null && thread.isOwnedBy(userId) && db.isLive(entry.getKey())) {
                    count += entry.getValue().size();
                }
            }
            return count;
        });
    }

    @Override
    public List<Run> withStatus(RunStatus status, int max) {
        Require.that(max >= 0, "max must not be negative");
        List<Run> found = db.locked(() -> {
            List<Run> out = new ArrayList<>();
            for (Run r : db.runs.values()) {
                if (r.status() == status && db.isLive(r.threadId())) {
                    out.add(r);
                }
            }
            return out;
        });
        found.sort(OLDEST_FIRST);
        return List.copyOf(found.subList(0, Math.min(max, found.size())));
    }

    private List<Run> runsOf(ThreadId threadId) {
        if (!db.isLive(threadId)) {
            return List.of();
        }
        List<Run> out = new ArrayList<>();
        for (RunId id : db.runsByThread.getOrDefault(threadId, List.of())) {
            out.add(db.runs.get(id));
        }
        return out;
    }

    @Override
    public void insertStep(Step step) {
        db.locked(() -> {
            if (!db.runs.containsKey(step.runId())) {
                throw NotFoundException.run(step.runId());
            }
            if (db.steps.containsKey(step.id())) {
                throw InMemoryChatStore.duplicate("step " + step.id());
            }
            List<Step> list = db.listFor(db.stepsByRun, step.runId(), 1);
            db.add(list, insertionPoint(list, step), step);
            db.put(db.steps, step.id(), step);
        });
    }

    @Override
    public void updateStep(Step step) {
        db.locked(() -> {
            Step stored = db.steps.get(step.id());
            if (stored == null) {
                throw new NotFoundException("not_found", "No step " + step.id());
            }
            Require.that(stored.runId().equals(step.runId()), "a step never moves to another run");
            List<Step> list = db.stepsByRun.get(step.runId());
            int index = list.indexOf(stored);
            if (stored.position() == step.position()) {
                db.set(list, index, step);
            } else {
                db.removeAt(list, index);
                db.add(list, insertionPoint(list, step), step);
            }
            db.put(db.steps, step.id(), step);
        });
    }

    @Override
    public boolean updateStep(Step step, StepStatus expected) {
        Require.notNull(expected, "expected");
        return db.locked(() -> {
            Step stored = db.steps.get(step.id());
            if (stored == null || stored.status() != expected || !stored.runId().equals(step.runId())) {
                return false;
            }
            updateStep(step);
            return true;
        });
    }

    /** Where {@code step} goes in the position-ordered list; a taken position is a duplicate. */
    private static int insertionPoint(List<Step> list, Step step) {
        int i = 0;
        while (i < list.size() && list.get(i).position() < step.position()) {
            i++;
        }
        if (i < list.size() && list.get(i).position() == step.position()) {
            throw InMemoryChatStore.duplicate("step position " + step.position() + " of run " + step.runId());
        }
        return i;
    }

    @Override
    public List<Step> steps(RunId runId) {
        return db.locked(() -> {
            Run run = db.runs.get(runId);
            if (run == null || !db.isLive(run.threadId())) {
                return List.of();
            }
            return List.copyOf(db.stepsByRun.getOrDefault(runId, List.of()));
        });
    }

    @Override
    public void recordInstructions(RunId id, RunInstructions instructions) {
        Require.notNull(instructions, "instructions");
        db.locked(() -> {
            if (!db.runs.containsKey(id)) {
                throw NotFoundException.run(id);
            }
            db.put(db.runInstructions, id, instructions);
            db.putRun(db.runs.get(id).withAgentVersion(instructions.agentVersion()));
        });
    }

    @Override
    public Optional<RunInstructions> instructions(RunId id) {
        return db.locked(() -> Optional.ofNullable(db.runInstructions.get(id)));
    }

    @Override
    public void recordOrigin(RunId id, RunOrigin origin) {
        Require.notNull(origin, "origin");
        db.locked(() -> {
            if (!db.runs.containsKey(id)) {
                throw NotFoundException.run(id);
            }
            db.put(db.runOrigins, id, origin);
        });
    }

    @Override
    public RunOrigin origin(RunId id) {
        return db.locked(() -> db.runOrigins.getOrDefault(id, RunOrigin.NONE));
    }
}
