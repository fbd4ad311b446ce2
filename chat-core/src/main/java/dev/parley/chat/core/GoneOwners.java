package dev.parley.chat.core;

import dev.parley.chat.port.out.ServerLiveness.OwnerState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The rule by which one server takes another for gone, from what it sees of it pass after pass: an
 * owner is gone when it holds no signal <em>and</em> its beat has stood still for at least the grace,
 * counted from the first pass that saw the beat where it stands. A held signal keeps an owner alive
 * however long its beat stands still (it is only slow: a pause, a busy pool); a beat that moves keeps
 * it alive while its signal is lost (its session was cut, and it takes the signal back). Passes that
 * did not see the store, or that this server made without holding its own signal, say nothing about
 * the others: {@link #forget} starts the count over. Not thread-safe: one pass at a time.
 */
final class GoneOwners {
    private final Duration grace;
    private Map<String, Seen> seen = new HashMap<>();

    /** Where an owner's beat stood when a pass first saw it there. */
    private record Seen(long beat, Instant since) {}

    GoneOwners(Duration grace) {
        this.grace = grace;
    }

    /**
     * Records what a pass at {@code now} saw of {@code owners} (owners it no longer sees are dropped)
     * and returns those that are gone.
     */
    List<OwnerState> pass(List<OwnerState> owners, Instant now) {
        Map<String, Seen> next = new HashMap<>();
        List<OwnerState> gone = new ArrayList<>();
        for (OwnerState owner : owners) {
            Seen before = seen.get(owner.owner());
            boolean still = before != null && before.beat() == owner.beat();
            Seen current = still ? before : new Seen(owner.beat(), now);
            next.put(owner.owner(), current);
            if (still && !owner.signalHeld() && !now.isBefore(current.since().plus(grace))) {
                gone.add(owner);
            }
        }
        seen = next;
        return gone;
    }

    /** Forgets every beat seen: the next passes count the grace afresh. */
    void forget() {
        seen = new HashMap<>();
    }
}
