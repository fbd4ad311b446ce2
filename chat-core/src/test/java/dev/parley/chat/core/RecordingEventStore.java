package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.out.RunEventStore;
import java.util.ArrayList;
import java.util.List;

/** An event store that counts its reads and appends and fails appends on demand. */
final class RecordingEventStore implements RunEventStore {
    private final RunEventStore delegate;
    private final List<Integer> batchSizes = new ArrayList<>();
    private int failures;
    private boolean storeThenFail;
    private int reads;
    private int lastSeqReads;
    private int attempts;

    RecordingEventStore(RunEventStore delegate) {
        this.delegate = delegate;
    }

    synchronized void failNextAppends(int count) {
        failures = count;
    }

    synchronized void storeThenFailNextAppend() {
        storeThenFail = true;
    }

    synchronized List<Integer> batchSizes() {
        return List.copyOf(batchSizes);
    }

    synchronized int reads() {
        return reads;
    }

    synchronized int attempts() {
        return attempts;
    }

    synchronized int lastSeqReads() {
        return lastSeqReads;
    }

    @Override
    public synchronized void append(List<RunEvent> events) {
        attempts++;
        if (failures > 0) {
            failures--;
            throw new StorageUnavailableException("store down", null);
        }
        delegate.append(events);
        batchSizes.add(events.size());
        if (storeThenFail) {
            storeThenFail = false;
            throw new StorageUnavailableException("connection lost after commit", null);
        }
    }

    @Override
    public synchronized List<RunEvent> read(RunId runId, long afterSeq, int max) {
        reads++;
        return delegate.read(runId, afterSeq, max);
    }

    @Override
    public long lastSeq(RunId runId) {
        synchronized (this) {
            lastSeqReads++;
        }
        return delegate.lastSeq(runId);
    }
}
