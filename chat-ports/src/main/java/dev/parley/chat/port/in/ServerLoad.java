package dev.parley.chat.port.in;

/**
 * What one server executes and what waits, for metrics: runs executing on this server now, the most
 * it executes at once (its admission limit), the runs queued in the store for every server sharing
 * it (waiting for a server with room, or behind an earlier run of their thread), and how many runs
 * this server kept queued since it started because it had no room for them.
 *
 * @param executing          runs executing on this server now
 * @param maxExecuting       the most runs this server executes at once
 * @param queued             runs queued in the store (all servers sharing it), or -1 when unknown
 * @param admissionDeferred  runs this server left queued for lack of room, since it started
 * @param refusedActiveRuns  sends this server refused since it started because the user had the most active runs allowed
 */
public record ServerLoad(int executing, int maxExecuting, long queued, long admissionDeferred, long refusedActiveRuns) {
    /** The load of a use-case implementation that does not report one. */
    public static final ServerLoad UNKNOWN = new ServerLoad(0, 0, -1, 0, 0);
}
