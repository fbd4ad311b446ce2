package dev.parley.chat.port.in;

/**
 * A send and the run it started, waited for: what {@link ChatUseCases#sendAndAwait} returns. {@code outcome}
 * is what {@link RunUseCases#await} would have returned for the run of {@code receipt}.
 */
public record AwaitedSend(SendReceipt receipt, RunOutcome outcome) {
}
