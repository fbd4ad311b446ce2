package dev.parley.chat.core;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;

/**
 * A clock that reads time to the microsecond: the precision SQL stores keep, so that what the
 * service holds of a run it wrote (and answers without reading it back) equals what any store gives
 * back later.
 */
final class MicrosecondClock extends Clock {
    private final Clock clock;

    private MicrosecondClock(Clock clock) {
        this.clock = clock;
    }

    static Clock of(Clock clock) {
        return clock instanceof MicrosecondClock ? clock : new MicrosecondClock(clock);
    }

    @Override
    public Instant instant() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    @Override
    public long millis() {
        return clock.millis();
    }

    @Override
    public ZoneId getZone() {
        return clock.getZone();
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return new MicrosecondClock(clock.withZone(zone));
    }
}
