package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Tells that a server sharing the store stopped, sooner than its run leases expire. Each server
 * holds a <em>signal</em> tied to a session of its own with the store, which the store gives up the
 * moment that session ends (as when the server's process dies and its connection closes), and
 * <em>beats</em>: it moves a counter in the store, through its ordinary connections, at a steady pace.
 *
 * <p>Neither alone proves a server dead: a server that is only slow (a long pause, a busy pool) stops
 * beating but still holds its signal; a server whose session was cut (an administrator ended it, the
 * network dropped it) holds no signal for a moment but goes on beating and takes its signal back. The
 * caller takes an owner for gone only when its signal is not held <em>and</em> its beat has stood still
 * for a while, and then moves its leases with {@link #expireLeases}, a compare-and-set on both, so that
 * the ordinary end of runs whose lease expired ends them. The leases stay the fallback for whatever
 * this cannot see (a server cut off from the store whose session the store still keeps).
 *
 * <p>A store that cannot tell returns {@link #none()}: its servers' runs are ended by their leases
 * alone. Thread-safe.
 */
public interface ServerLiveness {

    /** Whether this store tells anything: false for {@link #none()}, whose methods do nothing. */
    boolean isSupported();

    /**
     * Starts holding {@code owner}'s signal (taking it back whenever its session is lost) and beating
     * every {@code beatEvery}, on threads of the implementation, until the returned signal is closed.
     * One holder per owner: the owner names one running server (its runs' owner in {@link RunStore}).
     */
    Signal hold(String owner, Duration beatEvery);

    /**
     * What the store knows now of the owners of runs in progress whose lease runs past {@code now}:
     * whether each holds its signal and where its beat stands. Owners that never took a signal (or that
     * could not take it back after losing it, see {@link Signal}) are left out: their runs end by their leases.
     */
    List<OwnerState> owners(Instant now);

    /**
     * Moves to {@code now} the leases of {@code owner}'s runs in progress that run past it, only while
     * {@code owner} holds no signal and its beat is still {@code beat} (a compare-and-set on both, which
     * a beat or a signal taken meanwhile makes fail); returns those runs, none when it failed.
     */
    List<RunId> expireLeases(String owner, long beat, Instant now);

    /**
     * One owner as {@link #owners} sees it.
     *
     * @param owner      the owner name
     * @param signalHeld whether its signal is held now
     * @param beat       its beat counter (it only grows while the owner lives)
     */
    record OwnerState(String owner, boolean signalHeld, long beat) {
        public OwnerState {
            Require.notBlank(owner, "owner");
        }
    }

    /**
     * A signal held by {@link #hold}. An implementation that loses the signal's session tries to take
     * it back at once; when it cannot, it withdraws the owner from {@link #owners} until it can, so that
     * the owner's runs are then left to their leases.
     */
    interface Signal extends AutoCloseable {
        /** Whether the signal is held now, as far as this process knows. */
        boolean isHeld();

        /** How many times the signal was taken since {@link #hold}: it grows each time it is taken back. */
        long takes();

        /**
         * Stops beating and gives the signal up. An owner that still has runs in progress stays known
         * (its signal not held, its beat still), so other servers end those runs soon; one without is
         * forgotten. Idempotent.
         */
        @Override
        void close();
    }

    /** Liveness of a store that cannot tell: never supported, nothing to hold, no owners. */
    static ServerLiveness none() {
        return NoServerLiveness.INSTANCE;
    }
}
