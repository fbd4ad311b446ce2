package dev.parley.chat.port.out;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.in.RunStream;
import java.time.Duration;
import java.util.Optional;

/**
 * The pull form of a {@link RunEventBus} subscription ({@link RunEventBus#subscribe(dev.parley.chat.model.RunId, long)}):
 * a {@link RunStream}, built on the push subscription. Not thread-safe: one reader thread per subscription.
 */
public interface RunSubscription extends RunStream {

    /** {@code stream} as a bus hands it out. */
    static RunSubscription of(RunStream stream) {
        return new RunSubscription() {
            @Override
            public Optional<RunEvent> next(Duration timeout) throws InterruptedException {
                return stream.next(timeout);
            }

            @Override
            public boolean isFinished() {
                return stream.isFinished();
            }

            @Override
            public void close() {
                stream.close();
            }
        };
    }
}
