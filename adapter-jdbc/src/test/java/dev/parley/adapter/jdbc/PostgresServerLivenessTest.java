package dev.parley.adapter.jdbc;

import static dev.parley.chat.testkit.Fixtures.aMessage;
import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aThread;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.ServerLiveness;
import dev.parley.chat.port.out.ServerLiveness.OwnerState;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * What PostgreSQL's liveness does beyond the contract: a signal is the lock its row names, held by the
 * session its row names, so that neither another owner whose key collides nor another session holding
 * the same key counts for it; and a server that cannot take its signal back drops out of sight.
 */
class PostgresServerLivenessTest {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.postgres();
    private static final Duration BEAT = Duration.ofMillis(20);
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final Instant NOW = at(1_000);
    private static final Instant LEASE = at(60_000);

    private final List<AutoCloseable> closing = new ArrayList<>();
    private ChatStore store;

    @BeforeEach
    void emptyStore() {
        store = DB.freshStore();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    @Test
    void should_keep_apart_two_servers_whose_keys_collide() {
        // given two servers whose names give the same first key
        PgServerLiveness liveness = liveness((owner, probe) -> probe == 0 ? 42 : 1000 + owner.length() * 16 + probe, () -> true);
        givenRunInProgressOf("server-a");
        givenRunInProgressOf("server-bb");
        ServerLiveness.Signal a = hold(liveness, "server-a");
        ServerLiveness.Signal b = hold(liveness, "server-bb");

        // then both hold a signal of their own
        awaitTrue("both hold their signal", () -> a.isHeld() && b.isHeld());
        awaitTrue("both are seen holding it", () -> liveness.owners(NOW).stream().filter(OwnerState::signalHeld).count() == 2);

        // and when one stops, only it is seen without
        a.close();
        awaitTrue("the stopped one is seen without its signal", () -> owner(liveness, "server-a").map(o -> !o.signalHeld()).orElse(false));
        assertThat(owner(liveness, "server-bb")).map(OwnerState::signalHeld).contains(true);
    }

    @Test
    void should_not_count_a_lock_another_session_holds_on_the_same_key() throws Exception {
        // given another session that holds the lock a server would take first
        PgServerLiveness liveness = liveness((owner, probe) -> 7 + probe, () -> true);
        Connection other = DriverManager.getConnection(DB.url());
        closing.add(other);
        assertThat(tryLock(other, 7)).isTrue();
        givenRunInProgressOf("server-a");

        // when the server holds its signal
        ServerLiveness.Signal a = hold(liveness, "server-a");

        // then it took the next key, and it is its lock that counts
        awaitTrue("the signal is seen held", () -> owner(liveness, "server-a").map(OwnerState::signalHeld).orElse(false));
        assertThat(DB.queryLong("SELECT lock_key FROM parley_servers WHERE owner_id = 'server-a'")).isEqualTo(8);
        a.close();
        awaitTrue("the stopped server is seen without its signal",
                () -> owner(liveness, "server-a").map(o -> !o.signalHeld()).orElse(false));
        assertThat(tryLock(other, 7)).as("the other session still holds its lock").isTrue();
    }

    @Test
    void should_drop_a_server_that_cannot_take_its_signal_back_out_of_sight_while_it_beats_on() {
        // given a server whose signal's connection cannot be opened again once lost
        AtomicInteger opened = new AtomicInteger();
        PgServerLiveness liveness = liveness(null, () -> opened.incrementAndGet() == 1);
        givenRunInProgressOf("server-a");
        ServerLiveness.Signal a = hold(liveness, "server-a");
        awaitTrue("the signal is seen held", () -> owner(liveness, "server-a").map(OwnerState::signalHeld).orElse(false));

        // when its session is cut
        DB.queryLong("SELECT COUNT(pg_terminate_backend(backend_pid)) FROM parley_servers WHERE owner_id = 'server-a'");

        // then it is no longer listed: its runs are left to their leases
        awaitTrue("the server is out of sight", () -> owner(liveness, "server-a").isEmpty());
        assertThat(a.isHeld()).isFalse();
        assertThat(liveness.expireLeases("server-a", beat("server-a"), NOW)).isEmpty();
        // and it beats on
        long beat = beat("server-a");
        awaitTrue("it beats on", () -> beat("server-a") > beat);
    }

    @Test
    void should_give_up_the_signals_of_a_store_that_closes() {
        // given a server on a store of its own, with a run in progress
        JdbcChatStore own = JdbcChatStores.builder().url(DB.url()).maxPoolSize(2).migrate(false).build();
        closing.add(own);
        givenRunInProgressOf("server-a");
        own.liveness().hold("server-a", BEAT);
        awaitTrue("the signal is seen held", () -> owner(store.liveness(), "server-a").map(OwnerState::signalHeld).orElse(false));

        // when the store closes
        own.close();

        // then its signal is seen free (its run is left for the others to end)
        assertThat(owner(store.liveness(), "server-a")).map(OwnerState::signalHeld).contains(false);
    }

    // ------------------------------------------------------------------ helpers

    /** Liveness over the class's database; {@code keys} null for the default keys; a connection opens while {@code mayOpen}. */
    private PgServerLiveness liveness(PgServerLiveness.Keys keys, BooleanSupplier mayOpen) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(DB.url());
        Db db = new Db(ds, Dialect.POSTGRESQL, null, (hint, runId) -> { });
        PgRunSignals.Connector connector = () -> {
            if (!mayOpen.getAsBoolean()) {
                throw new SQLException("refused", "08001");
            }
            return DriverManager.getConnection(DB.url());
        };
        PgServerLiveness liveness = keys == null ? new PgServerLiveness(db, connector) : new PgServerLiveness(db, connector, keys);
        closing.add(liveness);
        return liveness;
    }

    private ServerLiveness.Signal hold(ServerLiveness liveness, String owner) {
        ServerLiveness.Signal signal = liveness.hold(owner, BEAT);
        closing.add(signal);
        return signal;
    }

    private void givenRunInProgressOf(String owner) {
        ChatThread thread = aThread().build();
        store.threads().insert(thread);
        Message question = store.messages().append(aMessage().inThread(thread).build());
        Run queued = aRun().onThread(thread).forMessage(question.id()).build();
        store.runs().insert(queued);
        assertThat(store.runs().start(queued.started(at(1)), owner, LEASE)).isTrue();
    }

    private static Optional<OwnerState> owner(ServerLiveness liveness, String owner) {
        return liveness.owners(NOW).stream().filter(o -> o.owner().equals(owner)).findFirst();
    }

    private static long beat(String owner) {
        return DB.queryLong("SELECT beat FROM parley_servers WHERE owner_id = '" + owner + "'");
    }

    private static boolean tryLock(Connection c, int key) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
            s.setInt(1, PgServerLiveness.LOCK_CLASS);
            s.setInt(2, key);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static void awaitTrue(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(10); // between two looks
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
