package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.port.out.ServerLiveness;
import dev.parley.chat.port.out.ServerLiveness.OwnerState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link dev.parley.chat.port.out.ChatStore#liveness()}.
 *
 * <p>A store that cannot tell ({@link ServerLiveness#none()}, such as the in-memory store and H2)
 * tells nothing: no signal is held, no owner is listed, no lease is moved; its servers' runs end by
 * their leases alone.
 *
 * <p>A store that can tell (PostgreSQL) lists the owners of runs in progress under a lease that holds
 * or held a signal, with whether they hold it now and their beat; a held signal is seen as held for as
 * long as its holder lives, however seldom it beats; a signal given up (its holder stopped) is seen
 * free and its beat stands still; a signal whose session was cut is taken again while the beat goes
 * on; and {@link ServerLiveness#expireLeases} moves leases only of an owner that holds no signal and
 * whose beat is the one given. Such a store's test implements {@link #cutSession}.
 */
public abstract class ServerLivenessContract extends StoreContractSupport {
    /** How often a test's signals beat. */
    protected static final Duration BEAT = Duration.ofMillis(20);
    /** How long a signal may take to be held, seen, or taken again: generous, as it crosses a network. */
    protected static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final Instant NOW = at(1_000);
    private static final Instant LEASE = at(60_000);

    private final List<ServerLiveness.Signal> signals = new ArrayList<>();

    /**
     * Ends the store session that holds {@code owner}'s signal, as an administrator
     * ({@code pg_terminate_backend}) or a network fault would, without stopping its holder. Only called
     * for a store that can tell.
     */
    protected void cutSession(String owner) {
        throw new UnsupportedOperationException("a store that can tell implements cutSession");
    }

    @AfterEach
    void closeSignals() {
        signals.forEach(ServerLiveness.Signal::close);
    }

    @Test
    void should_tell_nothing_when_it_cannot_tell() {
        assumeFalse(store.liveness().isSupported());
        // given
        ServerLiveness.Signal signal = hold("server-a", BEAT);
        Run run = givenRunInProgressOf("server-a");

        // then
        assertThat(signal.isHeld()).isFalse();
        assertThat(store.liveness().owners(NOW)).isEmpty();
        assertThat(store.liveness().expireLeases("server-a", 0, NOW)).isEmpty();
        assertThat(store.runs().leaseExpiresAt(run.id())).contains(LEASE);
    }

    @Test
    void should_see_a_server_that_holds_its_signal_and_beats() {
        assumeTrue(store.liveness().isSupported());
        // given
        givenRunInProgressOf("server-a");

        // when
        ServerLiveness.Signal signal = hold("server-a", BEAT);

        // then
        awaitTrue("the signal is held", signal::isHeld);
        assertThat(signal.takes()).isEqualTo(1);
        OwnerState first = awaitOwner("server-a", OwnerState::signalHeld);
        OwnerState later = awaitOwner("server-a", o -> o.beat() > first.beat());
        assertThat(later.signalHeld()).isTrue();
    }

    @Test
    void should_see_a_signal_held_however_seldom_its_holder_beats() {
        assumeTrue(store.liveness().isSupported());
        // given a server that beat once, then not for an hour (it is only slow)
        givenRunInProgressOf("server-a");
        ServerLiveness.Signal signal = hold("server-a", Duration.ofHours(1));
        awaitTrue("the signal is held", signal::isHeld);
        OwnerState seen = awaitOwner("server-a", OwnerState::signalHeld);

        // when another server asks to end its runs at the beat it saw
        var expired = store.liveness().expireLeases("server-a", seen.beat(), NOW);

        // then nothing moves: it holds its signal
        assertThat(expired).isEmpty();
        assertThat(owner("server-a")).map(OwnerState::signalHeld).contains(true);
    }

    @Test
    void should_list_only_owners_of_runs_in_progress_under_a_lease_that_runs_past_now() {
        assumeTrue(store.liveness().isSupported());
        // given a server without runs and a server whose run's lease expired
        ServerLiveness.Signal idle = hold("server-idle", BEAT);
        ServerLiveness.Signal expired = hold("server-expired", BEAT);
        ChatThread thread = givenThread();
        Message question = givenMessage(thread);
        Run run = givenRun(aRun().onThread(thread).forMessage(question.id()));
        assertThat(store.runs().start(run.started(at(1)), "server-expired", at(500))).isTrue();
        awaitTrue("the signals are held", () -> idle.isHeld() && expired.isHeld());

        // then neither is listed
        assertThat(store.liveness().owners(NOW)).isEmpty();
    }

    @Test
    void should_leave_out_an_owner_that_never_held_a_signal() {
        assumeTrue(store.liveness().isSupported());
        // given a run of a server that holds no signal (it runs without one), beside one that does
        givenRunInProgressOf("server-without-signal");
        givenRunInProgressOf("server-a");
        ServerLiveness.Signal signal = hold("server-a", BEAT);
        awaitTrue("the signal is held", signal::isHeld);

        // then only the latter is listed: the former's runs end by their leases
        awaitOwner("server-a", OwnerState::signalHeld);
        assertThat(store.liveness().owners(NOW)).extracting(OwnerState::owner).containsExactly("server-a");
        assertThat(store.liveness().expireLeases("server-without-signal", 0, NOW)).isEmpty();
    }

    @Test
    void should_see_the_signal_of_a_server_that_stopped_free_and_its_beat_stand_still() throws Exception {
        assumeTrue(store.liveness().isSupported());
        // given a server with a run in progress
        givenRunInProgressOf("server-a");
        ServerLiveness.Signal signal = hold("server-a", BEAT);
        awaitOwner("server-a", OwnerState::signalHeld);

        // when it stops without ending its run
        signal.close();

        // then its signal is free and its beat no longer moves
        OwnerState stopped = awaitOwner("server-a", o -> !o.signalHeld());
        TimeUnit.MILLISECONDS.sleep(BEAT.toMillis() * 5); // several beats, had it gone on
        assertThat(owner("server-a")).contains(stopped);
    }

    @Test
    void should_expire_the_leases_of_a_server_that_stopped_only_at_the_beat_last_seen() {
        assumeTrue(store.liveness().isSupported());
        // given a stopped server with a run in progress, and another server's run
        Run run = givenRunInProgressOf("server-a");
        Run otherRun = givenRunInProgressOf("server-b");
        ServerLiveness.Signal a = hold("server-a", BEAT);
        ServerLiveness.Signal b = hold("server-b", BEAT);
        awaitTrue("the signals are held", () -> a.isHeld() && b.isHeld());
        a.close();
        OwnerState stopped = awaitOwner("server-a", o -> !o.signalHeld());

        // when another server asks at a beat it saw earlier
        assertThat(store.liveness().expireLeases("server-a", stopped.beat() - 1, NOW)).isEmpty();
        assertThat(store.runs().leaseExpiresAt(run.id())).contains(LEASE);

        // and at the beat where it stands
        var expired = store.liveness().expireLeases("server-a", stopped.beat(), NOW);

        // then its run's lease expired now, and only its
        assertThat(expired).containsExactly(run.id());
        assertThat(store.runs().leaseExpiresAt(run.id())).contains(NOW);
        assertThat(store.runs().expiredLeases(NOW, 10)).extracting(Run::id).containsExactly(run.id());
        assertThat(store.runs().leaseExpiresAt(otherRun.id())).contains(LEASE);
        assertThat(store.liveness().owners(NOW)).extracting(OwnerState::owner).containsExactly("server-b");
    }

    @Test
    void should_take_its_signal_back_after_its_session_was_cut_and_beat_on_meanwhile() {
        assumeTrue(store.liveness().isSupported());
        // given
        givenRunInProgressOf("server-a");
        ServerLiveness.Signal signal = hold("server-a", BEAT);
        OwnerState before = awaitOwner("server-a", OwnerState::signalHeld);

        // when its session is cut
        cutSession("server-a");

        // then it takes its signal again, on a new session, and its beat went on
        awaitTrue("the signal is taken again", () -> signal.takes() >= 2 && signal.isHeld());
        OwnerState after = awaitOwner("server-a", o -> o.signalHeld() && o.beat() > before.beat());
        assertThat(store.liveness().expireLeases("server-a", after.beat(), NOW)).isEmpty();
    }

    @Test
    void should_forget_a_server_that_stopped_without_runs() {
        assumeTrue(store.liveness().isSupported());
        // given a server that stopped while it had no run
        ServerLiveness.Signal signal = hold("server-a", BEAT);
        awaitTrue("the signal is held", signal::isHeld);
        signal.close();

        // when a run of that name is in progress afterwards (a server that runs without a signal)
        givenRunInProgressOf("server-a");

        // then it is not listed: nothing it held says anything about it
        assertThat(store.liveness().owners(NOW)).isEmpty();
    }

    // ------------------------------------------------------------------ helpers

    private ServerLiveness.Signal hold(String owner, Duration beatEvery) {
        ServerLiveness.Signal signal = store.liveness().hold(owner, beatEvery);
        signals.add(signal);
        return signal;
    }

    /** A run in progress on a thread of its own, held by {@code owner} under a lease until {@link #LEASE}. */
    protected Run givenRunInProgressOf(String owner) {
        return givenRunStartedOnNewThread(owner, LEASE);
    }

    private Optional<OwnerState> owner(String owner) {
        return store.liveness().owners(NOW).stream().filter(o -> o.owner().equals(owner)).findFirst();
    }

    /** The owner as listed once {@code condition} holds for it; fails after {@link #DEADLINE}. */
    private OwnerState awaitOwner(String owner, java.util.function.Predicate<OwnerState> condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            Optional<OwnerState> seen = owner(owner);
            if (seen.isPresent() && condition.test(seen.get())) {
                return seen.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + owner + "; last seen: " + seen);
            }
            pause();
        }
    }

    private static void awaitTrue(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            pause();
        }
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(10); // between two looks
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
