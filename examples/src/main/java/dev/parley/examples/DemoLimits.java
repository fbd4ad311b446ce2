package dev.parley.examples;

import dev.parley.chat.core.ChatServiceBuilder;
import java.util.Map;

/**
 * What one user may hold at once and what one server executes at once: {@code maxStreamsPerUser}
 * ({@code PARLEY_MAX_STREAMS_PER_USER}, default 32, 0 for no limit: SSE streams and WebSockets open on
 * one server), {@code maxActiveRunsPerUser} ({@code PARLEY_MAX_ACTIVE_RUNS_PER_USER}, default 16, 0 for
 * no limit: runs queued, in progress or waiting for approval, counted in the database for every server)
 * and {@code maxExecutingRuns} ({@code PARLEY_MAX_EXECUTING_RUNS}, default 64 per processor: beyond it
 * runs stay queued in the database for a server with room).
 */
public record DemoLimits(int maxStreamsPerUser, int maxActiveRunsPerUser, int maxExecutingRuns) {
    public static final int DEFAULT_MAX_STREAMS_PER_USER = 32;
    public static final int DEFAULT_MAX_ACTIVE_RUNS_PER_USER = 16;

    static DemoLimits fromEnvironment(Map<String, String> env) {
        return new DemoLimits(
                DemoConfig.integer(env, "PARLEY_MAX_STREAMS_PER_USER", DEFAULT_MAX_STREAMS_PER_USER, 0, 1_000_000),
                DemoConfig.integer(env, "PARLEY_MAX_ACTIVE_RUNS_PER_USER", DEFAULT_MAX_ACTIVE_RUNS_PER_USER, 0, 1_000_000),
                DemoConfig.integer(env, "PARLEY_MAX_EXECUTING_RUNS", ChatServiceBuilder.defaultMaxExecutingRuns(), 1, 1_000_000));
    }
}
