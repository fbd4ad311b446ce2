package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Contract of {@link dev.parley.chat.port.out.JobLeases}: one holder of a job at a time. */
public abstract class JobLeasesContract extends StoreContractSupport {

    @Test
    void should_give_a_free_lease_to_the_first_and_refuse_the_others_until_it_expires() {
        assertThat(store.leases().tryAcquire("purge", "server-a", at(0), at(1000))).isTrue();
        assertThat(store.leases().tryAcquire("purge", "server-b", at(500), at(1500))).isFalse();
        assertThat(store.leases().tryAcquire("other", "server-b", at(500), at(1500))).isTrue();
        assertThat(store.leases().tryAcquire("purge", "server-b", at(1000), at(2000))).isTrue();
        assertThat(store.leases().tryAcquire("purge", "server-a", at(1100), at(2100))).isFalse();
    }

    @Test
    void should_let_the_holder_extend_its_lease_and_free_it() {
        assertThat(store.leases().tryAcquire("purge", "server-a", at(0), at(1000))).isTrue();
        assertThat(store.leases().tryAcquire("purge", "server-a", at(900), at(1900))).isTrue();
        assertThat(store.leases().tryAcquire("purge", "server-b", at(1500), at(2500))).isFalse();
        store.leases().release("purge", "server-b");
        assertThat(store.leases().tryAcquire("purge", "server-b", at(1500), at(2500))).isFalse();
        store.leases().release("purge", "server-a");
        assertThat(store.leases().tryAcquire("purge", "server-b", at(1500), at(2500))).isTrue();
    }

    @Test
    void should_give_a_free_lease_to_exactly_one_of_many_asking_at_once() {
        List<Object> results = race(8, i -> store.leases().tryAcquire("purge", "server-" + i, at(0), at(1000)));
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).allMatch(r -> r instanceof Boolean);
    }
}
