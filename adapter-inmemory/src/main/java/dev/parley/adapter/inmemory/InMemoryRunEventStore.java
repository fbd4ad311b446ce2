package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunEventStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The run event log of an {@link InMemoryChatStore}: one list per run, index = seq - 1. */
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
        db.locked(() -> {
            Map<RunId, Long> last = new HashMap<>();
            for (RunEvent e : events) {
                Require.that(e.isReplayable(), "heartbeats are never stored");
                long previous = last.computeIfAbsent(e.runId(), id -> (long) db.events.getOrDefault(id, List.of()).size());
                if (e.seq() <= previous) {
                    throw new ConflictException("duplicate", "event " + e.seq() + " of run " + e.runId() + " already exists");
                }
                Require.that(e.seq() == previous + 1,
                        "event " + e.seq() + " of run " + e.runId() + " would leave a gap after " + previous);
                last.put(e.runId(), e.seq());
            }
            for (RunEvent e : events) {
                db.add(db.listFor(db.events, e.runId()), e);
            }
        });
    }

    @Override
    public List<RunEvent> read(RunId runId, long afterSeq, int max) {
        Require.that(max >= 1, "max must be at least 1");
        return db.locked(() -> {
            List<RunEvent> log = db.events.getOrDefault(runId, List.of());
            int from = (int) Math.max(0, Math.min(afterSeq, log.size()));
            int to = (int) Math.min(log.size(), (long) from + max);
            return List.copyOf(log.subList(from, to));
        });
    }

    @Override
    public long lastSeq(RunId runId) {
        return db.locked(() -> (long) db.events.getOrDefault(runId, List.of()).size());
    }
}
