package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.ToolSpec;
import java.time.Duration;

/**
 * A function the agent's model may call. Implementations must be thread-safe. The run engine
 * calls {@link #execute} off the run's thread and bounds it by {@link #timeout()}; on timeout or
 * cancel the context's cancellation fires and the thread is interrupted.
 *
 * <p>Most tools need no class of their own: {@link #of(String, String, Schema, Handler)} makes one
 * from a name, a description, a {@link Schema} and a lambda that reads typed arguments:
 *
 * <pre>{@code
 * Tool weather = Tool.of("weather", "The weather forecast for a city",
 *         Schema.object().string("city", "The city").integer("days", "How many days, 1 to 7").required("city"),
 *         ctx -> forecasts.get(ctx.args().string("city"), ctx.args().optionalInteger("days").orElse(1)));
 * }</pre>
 */
public interface Tool {

    /** Unique within an agent: 1-64 of {@code A-Z a-z 0-9 _ -}. */
    String name();

    /** What the tool does, written for the model. */
    String description();

    /** JSON Schema of the arguments object. */
    String parametersSchema();

    /** Longest the tool may run; 30 s unless overridden. */
    default Duration timeout() {
        return Duration.ofSeconds(30);
    }

    /**
     * Whether a person must approve each call before it runs (false unless overridden). The run then
     * waits, as stored rows only, until the call is approved or denied; an agent may require approval
     * of a tool that does not require it itself.
     */
    default boolean requiresApproval() {
        return false;
    }

    /**
     * Does the work and returns its result as text for the model. Throw
     * {@link dev.parley.chat.model.ToolException} with a message fit for the model when the
     * arguments are bad or the work fails (the accessors of {@link ToolContext#args()} do so by
     * themselves); any other exception is recorded as a generic failure.
     */
    String execute(ToolContext context) throws Exception;

    default ToolSpec spec() {
        return new ToolSpec(name(), description(), parametersSchema());
    }

    /** This tool bounded by {@code timeout} instead of its own {@link #timeout()}. */
    default Tool withTimeout(Duration timeout) {
        Require.notNull(timeout, "timeout");
        Require.that(!timeout.isNegative() && !timeout.isZero(), "timeout must be positive");
        return delegate(this, timeout, requiresApproval());
    }

    /** This tool, requiring a person's approval of each call (see {@link #requiresApproval()}). */
    default Tool requiringApproval() {
        return delegate(this, timeout(), true);
    }

    private static Tool delegate(Tool self, Duration timeout, boolean approval) {
        return new Tool() {
            @Override
            public String name() {
                return self.name();
            }

            @Override
            public String description() {
                return self.description();
            }

            @Override
            public String parametersSchema() {
                return self.parametersSchema();
            }

            @Override
            public Duration timeout() {
                return timeout;
            }

            @Override
            public boolean requiresApproval() {
                return approval;
            }

            @Override
            public String execute(ToolContext context) throws Exception {
                return self.execute(context);
            }

            @Override
            public ToolSpec spec() {
                return self.spec();
            }
        };
    }

    /**
     * A tool that runs {@code handler}; its arguments are described by {@code parameters}. The name
     * and the schema are checked here, so a bad one fails when the tool is made, not when it is
     * called.
     */
    static Tool of(String name, String description, Schema parameters, Handler handler) {
        return of(name, description, Require.notNull(parameters, "parameters").toJson(), handler);
    }

    /** A tool that runs {@code handler}; {@code parametersSchema} is the JSON Schema text of its arguments object. */
    static Tool of(String name, String description, String parametersSchema, Handler handler) {
        return new FunctionTool(new ToolSpec(name, description, parametersSchema), Require.notNull(handler, "handler"));
    }

    /** The work of a tool made by {@link Tool#of}; the contract of {@link Tool#execute} applies. */
    @FunctionalInterface
    interface Handler {
        /** Returns the result for the model; see {@link Tool#execute}. */
        String execute(ToolContext context) throws Exception;
    }
}
