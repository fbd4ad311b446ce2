package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.port.out.ServerLiveness.OwnerState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rule by which a server takes another for gone, pass after pass (times are the passes' clock). */
class GoneOwnersTest {
    private static final Duration GRACE = Duration.ofMillis(1500);
    private static final Instant T0 = Instant.parse("2026-01-05T10:00:00Z");

    private final GoneOwners judge = new GoneOwners(GRACE);

    @Test
    void should_take_an_owner_for_gone_once_its_signal_is_free_and_its_beat_stood_still_for_the_grace() {
        // given an owner seen beating, then seen without its signal, its beat where it was
        assertThat(judge.pass(List.of(held("a", 7)), T0)).isEmpty();
        assertThat(judge.pass(List.of(free("a", 8)), at(250))).isEmpty();

        // then it is not gone before the grace passed since its beat last moved
        assertThat(judge.pass(List.of(free("a", 8)), at(1700))).isEmpty();
        // and gone from then on
        assertThat(judge.pass(List.of(free("a", 8)), at(1750))).containsExactly(free("a", 8));
    }

    @Test
    void should_count_the_grace_from_the_first_pass_that_saw_the_beat_even_while_the_signal_was_held() {
        // given an owner whose beat stands still from T0 (its process died right after it beat)
        judge.pass(List.of(held("a", 7)), T0);
        judge.pass(List.of(held("a", 7)), at(1000));

        // when its signal is seen free
        List<OwnerState> gone = judge.pass(List.of(free("a", 7)), at(1500));

        // then it is gone at once: its beat stood still for the whole grace
        assertThat(gone).containsExactly(free("a", 7));
    }

    @Test
    void should_never_take_an_owner_that_holds_its_signal_for_gone_however_long_its_beat_stands_still() {
        // given a slow owner: its beat stands still, its signal stays held
        judge.pass(List.of(held("a", 7)), T0);

        // then it is never gone
        assertThat(judge.pass(List.of(held("a", 7)), at(10_000))).isEmpty();
        assertThat(judge.pass(List.of(held("a", 7)), at(3_600_000))).isEmpty();
    }

    @Test
    void should_never_take_an_owner_whose_beat_moves_for_gone_while_its_signal_is_free() {
        // given an owner whose session was cut: no signal, but it beats between every two passes
        for (int pass = 0; pass < 40; pass++) {
            // then it is never gone
            assertThat(judge.pass(List.of(free("a", pass)), at(250L * pass))).isEmpty();
        }
    }

    @Test
    void should_need_two_passes_however_late_the_first_one_comes() {
        // given an owner seen for the first time with its signal free
        assertThat(judge.pass(List.of(free("a", 7)), T0)).isEmpty();

        // then the grace counts from that pass
        assertThat(judge.pass(List.of(free("a", 7)), at(1499))).isEmpty();
        assertThat(judge.pass(List.of(free("a", 7)), at(1500))).hasSize(1);
    }

    @Test
    void should_start_over_after_forgetting() {
        // given an owner whose beat stood still for most of the grace
        judge.pass(List.of(free("a", 7)), T0);
        judge.pass(List.of(free("a", 7)), at(1000));

        // when this server forgets (its own pass failed, or it lost its own signal)
        judge.forget();

        // then the grace counts again from the next pass
        assertThat(judge.pass(List.of(free("a", 7)), at(1600))).isEmpty();
        assertThat(judge.pass(List.of(free("a", 7)), at(3000))).isEmpty();
        assertThat(judge.pass(List.of(free("a", 7)), at(3100))).hasSize(1);
    }

    @Test
    void should_start_over_for_an_owner_that_dropped_out_of_sight() {
        // given an owner seen, then not listed (it had no run in progress), then listed again
        judge.pass(List.of(free("a", 7)), T0);
        judge.pass(List.of(), at(1000));

        // then its grace counts from when it was seen again
        assertThat(judge.pass(List.of(free("a", 7)), at(2000))).isEmpty();
        assertThat(judge.pass(List.of(free("a", 7)), at(3500))).hasSize(1);
    }

    @Test
    void should_judge_each_owner_on_its_own() {
        judge.pass(List.of(free("gone", 1), held("slow", 1), free("cut", 1)), T0);

        List<OwnerState> gone = judge.pass(List.of(free("gone", 1), held("slow", 1), free("cut", 2)), at(2000));

        assertThat(gone).extracting(OwnerState::owner).containsExactly("gone");
    }

    private static OwnerState held(String owner, long beat) {
        return new OwnerState(owner, true, beat);
    }

    private static OwnerState free(String owner, long beat) {
        return new OwnerState(owner, false, beat);
    }

    private static Instant at(long millis) {
        return T0.plusMillis(millis);
    }
}
