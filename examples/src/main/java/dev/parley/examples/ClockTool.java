package dev.parley.examples;

import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * The {@code clock} tool: answers the current UTC time in ISO-8601 to the second, for example
 * {@code 2026-11-22T10:30:00Z}. Takes no arguments. Thread-safe.
 */
public final class ClockTool implements Tool {
    /** The tool's name, as the model calls it. */
    public static final String NAME = "clock";
    private final Clock clock;

    /** A clock tool on the system clock. */
    public ClockTool() {
        this(Clock.systemUTC());
    }

    /** A clock tool reading {@code clock} (tests pass a fixed one). */
    public ClockTool(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Returns the current date and time in UTC, in ISO-8601 (for example 2026-11-22T10:30:00Z).";
    }

    @Override
    public String parametersSchema() {
        return "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}";
    }

    @Override
    public String execute(ToolContext context) {
        return clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
