package dev.parley.chat.port.out;

import java.time.Instant;

/**
 * Named leases that let one server among those sharing a store do a periodic job (such as purging
 * the trash) at a time. Thread-safe; lease times come from the callers' clocks.
 */
public interface JobLeases {

    /**
     * Takes the lease on job {@code name} for {@code holder} until {@code until} when nobody holds it
     * (never taken, or expired at or before {@code now}), or extends it when {@code holder} holds it
     * already; true when {@code holder} holds it afterwards.
     */
    boolean tryAcquire(String name, String holder, Instant now, Instant until);

    /** Gives the lease up when {@code holder} holds it; nothing otherwise. */
    void release(String name, String holder);

    /** Leases for a store used by one process only: whoever asks gets the lease. */
    static JobLeases unshared() {
        return new JobLeases() {
            @Override
            public boolean tryAcquire(String name, String holder, Instant now, Instant until) {
                return true;
            }

            @Override
            public void release(String name, String holder) {
            }
        };
    }
}
