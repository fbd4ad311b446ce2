package dev.parley.chat.core;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.out.RunEventStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writing side of {@link StoreBackedRunEventBus}: appends the runs' buffered events to the store,
 * in seq order per run ({@link RunLog#flushLock}), keeps what a failed write could not store for the
 * next try, and remembers which logs have events waiting.
 */
final class RunLogWriter {
    private static final Logger LOG = LoggerFactory.getLogger(RunLogWriter.class);

    private final RunEventStore store;
    private final Set<RunLog> dirty = ConcurrentHashMap.newKeySet();

    RunLogWriter(RunEventStore store) {
        this.store = store;
    }

    /** Notes that {@code log} has events waiting for the background flush. */
    void dirty(RunLog log) {
        dirty.add(log);
    }

    /**
     * Persists every log's waiting events; failures stay for the next try. The logs whose write is not under
     * way elsewhere go in one append (one transaction however many runs stream, each run's events in seq
     * order under its flush lock); when the store refuses that append, each goes on its own, so that one
     * run's refusal (a gap, a log that already ended) is handled as for a single run. When the store cannot
     * be reached, every event stays for the next tick without a try per run.
     */
    void flushAll() {
        List<RunLog> logs = List.copyOf(dirty);
        if (logs.size() < 2) {
            logs.forEach(log -> flush(log, false));
            return;
        }
        List<RunLog> held = new ArrayList<>(logs.size());
        List<List<RunEvent>> batches = new ArrayList<>(logs.size());
        boolean refused = false;
        try {
            List<RunEvent> all = new ArrayList<>();
            for (RunLog log : logs) {
                if (!log.flushLock.tryLock()) {
                    continue; // its publisher writes it now (it stays dirty if anything is left)
                }
                dirty.remove(log);
                List<RunEvent> batch = takeBatch(log);
                if (batch.isEmpty()) {
                    log.flushLock.unlock();
                    continue;
                }
                held.add(log);
                batches.add(batch);
                all.addAll(batch);
            }
            if (held.isEmpty()) {
                return;
            }
            try {
                store.append(all);
                held.forEach(log -> log.markStoreFailing(false));
            } catch (RuntimeException failure) {
                boolean unreachable = failure instanceof StorageUnavailableException;
                refused = !unreachable;
                for (int i = 0; i < held.size(); i++) {
                    RunLog log = held.get(i);
                    putBack(log, batches.get(i), unreachable);
                    if (unreachable) {
                        dirty.add(log);
                    }
                }
                if (unreachable) {
                    LOG.warn("could not store events of {} runs, will retry: {}", held.size(), failure.getMessage());
                }
            }
        } finally {
            held.forEach(log -> log.flushLock.unlock());
        }
        if (refused) {
            held.forEach(log -> flush(log, false));
        }
    }

    /** Takes the run's buffered events out of its log, once no write of them is under way. */
    List<RunEvent> takePending(RunLog log) {
        log.flushLock.lock();
        try {
            dirty.remove(log);
            log.lock.lock();
            try {
                List<RunEvent> taken = log.pending;
                log.pending = new ArrayList<>();
                return taken;
            } finally {
                log.lock.unlock();
            }
        } finally {
            log.flushLock.unlock();
        }
    }

    /** The log's waiting events, taken out of it (empty, and left in place, when none wait). Under its flush lock. */
    private static List<RunEvent> takeBatch(RunLog log) {
        log.lock.lock();
        try {
            List<RunEvent> batch = log.pending;
            if (!batch.isEmpty()) {
                log.pending = new ArrayList<>();
            }
            return batch;
        } finally {
            log.lock.unlock();
        }
    }

    /** Puts a batch that could not be stored back before the log's waiting events; {@code failing}: the store is failing. */
    private static void putBack(RunLog log, List<RunEvent> batch, boolean failing) {
        log.lock.lock();
        try {
            log.pending.addAll(0, batch);
            log.storeFailing |= failing;
        } finally {
            log.lock.unlock();
        }
    }

    /** The events of {@code batch} past the run's last stored seq (an earlier append that seemed to fail stored the rest). */
    List<RunEvent> notYetStored(RunId runId, List<RunEvent> batch) {
        long stored = store.lastSeq(runId);
        List<RunEvent> rest = new ArrayList<>();
        for (RunEvent e : batch) {
            if (e.seq() > stored) {
                rest.add(e);
            }
        }
        return rest;
    }

    /**
     * Persists the run's pending events. Failures keep them pending for the flusher to retry;
     * {@code rethrow} passes the failure on to the caller (a terminal publish must be durable).
     */
    void flush(RunLog log, boolean rethrow) {
        log.flushLock.lock();
        try {
            dirty.remove(log);
            List<RunEvent> batch = takeBatch(log);
            if (batch.isEmpty()) {
                return;
            }
            try {
                append(log.runId, batch);
                log.markStoreFailing(false);
            } catch (IllegalArgumentException gap) {
                // the store's log of this run does not end where ours began: retrying cannot help
                LOG.error("dropped {} events of run {} the store refused: {}", batch.size(), log.runId, gap.getMessage());
                if (rethrow) {
                    throw gap;
                }
            } catch (RuntimeException failure) {
                putBack(log, batch, true);
                dirty.add(log);
                if (rethrow) {
                    throw failure;
                }
                LOG.warn("could not store events of run {}, will retry: {}", log.runId, failure.getMessage());
            }
        } finally {
            log.flushLock.unlock();
        }
    }

    /**
     * Appends a batch; when part of it is already stored (an earlier append that seemed to fail), stores
     * the rest. When the stored log already ended (another server ended the run after its owner's lease
     * expired), nothing more of it is written.
     */
    private void append(RunId runId, List<RunEvent> batch) {
        try {
            store.append(batch);
        } catch (ConflictException conflict) {
            if (conflict.reason() == ConflictException.Reason.RUN_ENDED) {
                droppedAfterEnd(runId, batch.size());
                return;
            }
            List<RunEvent> rest = notYetStored(runId, batch);
            if (rest.isEmpty()) {
                return;
            }
            try {
                store.append(rest);
            } catch (ConflictException again) {
                if (again.reason() != ConflictException.Reason.RUN_ENDED) {
                    throw again;
                }
                droppedAfterEnd(runId, rest.size());
            }
        }
    }

    private static void droppedAfterEnd(RunId runId, int count) {
        LOG.warn("dropped {} events of run {}: its stored log already ended (another server ended the run)", count, runId);
    }

}
