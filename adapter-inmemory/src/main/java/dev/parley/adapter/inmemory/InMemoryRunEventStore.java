package dev.parley.adapter.inmemory;

import dev.parley.chat.model.EventLogRules;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunEventStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The run event log of an {@link InMemoryChatStore}: one list per run, index = seq - 1, under the
 * store's events lock only (see {@link InMemoryChatStore}).
 */
final class InMemoryRunEventStore implements RunEventStore {
    private final InMemoryChatStore db;

    InMemoryRunEventStore(InMemoryChatStore db) {
        this.db = db;
    }

    @Override
    public void append(List<RunEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        db.withinTransaction(() -> {
            appendChecked(events);
            return null;
        });
    }

    private void appendChecked(List<RunEvent> events) {
        RunId only = events.get(0).runId();
        for (RunEvent e : events) {
            if (!e.runId().equals(only)) {
                appendToSeveralRuns(events);
                return;
            }
        }
        db.eventsLock.lock();
        try {
            List<RunEvent> log = db.events.get(only);
            long previous = log == null ? 0 : log.size();
            boolean ended = endedInStore(only);
            for (RunEvent e : events) {
                EventLogRules.requireAppendable(previous, ended, e);
                ended = e.isTerminal();
                previous = e.seq();
            }
            if (log == null) {
                log = new ArrayList<>();
                db.events.put(only, log);
            }
            int sizeBefore = log.size();
            log.addAll(events);
            db.recordUndo(() -> truncate(Map.of(only, sizeBefore)));
        } finally {
            db.eventsLock.unlock();
        }
        db.eventsStored(only);
    }

    /** {@link #appendChecked} of a batch that holds events of more than one run. */
    private void appendToSeveralRuns(List<RunEvent> events) {
        Map<RunId, Integer> sizesBefore = new HashMap<>();
        db.eventsLock.lock();
        try {
            Map<RunId, Long> last = new HashMap<>();
            Map<RunId, Boolean> ended = new HashMap<>();
            for (RunEvent e : events) {
                long previous = last.computeIfAbsent(e.runId(), id -> (long) db.events.getOrDefault(id, List.of()).size());
                EventLogRules.requireAppendable(previous, ended.computeIfAbsent(e.runId(), this::endedInStore), e);
                ended.put(e.runId(), e.isTerminal());
                last.put(e.runId(), e.seq());
            }
            for (RunEvent e : events) {
                List<RunEvent> log = db.events.computeIfAbsent(e.runId(), id -> new ArrayList<>());
                sizesBefore.putIfAbsent(e.runId(), log.size());
                log.add(e);
            }
            db.recordUndo(() -> truncate(sizesBefore));
        } finally {
            db.eventsLock.unlock();
        }
        sizesBefore.keySet().forEach(db::eventsStored);
    }

    /** Whether the run's stored log ends with a terminal event; events lock held. */
    private boolean endedInStore(RunId runId) {
        List<RunEvent> log = db.events.get(runId);
        return log != null && !log.isEmpty() && log.get(log.size() - 1).isTerminal();
    }

    private void truncate(Map<RunId, Integer> sizes) {
        db.eventsLock.lock();
        try {
            sizes.forEach((runId, size) -> {
                List<RunEvent> log = db.events.get(runId);
                if (log == null) {
                    return;
                }
                if (size == 0) {
                    db.events.remove(runId);
                } else {
                    log.subList(Math.min(size, log.size()), log.size()).clear();
                }
            });
        } finally {
            db.eventsLock.unlock();
        }
    }

    @Override
    public List<RunEvent> read(RunId runId, long afterSeq, int max) {
        Require.that(max >= 1, "max must be at least 1");
        db.eventsLock.lock();
        try {
            List<RunEvent> log = db.events.getOrDefault(runId, List.of());
            int from = (int) Math.max(0, Math.min(afterSeq, log.size()));
            int to = (int) Math.min(log.size(), (long) from + max);
            return List.copyOf(log.subList(from, to));
        } finally {
            db.eventsLock.unlock();
        }
    }

    @Override
    public long lastSeq(RunId runId) {
        db.eventsLock.lock();
        try {
            return db.events.getOrDefault(runId, List.of()).size();
        } finally {
            db.eventsLock.unlock();
        }
    }

    @Override
    public int expire(java.time.Instant endedBefore, int max) {
        Require.that(max >= 1, "max must be at least 1");
        List<RunId> ended = new ArrayList<>();
        db.lock.lock();
        try {
            for (var run : db.runs.values()) {
                if (run.completedAt() != null && run.completedAt().isBefore(endedBefore)) {
                    ended.add(run.id());
                }
            }
        } finally {
            db.lock.unlock();
        }
        int removed = 0;
        db.eventsLock.lock();
        try {
            for (RunId runId : ended) {
                if (removed == max) {
                    break;
                }
                if (db.expiredLogs.add(runId)) {
                    db.events.remove(runId);
                    removed++;
                }
            }
        } finally {
            db.eventsLock.unlock();
        }
        return removed;
    }

    @Override
    public boolean expired(RunId runId) {
        db.eventsLock.lock();
        try {
            return db.expiredLogs.contains(runId);
        } finally {
            db.eventsLock.unlock();
        }
    }
}
