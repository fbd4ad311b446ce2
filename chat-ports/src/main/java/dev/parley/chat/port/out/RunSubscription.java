package dev.parley.chat.port.out;

import dev.parley.chat.port.in.RunStream;

/**
 * A reader of one run's events as a {@link RunEventBus} hands it out: a {@link RunStream}, which is
 * what the inbound port gives driving adapters. Not thread-safe: one reader thread per subscription.
 */
public interface RunSubscription extends RunStream {
}
