package dev.parley.examples;

import dev.parley.chat.port.out.Schema;
import dev.parley.chat.port.out.Tool;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * The {@code clock} tool: answers the current UTC time in ISO-8601 to the second, for example
 * {@code 2026-11-22T10:30:00Z}. Takes no arguments. Thread-safe.
 */
public final class ClockTool {
    /** The tool's name, as the model calls it. */
    public static final String NAME = "clock";

    private ClockTool() {
    }

    /** The tool on the system clock. */
    public static Tool create() {
        return create(Clock.systemUTC());
    }

    /** The tool reading {@code clock} (tests pass a fixed one). */
    public static Tool create(Clock clock) {
        Objects.requireNonNull(clock, "clock");
        return Tool.of(NAME,
                "Returns the current date and time in UTC, in ISO-8601 (for example 2026-11-22T10:30:00Z).",
                Schema.object(),
                ctx -> clock.instant().truncatedTo(ChronoUnit.SECONDS).toString());
    }
}
