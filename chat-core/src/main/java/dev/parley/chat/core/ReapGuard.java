package dev.parley.chat.core;

import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this server may end other servers' runs now. Not while its store calls fail, and not for
 * one lease after they succeed again: no server could renew its leases or beat meanwhile, so an expired
 * lease or a still beat then says nothing about its server. Shared by the reaper's passes and the
 * liveness passes, so that whichever of them meets the outage holds both back. Thread-safe.
 */
final class ReapGuard {
    private static final Logger log = LoggerFactory.getLogger(ReapGuard.class);

    private final Duration lease;
    private boolean storeWasUnavailable;
    private Instant reapNotBefore = Instant.MIN;

    ReapGuard(Duration lease) {
        this.lease = lease;
    }

    /** A store call failed because the store could not be reached; true the first time since it last answered. */
    synchronized boolean unavailable() {
        if (storeWasUnavailable) {
            return false;
        }
        storeWasUnavailable = true;
        return true;
    }

    /** Whether the store was unreachable at the last call, so that the next call that succeeds must tell {@link #answered}. */
    synchronized boolean wasUnavailable() {
        return storeWasUnavailable;
    }

    /** A store call succeeded at {@code now}: after an outage, nothing is ended for one lease. */
    synchronized void answered(Instant now) {
        if (!storeWasUnavailable) {
            return;
        }
        storeWasUnavailable = false;
        reapNotBefore = now.plus(lease);
        log.info("the store answers again; runs of other servers are ended again after {} ms", lease.toMillis());
    }

    /** Whether runs of other servers may be ended at {@code now}. */
    synchronized boolean mayReap(Instant now) {
        return !storeWasUnavailable && !now.isBefore(reapNotBefore);
    }
}
