package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunObserver;
import dev.parley.chat.port.out.ServerLiveness;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A server ends the runs of a server that its store's liveness shows gone (no signal, a beat that
 * stood still for the grace) without waiting for their leases, and never those of a server that is
 * only slow or whose signal's session was cut. The other server is a fake: its run is written to the
 * shared store as it left it, and the store's liveness is a fake the test sets; the grace is measured
 * on the test's clock, which only the test moves.
 */
class LivenessTest {
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration GRACE = Duration.ofMillis(300);
    private static final String OTHER_SERVER = "other-server";
    private static final IdGenerator IDS = IdGenerator.timeOrdered();

    private final ChatStore database = InMemoryAdapters.store();
    private final FakeLiveness liveness = new FakeLiveness();
    private final ChatStore store = StoreViews.withLiveness(database, liveness);
    private final TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
    private final List<String> reaped = new CopyOnWriteArrayList<>();
    private final List<ChatHarness> servers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        servers.forEach(ChatHarness::close);
    }

    /** A live server sharing the store and the clock; its reaper passes every 20 ms, its liveness passes every 50 ms. */
    private ChatHarness liveServer() {
        RunObserver observer = new RunObserver() {
            @Override
            public void runReaped(Run ended, String cause) {
                reaped.add(ended.id() + " " + cause);
            }
        };
        ChatHarness server = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.clock(clock).instanceId("live-server").runLease(LEASE).reaperInterval(Duration.ofMillis(20))
                        .livenessGrace(GRACE).observer(observer));
        servers.add(server);
        return server;
    }

    @Test
    void should_end_the_run_of_a_server_seen_gone_as_interrupted_without_waiting_for_its_lease() {
        // given a run that streamed on the other server, whose signal is free and whose beat stands still
        Run run = aRunOfTheOtherServer("count to 100", "1 2");
        liveness.set(OTHER_SERVER, false, 7);
        ChatHarness live = liveServer();
        awaitPasses(2);

        // when the grace passed (the lease runs for another 29.7 s)
        clock.advance(GRACE);

        // then the run ended as a run whose lease expired does, its text kept, its stream ended
        eventually("the run is ended", () -> database.runs().find(run.id()).orElseThrow().isTerminal());
        Run ended = database.runs().find(run.id()).orElseThrow();
        assertThat(ended.status()).isEqualTo(RunStatus.FAILED);
        assertThat(ended.error().code()).isEqualTo("interrupted");
        assertThat(live.history(run.threadId())).extracting(Message::text).containsExactly("count to 100", "1 2");
        assertThat(live.history(run.threadId()).get(1).status()).isEqualTo(MessageStatus.INCOMPLETE);
        List<RunEvent> events = live.events(run.id());
        Events.assertWellFormed(events);
        assertThat(((RunEvent.Error) Events.last(events)).code()).isEqualTo("interrupted");
        // and it was told apart from a run whose lease expired
        eventually("the observer heard of it", () -> !reaped.isEmpty());
        assertThat(reaped).containsExactly(run.id() + " liveness");
        assertThat(liveness.expired).containsExactly(OTHER_SERVER + "@7");
    }

    @Test
    void should_keep_the_run_of_a_server_that_holds_its_signal_however_long_its_beat_stands_still() {
        // given a slow server: its beat stands still, its signal stays held
        Run run = aRunOfTheOtherServer("count to 100", "1 2");
        liveness.set(OTHER_SERVER, true, 7);
        liveServer();

        // when many graces pass, pass after pass, within its lease
        for (int i = 0; i < 5; i++) {
            awaitPasses(2);
            clock.advance(GRACE.multipliedBy(10));
        }
        awaitPasses(3);

        // then its run goes on
        assertThat(database.runs().find(run.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(liveness.expired).isEmpty();

        // and only its lease, once expired, ends it
        clock.advance(LEASE);
        eventually("the run is ended", () -> database.runs().find(run.id()).orElseThrow().isTerminal());
        eventually("the observer heard of it", () -> !reaped.isEmpty());
        assertThat(reaped).containsExactly(run.id() + " lease");
    }

    @Test
    void should_keep_the_run_of_a_server_whose_signal_is_free_while_it_beats() {
        // given a server whose signal's session was cut: no signal, but it beats between every two passes
        Run run = aRunOfTheOtherServer("count to 100", "1 2");
        liveness.set(OTHER_SERVER, false, 7);
        liveness.beatAtEveryLook(OTHER_SERVER);
        liveServer();

        // when many graces pass, pass after pass
        for (int i = 0; i < 5; i++) {
            awaitPasses(2);
            clock.advance(GRACE.multipliedBy(2));
        }
        awaitPasses(3);

        // then its run goes on
        assertThat(database.runs().find(run.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(liveness.expired).isEmpty();
    }

    @Test
    void should_judge_no_server_while_it_holds_no_signal_of_its_own() {
        // given a gone server, seen by a server whose own signal is not held
        Run run = aRunOfTheOtherServer("count to 100", "1 2");
        liveness.set(OTHER_SERVER, false, 7);
        liveness.ownHeld = false;
        liveServer();

        // when graces pass, pass after pass
        clock.advance(GRACE.multipliedBy(10));
        int checks = liveness.ownChecks.get();
        eventually("several passes", () -> liveness.ownChecks.get() >= checks + 5);

        // then it does not even look
        assertThat(liveness.looks.get()).isZero();
        assertThat(database.runs().find(run.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);

        // and once it holds its signal again, the grace counts from then
        liveness.ownHeld = true;
        awaitPasses(2);
        assertThat(database.runs().find(run.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
        clock.advance(GRACE);
        eventually("the run is ended", () -> database.runs().find(run.id()).orElseThrow().isTerminal());
    }

    @Test
    void should_end_no_run_for_a_lease_after_the_store_could_not_be_reached() {
        // given a gone server, and a store that does not answer the liveness check for a while
        Run run = aRunOfTheOtherServer("count to 100", "1 2");
        liveness.set(OTHER_SERVER, false, 7);
        liveness.unavailable = true;
        liveServer();
        awaitPasses(2);

        // when it answers again, and the grace passes
        liveness.unavailable = false;
        awaitPasses(2);
        clock.advance(GRACE);
        awaitPasses(3);

        // then nothing is ended yet: no server could beat meanwhile
        assertThat(database.runs().find(run.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);

        // and one lease later it is
        clock.advance(LEASE);
        eventually("the run is ended", () -> database.runs().find(run.id()).orElseThrow().isTerminal());
    }

    // ---- the other server's leftovers ----------------------------------------------------------

    /** A run the other server started and streamed {@code text} of, held under a lease that runs for {@link #LEASE}. */
    private Run aRunOfTheOtherServer(String question, String text) {
        ChatThread thread = ChatThread.create(ThreadId.next(IDS), ALICE, ChatHarness.AGENT, null, null, clock.instant());
        database.threads().insert(thread);
        Message asked = database.messages().append(new Message(MessageId.next(IDS), thread.id(), null, 0, Role.USER,
                List.of(ContentPart.text(question)), MessageStatus.COMPLETED, List.of(), null, null, clock.instant()));
        Run queued = Run.queued(RunId.next(IDS), thread.id(), ChatHarness.AGENT, null, asked.id(), clock.instant());
        database.runs().insert(queued);
        Run started = queued.started(clock.instant());
        assertThat(database.runs().start(started, OTHER_SERVER, clock.instant().plus(LEASE))).isTrue();
        database.events().append(List.of(
                new RunEvent.RunStarted(started.id(), 1, thread.id(), asked.id(), ChatHarness.AGENT),
                new RunEvent.Token(started.id(), 2, text)));
        liveness.runs.computeIfAbsent(OTHER_SERVER, o -> new CopyOnWriteArrayList<>()).add(started.id());
        return started;
    }

    /** Waits until the live server made {@code passes} more looks (after the first one). */
    private void awaitPasses(int passes) {
        eventually("the liveness watch looked", () -> liveness.looks.get() >= 1);
        int target = liveness.looks.get() + passes;
        eventually("the liveness watch looked " + passes + " more times", () -> liveness.looks.get() >= target);
    }

    /**
     * Liveness as the test sets it: the state of each other owner, the runs it holds in the store
     * underneath (whose leases {@link #expireLeases} moves), and whether this server holds its own signal.
     */
    private final class FakeLiveness implements ServerLiveness {
        final Map<String, OwnerState> states = new ConcurrentHashMap<>();
        final Map<String, List<RunId>> runs = new ConcurrentHashMap<>();
        final Map<String, Boolean> beating = new ConcurrentHashMap<>();
        final List<String> expired = new CopyOnWriteArrayList<>();
        final AtomicInteger looks = new AtomicInteger();
        final AtomicInteger ownChecks = new AtomicInteger();
        volatile boolean ownHeld = true;
        volatile boolean unavailable;

        void set(String owner, boolean held, long beat) {
            states.put(owner, new OwnerState(owner, held, beat));
        }

        /** The owner beats between every two looks. */
        void beatAtEveryLook(String owner) {
            beating.put(owner, true);
        }

        @Override
        public boolean isSupported() {
            return true;
        }

        @Override
        public Signal hold(String owner, Duration beatEvery) {
            return new Signal() {
                @Override
                public boolean isHeld() {
                    ownChecks.incrementAndGet();
                    return ownHeld;
                }

                @Override
                public long takes() {
                    return 1;
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public List<OwnerState> owners(Instant now) {
            looks.incrementAndGet();
            if (unavailable) {
                throw new StorageUnavailableException("The store is unavailable", null);
            }
            beating.keySet().forEach(o -> states.computeIfPresent(o, (k, s) -> new OwnerState(k, s.signalHeld(), s.beat() + 1)));
            List<OwnerState> owners = new ArrayList<>();
            for (OwnerState state : states.values()) {
                boolean leased = runs.getOrDefault(state.owner(), List.of()).stream().anyMatch(id -> {
                    Run run = database.runs().find(id).orElseThrow();
                    return run.status() == RunStatus.IN_PROGRESS && database.runs().leaseExpiresAt(id).orElseThrow().isAfter(now);
                });
                if (leased) {
                    owners.add(state);
                }
            }
            return owners;
        }

        @Override
        public List<RunId> expireLeases(String owner, long beat, Instant now) {
            OwnerState state = states.get(owner);
            if (state == null || state.signalHeld() || state.beat() != beat) {
                return List.of();
            }
            expired.add(owner + "@" + beat);
            List<RunId> moved = new ArrayList<>();
            for (RunId id : runs.getOrDefault(owner, List.of())) {
                if (database.runs().leaseExpiresAt(id).orElseThrow().isAfter(now) && database.runs().renewLease(id, owner, now)) {
                    moved.add(id);
                }
            }
            return moved;
        }
    }
}
