package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.testsupport.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The PostgreSQL-backed rate limiter, as servers sharing a database use it: every limiter on the table draws from one bucket per user. */
class PostgresRateLimiterTest {
    private TestPostgres.Schema database;
    private DataSource dataSource;

    @BeforeEach
    void createSchema() {
        database = TestPostgres.freshSchema("ratelimit");
        dataSource = database.dataSource();
    }

    @AfterEach
    void dropSchema() {
        database.close();
    }

    private PostgresRateLimiter limiter(long capacity, Duration period) {
        return new PostgresRateLimiter(dataSource, PostgresRateLimiter.DEFAULT_TABLE, capacity, period);
    }

    @Test
    void should_share_one_bucket_per_user_between_two_limiters_on_one_table() {
        // given two servers' limiters of 5 requests an hour
        PostgresRateLimiter first = limiter(5, Duration.ofHours(1));
        PostgresRateLimiter second = limiter(5, Duration.ofHours(1));

        // when the user spends 3 on one and 2 on the other
        for (int i = 0; i < 3; i++) {
            assertThat(first.tryAcquire(ALICE)).isEmpty();
        }
        for (int i = 0; i < 2; i++) {
            assertThat(second.tryAcquire(ALICE)).isEmpty();
        }

        // then both refuse the next one, saying how long to wait, and other users are not affected
        OptionalLong retryFirst = first.tryAcquire(ALICE);
        OptionalLong retrySecond = second.tryAcquire(ALICE);
        assertThat(retryFirst).isPresent();
        assertThat(retryFirst.getAsLong()).isBetween(1L, 3600L);
        assertThat(retrySecond).isPresent();
        assertThat(first.tryAcquire(BOB)).isEmpty();
        assertThat(second.tryAcquire(BOB)).isEmpty();
    }

    @Test
    void should_allow_exactly_the_capacity_when_many_requests_race_on_two_limiters() throws Exception {
        // given
        PostgresRateLimiter first = limiter(40, Duration.ofHours(1));
        PostgresRateLimiter second = limiter(40, Duration.ofHours(1));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            // when 8 threads make 10 requests each, half through each limiter
            List<Future<Integer>> allowed = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                PostgresRateLimiter limiter = t % 2 == 0 ? first : second;
                allowed.add(pool.submit((Callable<Integer>) () -> {
                    int ok = 0;
                    for (int i = 0; i < 10; i++) {
                        ok += limiter.tryAcquire(ALICE).isEmpty() ? 1 : 0;
                    }
                    return ok;
                }));
            }
            int total = 0;
            for (Future<Integer> f : allowed) {
                total += f.get(TestServer.WAIT.toSeconds(), TimeUnit.SECONDS);
            }

            // then
            assertThat(total).isEqualTo(40);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void should_refill_the_bucket_over_its_period() {
        // given an emptied bucket of 2 per second (taken until refused: on a slow machine a token may come
        // back between two takes)
        PostgresRateLimiter limiter = limiter(2, Duration.ofSeconds(1));
        int taken = 0;
        while (limiter.tryAcquire(ALICE).isEmpty() && taken < 1_000) {
            taken++;
        }
        assertThat(taken).isBetween(2, 999);

        // then a request is allowed again once tokens came back
        TestServer.eventually("the bucket refilled", () -> limiter.tryAcquire(ALICE).isEmpty());
    }

    @Test
    void should_keep_long_or_odd_user_ids_apart() {
        PostgresRateLimiter limiter = limiter(1, Duration.ofHours(1));
        String longId = "x".repeat(5000);
        String oddId = "a\u0000b é";
        assertThat(limiter.tryAcquire(longId)).isEmpty();
        assertThat(limiter.tryAcquire(longId)).isPresent();
        assertThat(limiter.tryAcquire(longId + "y")).isEmpty();
        assertThat(limiter.tryAcquire(oddId)).isEmpty();
        assertThat(limiter.tryAcquire(oddId)).isPresent();
        assertThat(PostgresRateLimiter.key(longId)).hasSizeLessThan(255);
    }

    @Test
    void should_let_requests_through_when_the_table_cannot_be_used() {
        // given
        PostgresRateLimiter limiter = limiter(1, Duration.ofHours(1));
        assertThat(limiter.tryAcquire(ALICE)).isEmpty();
        assertThat(limiter.tryAcquire(ALICE)).isPresent();

        // when the table goes away
        database.run("DROP TABLE " + PostgresRateLimiter.DEFAULT_TABLE);

        // then
        assertThat(limiter.tryAcquire(ALICE)).isEmpty();
    }

    @Test
    void should_answer_429_on_a_second_server_once_the_first_spent_the_users_budget() {
        // given two API servers whose limiters share the table, 3 requests a minute
        try (TestServer one = TestServer.start(ScriptedChatModel.echo(), c -> c.rateLimiter(RateLimiter.postgresql(dataSource, 3)));
             TestServer two = TestServer.start(ScriptedChatModel.echo(), c -> c.rateLimiter(RateLimiter.postgresql(dataSource, 3)))) {
            // when
            assertThat(one.get(ALICE, "/api/v1/threads").status()).isEqualTo(200);
            assertThat(two.get(ALICE, "/api/v1/threads").status()).isEqualTo(200);
            assertThat(one.get(ALICE, "/api/v1/threads").status()).isEqualTo(200);
            var limited = two.get(ALICE, "/api/v1/threads");

            // then
            assertThat(limited.status()).isEqualTo(429);
            assertThat(limited.json().get("code").asText()).isEqualTo("rate_limited");
            assertThat(Long.parseLong(limited.header("Retry-After"))).isBetween(1L, 60L);
            assertThat(one.get(ALICE, "/api/v1/threads").status()).isEqualTo(429);
            assertThat(one.get(BOB, "/api/v1/threads").status()).isEqualTo(200);
        }
    }
}
