package dev.parley.chat.port.in;

import dev.parley.chat.model.ModelPrice;
import java.util.Optional;

/** What runs used and cost. Thread-safe. */
public interface UsageUseCases {

    /**
     * The usage report the caller asks for. Another user's usage ({@code userId}) and grouping by
     * user need the admin role ({@code forbidden} otherwise); a range that is empty, reversed or not
     * on whole hours is an InvalidRequestException naming {@code from} or {@code to}.
     */
    UsageReport usage(Caller caller, UsageQuery query);

    /** The price of {@code model}, or empty when it has none. */
    Optional<ModelPrice> price(String model);
}
