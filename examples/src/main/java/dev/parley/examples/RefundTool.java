package dev.parley.examples;

import dev.parley.chat.port.out.Schema;
import dev.parley.chat.port.out.Tool;

/**
 * The {@code refund} tool of the demo: pretends to refund an order ({@code {"order": "A-1"}}) and
 * answers {@code refunded order A-1}. Nothing is paid back; it exists to show a tool that needs a
 * person's approval of each call, which it requires. Thread-safe.
 */
public final class RefundTool {
    /** The tool's name, as the model calls it. */
    public static final String NAME = "refund";
    /** What a refund answers, before the order id. */
    static final String REFUNDED = "refunded order ";

    private RefundTool() {
    }

    public static Tool create() {
        return Tool.of(NAME,
                "Refunds an order in full. Each call waits for a person's approval.",
                Schema.object().string("order", "The order id, for example A-1").required("order"),
                ctx -> REFUNDED + ctx.args().string("order"))
                .requiringApproval();
    }
}
