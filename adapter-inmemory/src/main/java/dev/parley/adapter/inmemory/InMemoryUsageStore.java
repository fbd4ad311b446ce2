package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.model.UsageTotals;
import dev.parley.chat.port.out.UsageStore;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The usage ledger of an {@link InMemoryChatStore}: per owner and hour, the totals of the runs that
 * ended then, by agent, model and thread; and the thread totals. Kept under the store's lock.
 */
final class InMemoryUsageStore implements UsageStore {
    private final InMemoryChatStore db;
    /** Owner → hour → (agent, model, thread) → totals. */
    private final Map<String, NavigableMap<Instant, Map<Key, UsageTotals>>> ledger = new HashMap<>();

    private record Key(String agentId, String model, String threadId) {}

    InMemoryUsageStore(InMemoryChatStore db) {
        this.db = db;
    }

    /** Counts a run that just ended, in its thread's totals and in the ledger; lock held. */
    void record(Run run) {
        ChatThread thread = db.threads.get(run.threadId());
        if (thread == null) {
            return;
        }
        UsageTotals used = UsageTotals.ofRun(run.usage(), run.costUsd());
        db.putThread(thread.withUsage(thread.usage().plus(used)));
        NavigableMap<Instant, Map<Key, UsageTotals>> hours = ledger.get(thread.ownerId());
        if (hours == null) {
            hours = new TreeMap<>();
            db.put(ledger, thread.ownerId(), hours);
        }
        Instant hour = run.completedAt().truncatedTo(ChronoUnit.HOURS);
        Map<Key, UsageTotals> keys = hours.get(hour);
        if (keys == null) {
            keys = new HashMap<>();
            db.put(hours, hour, keys);
        }
        Key key = new Key(run.agentId(), run.model() == null ? "" : run.model(), run.threadId().value());
        UsageTotals before = keys.get(key);
        db.put(keys, key, before == null ? used : before.plus(used));
    }

    @Override
    public List<UsageRow> usage(String ownerId, Instant from, Instant to, UsageGroup groupBy) {
        Require.notNull(from, "from");
        Require.notNull(to, "to");
        Require.notNull(groupBy, "groupBy");
        return db.locked(() -> {
            TreeMap<String, UsageTotals> groups = new TreeMap<>();
            for (Map.Entry<String, NavigableMap<Instant, Map<Key, UsageTotals>>> owner : ledger.entrySet()) {
                if (ownerId != null && !ownerId.equals(owner.getKey())) {
                    continue;
                }
                for (Map.Entry<Instant, Map<Key, UsageTotals>> hour : owner.getValue().subMap(from, true, to, false).entrySet()) {
                    for (Map.Entry<Key, UsageTotals> e : hour.getValue().entrySet()) {
                        String group = switch (groupBy) {
                            case DAY -> hour.getKey().atOffset(ZoneOffset.UTC).toLocalDate().toString();
                            case AGENT -> e.getKey().agentId();
                            case MODEL -> e.getKey().model();
                            case THREAD -> e.getKey().threadId();
                            case USER -> owner.getKey();
                        };
                        groups.merge(group, e.getValue(), UsageTotals::plus);
                    }
                }
            }
            List<UsageRow> rows = new ArrayList<>();
            groups.forEach((group, totals) -> rows.add(new UsageRow(group, totals)));
            return rows;
        });
    }
}
