package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdsTest {

    @Test
    void should_make_prefixed_ids_that_sort_in_creation_order() {
        // given
        IdGenerator ids = IdGenerator.timeOrdered();
        List<String> made = new ArrayList<>();

        // when
        for (int i = 0; i < 20_000; i++) {
            made.add(ThreadId.next(ids).value());
        }

        // then
        assertThat(made).isSorted().doesNotHaveDuplicates();
        assertThat(made.get(0)).matches("thr_[0-9a-f]{32}");
        assertThat(made.get(0).charAt(4 + 12)).as("UUID version nibble").isEqualTo('7');
    }

    @Test
    void should_give_every_id_random_bits_of_its_own_in_the_rfc_variant() {
        // given
        IdGenerator ids = IdGenerator.timeOrdered();
        var tails = new HashSet<String>();

        // when: many draws of the generator's random buffer
        for (int i = 0; i < 20_000; i++) {
            String id = ids.next("msg");
            // then
            assertThat(id.charAt(4 + 16)).as("RFC 9562 variant nibble of %s", id).isIn('8', '9', 'a', 'b');
            tails.add(id.substring(4 + 17));
        }
        assertThat(tails).as("the 60 random bits after the variant nibble").hasSize(20_000);
    }

    @Test
    void should_make_ids_equal_by_their_value_alone() {
        IdGenerator ids = IdGenerator.timeOrdered();
        for (String value : List.of(ids.next("msg"), ids.next("thr"), ids.next("run"), ids.next("step"))) {
            Object a = id(value);
            Object same = id(new String(value.toCharArray()));
            Object other = id(ids.next(value.substring(0, value.indexOf('_'))));
            assertThat(a).isEqualTo(same).hasSameHashCodeAs(same).isNotEqualTo(other).isNotEqualTo(value).isNotEqualTo(null);
            assertThat(a.hashCode()).isEqualTo(value.hashCode());
        }
    }

    private static Object id(String value) {
        return switch (value.substring(0, value.indexOf('_'))) {
            case "msg" -> new MessageId(value);
            case "thr" -> new ThreadId(value);
            case "run" -> new RunId(value);
            default -> new StepId(value);
        };
    }

    @Test
    void should_stay_unique_when_many_threads_generate_at_once() throws InterruptedException {
        // given
        IdGenerator ids = IdGenerator.timeOrdered();
        var all = java.util.Collections.synchronizedSet(new HashSet<String>());
        List<java.lang.Thread> workers = new ArrayList<>();

        // when
        for (int t = 0; t < 4; t++) {
            java.lang.Thread w = new java.lang.Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    all.add(ids.next("run"));
                }
            });
            workers.add(w);
            w.start();
        }
        for (java.lang.Thread w : workers) {
            w.join();
        }

        // then
        assertThat(all).hasSize(20_000);
    }

    @Test
    void should_refuse_ids_that_cannot_exist() {
        assertThat(ThreadId.parse("run_0190")).isEmpty();
        assertThat(ThreadId.parse("thr_")).isEmpty();
        assertThat(ThreadId.parse("thr_../../etc/passwd")).isEmpty();
        assertThat(ThreadId.parse("thr_" + "a".repeat(5000))).isEmpty();
        assertThat(ThreadId.parse(null)).isEmpty();
        assertThat(ThreadId.parse("thr_abc123")).contains(new ThreadId("thr_abc123"));
        assertThatThrownBy(() -> new RunId("thr_abc")).isInstanceOf(IllegalArgumentException.class);
    }
}
