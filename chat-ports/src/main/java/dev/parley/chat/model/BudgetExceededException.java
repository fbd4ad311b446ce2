package dev.parley.chat.model;

import java.time.Duration;

/**
 * A user's month-to-date cost reached their monthly budget: no new run starts until the month ends
 * ({@code retryAfter} from now). Code {@code budget_exceeded}.
 */
public final class BudgetExceededException extends ChatException {
    private static final long serialVersionUID = 1L;
    private final transient Duration retryAfter;

    public BudgetExceededException(String message, Duration retryAfter) {
        super("budget_exceeded", message);
        this.retryAfter = Require.notNull(retryAfter, "retryAfter");
    }

    /** How long until the budget renews (the start of the next calendar month, UTC). */
    public Duration retryAfter() {
        return retryAfter;
    }
}
