package dev.parley.examples;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.testsupport.TestPostgres;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The stores a test runs on, one each: {@code memory}, {@code h2} (an in-memory H2 database) and
 * {@code postgres} (a fresh schema); everything opened is closed with it, the last opened first.
 */
final class EveryStore implements AutoCloseable {
    private final List<AutoCloseable> resources = new ArrayList<>();

    /** A new store of that kind; {@code name} tells its database from other tests'. */
    ChatStore open(String store, String name) {
        return switch (store) {
            case "memory" -> InMemoryAdapters.store();
            case "h2" -> track(JdbcChatStores.create("jdbc:h2:mem:" + name + "-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", ""));
            case "postgres" -> {
                TestPostgres.Schema schema = track(TestPostgres.freshSchema(name.replace('-', '_')));
                yield track(JdbcChatStores.create(schema.url()));
            }
            default -> throw new IllegalArgumentException(store);
        };
    }

    <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        resources.clear();
    }
}
