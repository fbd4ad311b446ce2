package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who may do what, over HTTP and the WebSocket: another user's ids on every id-scoped route and
 * frame (404 or an error frame, and nothing changes), every kind of bad token, browser origins,
 * the authentication timeout and per-user rate limits.
 */
class AccessControlTest {
    private static final String ISSUER = "https://id.example";
    private static final String AUDIENCE = "parley";
    private static final KeyPair RSA = Tokens.rsaKeys();

    @RegisterExtension
    static final ResponseSweep sweep = new ResponseSweep();

    // ---- ownership -------------------------------------------------------------------------------

    @Test
    void should_not_let_a_user_reach_another_users_run_through_their_own_thread() {
        // given Alice's finished run, and a thread of Bob's
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String aliceThread = server.newThread(ALICE);
        String aliceRun = server.chat(ALICE, aliceThread, "private").get("run_id").asText();
        String bobThread = server.newThread(BOB);
        String[][] routes = {
                {"GET", "/api/v1/threads/{thread_id}/runs/{run_id}"},
                {"POST", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel"},
                {"GET", "/api/v1/threads/{thread_id}/runs/{run_id}/events"}};
        for (String[] route : routes) {
            // when Bob names his own thread with Alice's run
            var r = server.request(route[0], route[1], bobThread, aliceRun).as(BOB).send();
            // then
            assertThat(r.status()).as(route[0] + " " + route[1]).isEqualTo(404);
            assertThat(r.json().get("code").asText()).isEqualTo("run_not_found");
        }
        // and Alice cannot mix her own thread with a run of another of her threads either
        String otherAliceThread = server.newThread(ALICE);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", otherAliceThread, aliceRun).status()).isEqualTo(404);
        assertThat(server.get(BOB, "/api/v1/threads/{thread_id}/runs", bobThread).json().get("data")).isEmpty();
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", aliceThread, aliceRun)
                .json().get("status").asText()).isEqualTo("completed");
    }

    @Test
    void should_keep_idempotency_keys_apart_per_user() {
        // given Alice sent with a key
        TestServer server = sweep.start(ScriptedChatModel.echo());
        var alice = server.request("POST", "/api/v1/chat").as(ALICE).header("Idempotency-Key", "same-key")
                .json("{\"message\":\"alice's secret\"}").send();
        assertThat(alice.status()).isEqualTo(200);

        // when Bob sends the same body with the same key
        var bob = server.request("POST", "/api/v1/chat").as(BOB).header("Idempotency-Key", "same-key")
                .json("{\"message\":\"alice's secret\"}").send();

        // then Bob gets a run of his own, not a replay of Alice's
        assertThat(bob.status()).isEqualTo(200);
        assertThat(bob.json().get("run_id").asText()).isNotEqualTo(alice.json().get("run_id").asText());
        assertThat(bob.json().get("thread_id").asText()).isNotEqualTo(alice.json().get("thread_id").asText());
        assertThat(server.get(BOB, "/api/v1/threads").json().get("data")).hasSize(1);
    }

    @Test
    void should_answer_an_error_frame_and_change_nothing_when_a_socket_chats_on_another_users_thread() throws Exception {
        // given Alice's run is in progress on her thread
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("alice's answer").build();
        TestServer server = sweep.start(model);
        String thread = server.newThread(ALICE);
        try (WsClient alice = authenticated(server, ALICE); WsClient bob = authenticated(server, BOB)) {
            alice.send("{\"type\":\"chat\",\"request_id\":\"a1\",\"thread_id\":\"" + thread + "\",\"message\":\"mine\"}");
            String run = alice.until("run_started").get(0).get("run_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();

            // when Bob chats on it (a WebSocket chat interrupts the thread's active run for its owner)
            bob.send("{\"type\":\"chat\",\"request_id\":\"b1\",\"thread_id\":\"" + thread + "\",\"message\":\"hijack\"}");

            // then Bob gets an error frame, and Alice's run goes on untouched
            JsonNode error = bob.next();
            assertThat(error.get("type").asText()).isEqualTo("error");
            assertThat(error.get("code").asText()).isEqualTo("thread_not_found");
            assertThat(error.get("request_id").asText()).isEqualTo("b1");
            assertThat(runStatus(server, thread, run)).isEqualTo("in_progress");
            model.release();
            assertThat(alice.until("done", "cancelled", "error").get(0)).isNotNull();
            assertThat(texts(server, thread)).containsExactly("user:mine", "assistant:alice's answer");
            assertNothingElseFor(bob);
        }
    }

    @Test
    void should_answer_an_error_frame_and_keep_the_run_when_a_socket_cancels_another_users_run() throws Exception {
        // given Alice's run is in progress
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("still mine").build();
        TestServer server = sweep.start(model);
        String aliceThread = server.newThread(ALICE);
        String bobThread = server.newThread(BOB);
        try (WsClient alice = authenticated(server, ALICE); WsClient bob = authenticated(server, BOB)) {
            alice.send("{\"type\":\"chat\",\"thread_id\":\"" + aliceThread + "\",\"message\":\"q\"}");
            String run = alice.until("run_started").get(0).get("run_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();
            Map<String, String> attempts = new LinkedHashMap<>();
            attempts.put("{\"type\":\"cancel\",\"request_id\":\"c1\",\"run_id\":\"" + run + "\"}", "run_not_found");
            attempts.put("{\"type\":\"cancel\",\"request_id\":\"c2\",\"run_id\":\"" + run + "\",\"thread_id\":\"" + aliceThread + "\"}",
                    "thread_not_found");
            attempts.put("{\"type\":\"cancel\",\"request_id\":\"c3\",\"run_id\":\"" + run + "\",\"thread_id\":\"" + bobThread + "\"}",
                    "run_not_found");
            attempts.put("{\"type\":\"cancel\",\"request_id\":\"c4\"}", "no_active_run");
            for (Map.Entry<String, String> attempt : attempts.entrySet()) {
                // when
                bob.send(attempt.getKey());
                // then
                JsonNode error = bob.next();
                assertThat(error.get("type").asText()).as(attempt.getKey()).isEqualTo("error");
                assertThat(error.get("code").asText()).as(attempt.getKey()).isEqualTo(attempt.getValue());
                assertThat(runStatus(server, aliceThread, run)).isEqualTo("in_progress");
            }
            // and over HTTP
            assertThat(server.delete(BOB, "/api/v1/threads/{thread_id}/chat", aliceThread).status()).isEqualTo(404);
            assertThat(server.post(BOB, "{}", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", bobThread, run).status())
                    .isEqualTo(404);
            assertThat(runStatus(server, aliceThread, run)).isEqualTo("in_progress");
            model.release();
            List<JsonNode> rest = alice.until("done", "cancelled", "error");
            assertThat(rest.get(rest.size() - 1).get("type").asText()).isEqualTo("done");
            assertNothingElseFor(bob);
        }
    }

    // ---- tokens --------------------------------------------------------------------------------

    @Test
    void should_refuse_every_bad_token_with_401_on_every_user_route_and_4401_on_the_websocket() {
        // given a server that trusts one RSA key, one issuer and one audience
        TestServer server = sweep.start(ScriptedChatModel.echo(), rsaOnly());
        String good = Tokens.rs256(RSA, claims(ALICE));
        assertThat(server.request("GET", "/api/v1/threads").header("Authorization", "Bearer " + good).send().status()).isEqualTo(200);

        for (Map.Entry<String, String> bad : badTokens().entrySet()) {
            // when: HTTP
            for (String[] route : new String[][] {{"GET", "/api/v1/threads"}, {"POST", "/api/v1/chat"}, {"POST", "/api/v1/threads"}}) {
                var request = server.request(route[0], route[1]).header("Authorization", "Bearer " + bad.getValue());
                if (route[0].equals("POST")) {
                    request.json("{\"message\":\"hi\"}");
                }
                var r = request.send();
                // then
                assertThat(r.status()).as(bad.getKey() + " on " + route[1]).isEqualTo(401);
                assertThat(r.json().get("code").asText()).isEqualTo("unauthorized");
                assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
            }
            // when: WebSocket auth frame
            try (WsClient ws = WsClient.connect(server, Map.of())) {
                ws.send("{\"type\":\"auth\",\"token\":" + TestServer.quote(bad.getValue()) + "}");
                assertThat(ws.next().get("code").asText()).as(bad.getKey()).isEqualTo("unauthorized");
                assertThat(ws.closeCode()).as(bad.getKey()).isEqualTo(WsEndpoint.CLOSE_UNAUTHORIZED);
            }
        }
        // and nothing was created by anyone
        assertThat(server.request("GET", "/api/v1/threads").header("Authorization", "Bearer " + good).send()
                .json().get("data")).isEmpty();
    }

    @Test
    void should_close_a_websocket_whose_authorization_header_is_bad() {
        TestServer server = sweep.start(ScriptedChatModel.echo(), rsaOnly());
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.unsigned(claims(ALICE))))) {
            assertThat(ws.next().get("code").asText()).isEqualTo("unauthorized");
            assertThat(ws.closeCode()).isEqualTo(WsEndpoint.CLOSE_UNAUTHORIZED);
        }
    }

    private static UnaryOperator<ParleyHttp.Config.Builder> rsaOnly() {
        Authenticator rsa = JwtAuthenticator.publicKey(RSA.getPublic()).issuer(ISSUER).audience(AUDIENCE).build();
        return c -> new ParleyHttp.Config.Builder(c.build().chat(), rsa).rateLimitPerMinute(100_000);
    }

    private static JWTClaimsSet.Builder claims(String user) {
        return Tokens.claims(user).issuer(ISSUER).audience(AUDIENCE);
    }

    /** Tokens the RSA-only server must refuse, by what is wrong with them. */
    private static Map<String, String> badTokens() {
        Map<String, String> bad = new LinkedHashMap<>();
        byte[] publicDer = RSA.getPublic().getEncoded();
        String publicPem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(publicDer) + "\n-----END PUBLIC KEY-----\n";
        KeyPair attacker = Tokens.rsaKeys();
        bad.put("alg none", Tokens.unsigned(claims(ALICE)));
        bad.put("alg none, upper case", unsecured("{\"alg\":\"NONE\"}", claims(ALICE)));
        bad.put("HS256 keyed with the public key's DER", Tokens.sign(new JWSHeader(JWSAlgorithm.HS256), mac(publicDer), claims(ALICE)));
        bad.put("HS256 keyed with the public key's PEM", Tokens.sign(new JWSHeader(JWSAlgorithm.HS256),
                mac(publicPem.getBytes(StandardCharsets.US_ASCII)), claims(ALICE)));
        bad.put("HS256 with a shared secret", Tokens.hs256(Tokens.SECRET, claims(ALICE)));
        bad.put("signed by another key", Tokens.rs256(attacker, claims(ALICE)));
        bad.put("another key embedded as jwk", Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .jwk(new RSAKey.Builder((RSAPublicKey) attacker.getPublic()).build()).build(),
                new com.nimbusds.jose.crypto.RSASSASigner(attacker.getPrivate()), claims(ALICE)));
        bad.put("kid pointing outside", Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("../../../etc/passwd")
                .type(JOSEObjectType.JWT).build(), new com.nimbusds.jose.crypto.RSASSASigner(attacker.getPrivate()), claims(ALICE)));
        bad.put("tampered subject", tamper(Tokens.rs256(RSA, claims(ALICE))));
        bad.put("signature stripped", strip(Tokens.rs256(RSA, claims(ALICE))));
        bad.put("wrong issuer", Tokens.rs256(RSA, claims(ALICE).issuer("https://evil.example")));
        bad.put("no issuer", Tokens.rs256(RSA, claims(ALICE).issuer(null)));
        bad.put("wrong audience", Tokens.rs256(RSA, claims(ALICE).audience("someone-else")));
        bad.put("no audience", Tokens.rs256(RSA, claims(ALICE).audience((String) null)));
        bad.put("expired beyond the leeway", Tokens.rs256(RSA, claims(ALICE).expirationTime(Date.from(Instant.now().minusSeconds(120)))));
        bad.put("not valid for minutes", Tokens.rs256(RSA, claims(ALICE).notBeforeTime(Date.from(Instant.now().plusSeconds(600)))));
        bad.put("no expiry", Tokens.rs256(RSA, claims(ALICE).expirationTime(null)));
        bad.put("no subject", Tokens.rs256(RSA, claims(ALICE).subject(null)));
        bad.put("garbage", "garbage");
        bad.put("three empty parts", "..");
        bad.put("five parts", "a.b.c.d.e");
        bad.put("bad base64", "!!!.@@@.###");
        bad.put("json header but no payload", b64("{\"alg\":\"RS256\"}") + ".." + b64("x"));
        bad.put("long", "a".repeat(2000) + "." + "b".repeat(2000) + "." + "c".repeat(2000));
        return bad;
    }

    private static MACSigner mac(byte[] key) {
        try {
            return new MACSigner(key);
        } catch (com.nimbusds.jose.KeyLengthException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String unsecured(String header, JWTClaimsSet.Builder claims) {
        return b64(header) + "." + b64(claims.build().toString()) + ".";
    }

    private static String tamper(String token) {
        String[] parts = token.split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace(ALICE, "admin");
        return parts[0] + "." + b64(payload) + "." + parts[2];
    }

    private static String strip(String token) {
        return token.substring(0, token.lastIndexOf('.') + 1);
    }

    // ---- WebSocket origin and authentication timeout ---------------------------------------------------

    @Test
    void should_refuse_the_upgrade_from_origins_that_only_look_allowed() {
        TestServer server = sweep.start(ScriptedChatModel.echo(), c -> c.webSocketOrigins("https://app.example"));
        for (String origin : List.of("https://evil.example", "null", "https://app.example.evil.example", "http://app.example",
                "https://app.example:8443", "https://evil.example/https://app.example", "https://app.example@evil.example", "file://")) {
            assertThatThrownBy(() -> WsClient.connect(server, Map.of("Origin", origin))).as(origin)
                    .isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(WebSocketHandshakeException.class)
                    .satisfies(e -> {
                        var response = ((WebSocketHandshakeException) e.getCause()).getResponse();
                        assertThat(response.statusCode()).isEqualTo(403);
                        sweep.saw("http 403 " + response.headers().firstValue("Content-Type").orElse("") + "\n" + response.body());
                    });
        }
        server.contract.record("GET", "/api/v1/ws", 403);
    }

    @Test
    void should_close_a_socket_that_never_authenticates_even_while_it_keeps_talking() {
        // given
        TestServer server = sweep.start(ScriptedChatModel.echo(), c -> c.webSocketAuthTimeout(Duration.ofMillis(500)));
        try (WsClient ws = WsClient.connect(server, Map.of())) {
            // when it sends frames other than auth
            ws.send("{\"type\":\"ping\"}");
            assertThat(ws.next().get("code").asText()).isEqualTo("unauthorized");
            ws.send("{\"type\":\"chat\",\"message\":\"let me in\"}");
            assertThat(ws.next().get("code").asText()).isEqualTo("unauthorized");
            // then it is closed all the same, and nothing was stored
            assertThat(ws.closeCode()).isEqualTo(WsEndpoint.CLOSE_UNAUTHORIZED);
        }
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).isEmpty();
    }

    // ---- rate limits -----------------------------------------------------------------------------

    @Test
    void should_rate_limit_websocket_frames_and_http_requests_from_one_bucket_per_user() {
        // given a limit of 3 requests a minute
        TestServer server = sweep.start(ScriptedChatModel.echo(), c -> c.rateLimitPerMinute(3));
        try (WsClient ws = authenticated(server, ALICE)) {
            // when the user sends two chats over the socket and two requests over HTTP
            ws.send("{\"type\":\"chat\",\"request_id\":\"r1\",\"message\":\"one\"}");
            ws.until("done");
            ws.send("{\"type\":\"chat\",\"request_id\":\"r2\",\"message\":\"two\"}");
            ws.until("done");
            var third = server.post(ALICE, "{}", "/api/v1/threads");
            var fourth = server.post(ALICE, "{}", "/api/v1/threads");
            ws.send("{\"type\":\"chat\",\"request_id\":\"r5\",\"message\":\"five\"}");

            // then
            assertThat(third.status()).isEqualTo(201);
            assertThat(fourth.status()).isEqualTo(429);
            assertThat(fourth.json().get("code").asText()).isEqualTo("rate_limited");
            assertThat(Long.parseLong(fourth.header("Retry-After"))).isBetween(1L, 60L);
            JsonNode limited = ws.next();
            assertThat(limited.get("type").asText()).isEqualTo("error");
            assertThat(limited.get("code").asText()).isEqualTo("rate_limited");
            assertThat(limited.get("request_id").asText()).isEqualTo("r5");
            assertThat(limited.get("retry_after").asLong()).isBetween(1L, 60L);
            // and a refused request changed nothing, while other users are not affected
            ws.send("{\"type\":\"ping\"}");
            assertThat(ws.next().get("type").asText()).isEqualTo("pong");
            assertThat(server.get(BOB, "/api/v1/threads").status()).isEqualTo(200);
        }
        assertThat(server.service.listThreads(ALICE, null, null).items()).hasSize(3);
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private static WsClient authenticated(TestServer server, String user) {
        WsClient ws = WsClient.connect(server, Map.of());
        ws.send("{\"type\":\"auth\",\"token\":\"" + Tokens.forUser(user) + "\"}");
        assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
        return ws;
    }

    /** The socket received nothing it was not answered for: a ping is answered by the very next frame. */
    private static void assertNothingElseFor(WsClient ws) {
        ws.send("{\"type\":\"ping\",\"request_id\":\"last\"}");
        JsonNode next = ws.next();
        assertThat(next.get("type").asText()).isEqualTo("pong");
        assertThat(next.get("request_id").asText()).isEqualTo("last");
    }

    private static String runStatus(TestServer server, String thread, String run) {
        return server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, run).json().get("status").asText();
    }

    private static List<String> texts(TestServer server, String thread) {
        List<String> texts = new ArrayList<>();
        server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data").forEach(m ->
                texts.add(m.get("role").asText() + ":" + m.get("content").get(0).get("text").asText()));
        return texts;
    }
}
