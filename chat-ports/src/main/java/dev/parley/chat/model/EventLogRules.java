package dev.parley.chat.model;

/**
 * The rules of a run's event log, stated once here and kept by every store on append and by the
 * event bus on publish:
 * <ol>
 *   <li>it holds replayable events only (no {@link RunEvent.Heartbeat});</li>
 *   <li>their seqs count from 1 with no gap and no repeat;</li>
 *   <li>it ends with exactly one terminal event ({@link RunEvent#isTerminal()}), and nothing
 *       follows it.</li>
 * </ol>
 */
public final class EventLogRules {
    private EventLogRules() {}

    /** A rule that an event would break by following a run's log. */
    public enum Breach {
        /** A heartbeat, which is never part of a log. */
        NOT_REPLAYABLE,
        /** Its seq is already in the log. */
        DUPLICATE,
        /** The log already ended with its terminal event. */
        AFTER_END,
        /** Its seq would leave a gap after the log's last. */
        GAP
    }

    /**
     * The rule that {@code next} would break by following a run's log whose last seq is
     * {@code lastSeq} (0 when it is empty) and which {@code ended} (its last event is terminal), or
     * null when it may follow.
     */
    public static Breach breach(long lastSeq, boolean ended, RunEvent next) {
        if (!next.isReplayable()) {
            return Breach.NOT_REPLAYABLE;
        }
        if (next.seq() <= lastSeq) {
            return Breach.DUPLICATE;
        }
        if (ended) {
            return Breach.AFTER_END;
        }
        return next.seq() == lastSeq + 1 ? null : Breach.GAP;
    }

    /**
     * For a store's append: refuses {@code next} unless it may follow the log (see
     * {@link #breach}), with a {@link ConflictException} {@link ConflictException.Reason#DUPLICATE} or
     * {@link ConflictException.Reason#RUN_ENDED},
     * or an IllegalArgumentException for a heartbeat or a gap.
     */
    public static void requireAppendable(long lastSeq, boolean ended, RunEvent next) {
        Breach breach = breach(lastSeq, ended, next);
        if (breach == null) {
            return;
        }
        switch (breach) {
            case DUPLICATE -> throw ConflictException.duplicate("event " + next.seq() + " of run " + next.runId());
            case AFTER_END -> throw ConflictException.runEnded(next.runId());
            default -> throw new IllegalArgumentException(describe(breach, lastSeq, next));
        }
    }

    /** For the event bus's publish: refuses {@code next} unless it may follow the log, with an IllegalArgumentException. */
    public static void requirePublishable(long lastSeq, boolean ended, RunEvent next) {
        Breach breach = breach(lastSeq, ended, next);
        if (breach != null) {
            throw new IllegalArgumentException(describe(breach, lastSeq, next));
        }
    }

    private static String describe(Breach breach, long lastSeq, RunEvent next) {
        return switch (breach) {
            case NOT_REPLAYABLE -> "heartbeats are not part of a run's log";
            case DUPLICATE -> "event " + next.seq() + " of run " + next.runId() + " already exists";
            case AFTER_END -> "the events of run " + next.runId() + " already ended at seq " + lastSeq;
            case GAP -> "event " + next.seq() + " of run " + next.runId() + " would leave a gap after " + lastSeq;
        };
    }
}
