package dev.parley.chat.port.out;

import dev.parley.chat.model.ToolSpec;
import java.time.Duration;

/**
 * A function the agent's model may call. Implementations must be thread-safe. The run engine
 * calls {@link #execute} off the run's thread and bounds it by {@link #timeout()}; on timeout or
 * cancel the context's cancellation fires and the thread is interrupted.
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
     * Does the work and returns its result as text for the model. Throw
     * {@link dev.parley.chat.model.ToolException} with a message fit for the model when the
     * arguments are bad or the work fails; any other exception is recorded as a generic failure.
     */
    String execute(ToolContext context) throws Exception;

    default ToolSpec spec() {
        return new ToolSpec(name(), description(), parametersSchema());
    }
}
