package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import org.junit.jupiter.api.Test;

/** The cache of verified tokens in {@link JwtAuthenticator}, against a clock the test moves. */
class JwtCacheTest {
    private static final Instant T0 = Instant.parse("2031-05-01T12:00:00Z");

    private final MovableClock clock = new MovableClock(T0);

    private JwtAuthenticator authenticator(int cacheSize) {
        return JwtAuthenticator.hs256(Tokens.SECRET).leeway(Duration.ofSeconds(30)).cacheSize(cacheSize).clock(clock).build();
    }

    private static String token(String user, Instant exp) {
        return Tokens.hs256(Tokens.SECRET, Tokens.claims(user).expirationTime(Date.from(exp)));
    }

    @Test
    void should_remember_a_verified_token_and_answer_its_subject_again() {
        JwtAuthenticator auth = authenticator(16);
        String alice = token("alice", T0.plusSeconds(600));

        assertThat(auth.authenticate(alice)).contains("alice");
        assertThat(auth.cachedTokens()).isEqualTo(1);
        assertThat(auth.authenticate(alice)).contains("alice");
        assertThat(auth.cachedTokens()).isEqualTo(1);
    }

    @Test
    void should_refuse_a_remembered_token_once_its_exp_plus_the_leeway_has_passed() {
        JwtAuthenticator auth = authenticator(16);
        String alice = token("alice", T0.plusSeconds(60));
        assertThat(auth.authenticate(alice)).contains("alice");

        clock.set(T0.plusSeconds(89));
        assertThat(auth.authenticate(alice)).as("within the leeway").contains("alice");

        clock.set(T0.plusSeconds(90));
        assertThat(auth.authenticate(alice)).as("exp + leeway reached").isEmpty();
        assertThat(auth.cachedTokens()).isZero();
        assertThat(auth.authenticate(alice)).as("and verified anew").isEmpty();
    }

    @Test
    void should_not_accept_a_token_before_its_nbf_and_remember_it_once_it_holds() {
        JwtAuthenticator auth = authenticator(16);
        String early = Tokens.hs256(Tokens.SECRET, Tokens.claims("alice")
                .notBeforeTime(Date.from(T0.plusSeconds(100))).expirationTime(Date.from(T0.plusSeconds(1000))));

        assertThat(auth.authenticate(early)).isEmpty();
        assertThat(auth.cachedTokens()).isZero();

        clock.set(T0.plusSeconds(71));
        assertThat(auth.authenticate(early)).contains("alice");
        assertThat(auth.cachedTokens()).isEqualTo(1);
    }

    @Test
    void should_never_remember_a_token_that_fails_verification() {
        JwtAuthenticator auth = authenticator(16);
        String good = token("alice", T0.plusSeconds(600));
        assertThat(auth.authenticate(good)).contains("alice");

        byte[] otherSecret = "another-secret-another-secret-another!!".getBytes();
        String wrongKey = Tokens.hs256(otherSecret, Tokens.claims("alice").expirationTime(Date.from(T0.plusSeconds(600))));
        String expired = token("alice", T0.minusSeconds(120));
        String tampered = good.substring(0, good.length() - 2) + (good.endsWith("AA") ? "BB" : "AA");
        for (String bad : new String[] {wrongKey, expired, tampered, "x" + good}) {
            assertThat(auth.authenticate(bad)).as(bad).isEmpty();
            assertThat(auth.authenticate(bad)).as("asked twice: " + bad).isEmpty();
        }
        assertThat(auth.cachedTokens()).as("only the good token").isEqualTo(1);
    }

    @Test
    void should_keep_at_most_cache_size_tokens() {
        JwtAuthenticator auth = authenticator(8);
        for (int i = 0; i < 100; i++) {
            String user = "user-" + i;
            assertThat(auth.authenticate(token(user, T0.plusSeconds(600)))).contains(user);
            assertThat(auth.cachedTokens()).isLessThanOrEqualTo(8);
        }
        String first = token("user-0", T0.plusSeconds(600));
        assertThat(auth.authenticate(first)).as("a token dropped from the cache is verified anew").contains("user-0");
    }

    @Test
    void should_drop_expired_tokens_first_when_the_cache_is_full() {
        JwtAuthenticator auth = authenticator(4);
        String longLived = token("keeper", T0.plusSeconds(6000));
        assertThat(auth.authenticate(longLived)).contains("keeper");
        for (int i = 0; i < 3; i++) {
            assertThat(auth.authenticate(token("brief-" + i, T0.plusSeconds(10)))).isPresent();
        }
        clock.set(T0.plusSeconds(60));
        assertThat(auth.authenticate(token("new", T0.plusSeconds(600)))).contains("new");

        assertThat(auth.cachedTokens()).isEqualTo(2);
    }

    @Test
    void should_verify_every_request_when_the_cache_is_off() {
        JwtAuthenticator auth = authenticator(0);
        String alice = token("alice", T0.plusSeconds(600));
        assertThat(auth.authenticate(alice)).contains("alice");
        assertThat(auth.authenticate(alice)).contains("alice");
        assertThat(auth.cachedTokens()).isZero();
    }

    @Test
    void should_refuse_a_cache_size_out_of_range() {
        assertThatThrownBy(() -> JwtAuthenticator.hs256(Tokens.SECRET).cacheSize(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> JwtAuthenticator.hs256(Tokens.SECRET).cacheSize(1_000_001))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** A clock that stands still until the test moves it. */
    private static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void set(Instant instant) {
            this.now = instant;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
