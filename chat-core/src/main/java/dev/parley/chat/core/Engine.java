package dev.parley.chat.core;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/** What every run needs from its service: the ports, time, ids, prices and where tools run. */
record Engine(ChatStore store, RunEventBus bus, ChatModel model, Clock clock, IdGenerator ids,
              Map<String, ModelPrice> prices, ExecutorService toolExecutor) {

    Instant now() {
        return clock.instant();
    }

    /** The cost of {@code usage} on {@code model}, or null when the model has no price. */
    BigDecimal cost(String model, Usage usage) {
        ModelPrice price = model == null ? null : prices.get(model);
        return price == null ? null : price.cost(usage);
    }

    /** Moves the thread's {@code updatedAt} on, when it still exists. */
    void touchThread(ThreadId threadId, Instant now) {
        Optional<ChatThread> thread = store.threads().find(threadId);
        thread.ifPresent(t -> store.threads().update(t.touched(now)));
    }
}
