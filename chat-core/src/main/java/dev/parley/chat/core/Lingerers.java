package dev.parley.chat.core;

import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The deliveries that wait on their thread for their feed's next wake-up ({@link RunFeed}'s linger), let go
 * by a sweep a few times per linger instead of a timer per wait. A streaming run's feeds linger between any
 * two of its events, and a timed park per event scheduled a timer and cancelled it again each time; a
 * lingering delivery now parks untimed, on this queue once, and the sweep unparks those whose linger is over.
 *
 * <p>A feed is on the queue at most once: it puts itself there when it starts to linger unless it is there
 * already, and the sweep drops a feed that no longer lingers, then looks again ({@link RunFeed#dequeued}), so
 * that a feed that started to linger meanwhile is either kept by the sweep or puts itself back.
 */
final class Lingerers {
    private final ConcurrentLinkedQueue<RunFeed> queue = new ConcurrentLinkedQueue<>();

    void add(RunFeed feed) {
        queue.add(feed);
    }

    /** Unparks the lingering feeds whose linger is over (every one when {@code all}) and drops the others that stopped. */
    void sweep(boolean all) {
        long now = System.nanoTime();
        for (Iterator<RunFeed> it = queue.iterator(); it.hasNext(); ) {
            RunFeed feed = it.next();
            if (feed.lingering()) {
                if (all || feed.lingerOver(now)) {
                    feed.unparkDeliverer();
                }
            } else {
                it.remove();
                feed.dequeued();
            }
        }
    }

    /** How many feeds the queue holds (for tests). */
    int size() {
        return queue.size();
    }
}
