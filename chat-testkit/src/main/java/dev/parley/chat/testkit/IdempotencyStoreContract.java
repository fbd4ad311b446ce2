package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.anIdempotencyRecord;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.port.out.IdempotencyRecord;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link dev.parley.chat.port.out.IdempotencyStore}: extend it and implement
 * {@link #createStore()}. Records name runs stored in the same store.
 */
public abstract class IdempotencyStoreContract extends StoreContractSupport {
    protected ChatThread thread;
    protected Run run;

    @BeforeEach
    void givenARun() {
        thread = givenThread();
        Message question = givenMessage(thread);
        run = givenRun(aRun().onThread(thread).forMessage(question.id()));
    }

    @Test
    void should_find_an_inserted_record() {
        // given
        IdempotencyRecord record = anIdempotencyRecord().ownedBy("alice").inScope(thread.id().value())
                .withKey("req-🔑-" + Fixtures.COMBINING).withRequestHash("sha256:abc").forRun(run).createdAt(at(3)).build();

        // when
        store.idempotency().insert(record);

        // then
        assertThat(store.idempotency().find("alice", thread.id().value(), record.key())).contains(record);
    }

    @Test
    void should_keep_an_empty_scope_apart_from_thread_scopes() {
        // given
        IdempotencyRecord unscoped = anIdempotencyRecord().inScope("").forRun(run).build();
        IdempotencyRecord scoped = anIdempotencyRecord().inScope(thread.id().value()).withRequestHash("other").forRun(run).build();

        // when
        store.idempotency().insert(unscoped);
        store.idempotency().insert(scoped);

        // then
        assertThat(store.idempotency().find("alice", "", "key-1")).contains(unscoped);
        assertThat(store.idempotency().find("alice", thread.id().value(), "key-1")).contains(scoped);
    }

    @Test
    void should_find_nothing_for_another_owner_scope_or_key() {
        // given
        store.idempotency().insert(anIdempotencyRecord().ownedBy("alice").withKey("k").forRun(run).build());

        // when / then
        assertThat(store.idempotency().find("bob", "", "k")).isEmpty();
        assertThat(store.idempotency().find("alice", thread.id().value(), "k")).isEmpty();
        assertThat(store.idempotency().find("alice", "", "K")).isEmpty();
    }

    @Test
    void should_refuse_a_second_record_for_the_same_owner_scope_and_key() {
        // given
        IdempotencyRecord first = anIdempotencyRecord().forRun(run).build();
        store.idempotency().insert(first);

        // when / then
        assertThatThrownBy(() -> store.idempotency().insert(anIdempotencyRecord().withRequestHash("different").forRun(run).build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
        assertThat(store.idempotency().find("alice", "", "key-1")).contains(first);
    }

    @Test
    void should_accept_the_same_key_for_another_owner() {
        // given
        store.idempotency().insert(anIdempotencyRecord().ownedBy("alice").forRun(run).build());

        // when
        store.idempotency().insert(anIdempotencyRecord().ownedBy("bob").forRun(run).build());

        // then
        assertThat(store.idempotency().find("bob", "", "key-1")).isPresent();
    }

    @Test
    void should_let_exactly_one_of_racing_inserts_of_a_key_win() {
        // given
        int n = 8;

        // when
        List<Object> results = race(n, i -> {
            store.idempotency().insert(anIdempotencyRecord().withRequestHash("hash-" + i).forRun(run).build());
            return Boolean.TRUE;
        });

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(r -> !Boolean.TRUE.equals(r)).allSatisfy(r -> assertThat(r)
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE)));
    }

    @Test
    void should_delete_records_created_before_the_cutoff_only() {
        // given
        store.idempotency().insert(anIdempotencyRecord().withKey("old-1").forRun(run).createdAt(at(1)).build());
        store.idempotency().insert(anIdempotencyRecord().withKey("old-2").forRun(run).createdAt(at(9)).build());
        store.idempotency().insert(anIdempotencyRecord().withKey("at-cutoff").forRun(run).createdAt(at(10)).build());
        store.idempotency().insert(anIdempotencyRecord().withKey("new").forRun(run).createdAt(at(11)).build());

        // when
        int deleted = store.idempotency().deleteOlderThan(at(10));

        // then
        assertThat(deleted).isEqualTo(2);
        assertThat(store.idempotency().find("alice", "", "old-1")).isEmpty();
        assertThat(store.idempotency().find("alice", "", "old-2")).isEmpty();
        assertThat(store.idempotency().find("alice", "", "at-cutoff")).isPresent();
        assertThat(store.idempotency().find("alice", "", "new")).isPresent();
        assertThat(store.idempotency().deleteOlderThan(at(10))).isZero();
    }

    @Test
    void should_free_a_key_once_its_record_expired() {
        // given
        store.idempotency().insert(anIdempotencyRecord().forRun(run).createdAt(at(1)).build());
        store.idempotency().deleteOlderThan(at(2));

        // when
        IdempotencyRecord again = anIdempotencyRecord().withRequestHash("new").forRun(run).createdAt(at(3)).build();
        store.idempotency().insert(again);

        // then
        assertThat(store.idempotency().find("alice", "", "key-1")).contains(again);
    }
}
