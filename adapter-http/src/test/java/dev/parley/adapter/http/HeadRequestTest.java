package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code HEAD} answers as {@code GET} would, without the body; 405 where there is no {@code GET}. */
class HeadRequestTest {
    /** Headers that differ between any two answers. */
    private static final Set<String> PER_ANSWER = Set.of("date", "x-request-id");

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void should_answer_head_with_the_status_and_headers_of_get_and_no_body() {
        // given
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.metricsEndpoint(() -> "# metrics\n"));
        String thread = server.newThread(ALICE);
        String run = server.chat(ALICE, thread, "hello").get("run_id").asText();
        List<String[]> cases = List.of(
                new String[] {null, "/health"},
                new String[] {null, "/ready"},
                new String[] {null, "/openapi.json"},
                new String[] {null, "/docs"},
                new String[] {null, "/docs/swagger-ui.css"},
                new String[] {null, "/docs/nothing.css"},
                new String[] {null, "/metrics"},
                new String[] {null, "/api/v1/agents"},
                new String[] {null, "/api/v1/agents/assistant"},
                new String[] {null, "/api/v1/agents/nobody"},
                new String[] {null, "/api/v1/threads"},
                new String[] {ALICE, "/api/v1/threads"},
                new String[] {ALICE, "/api/v1/threads?limit=abc"},
                new String[] {ALICE, "/api/v1/threads/" + thread},
                new String[] {BOB, "/api/v1/threads/" + thread},
                new String[] {ALICE, "/api/v1/threads/" + thread + "/messages"},
                new String[] {ALICE, "/api/v1/threads/" + thread + "/runs"},
                new String[] {ALICE, "/api/v1/threads/" + thread + "/runs/" + run},
                new String[] {ALICE, "/api/v1/threads/" + thread + "/runs/" + run + "/events"},
                new String[] {BOB, "/api/v1/threads/" + thread + "/runs/" + run + "/events"},
                new String[] {null, "/api/v1/ws"},
                new String[] {null, "/api/v1/nothing"},
                new String[] {null, "/nothing"});
        for (String[] c : cases) {
            String label = (c[0] == null ? "anonymous" : c[0]) + " " + c[1];
            // when
            TestServer.Response get = server.request("GET", c[1]).as(c[0]).undocumented().send();
            TestServer.Response head = server.request("HEAD", c[1]).as(c[0]).undocumented().send();
            // then
            assertThat(head.status()).as(label).isEqualTo(get.status());
            assertThat(comparable(head)).as(label).isEqualTo(comparable(get));
            assertThat(head.body()).as(label).isEmpty();
        }
    }

    @Test
    void should_answer_head_on_the_events_of_a_live_run_at_once_without_joining_it() throws Exception {
        // given a run that is still going
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a").build();
        server = TestServer.start(model);
        String thread = server.newThread(ALICE);
        try (TestServer.EventStream stream = server.request("POST", "/api/v1/threads/{thread_id}/chat", thread).as(ALICE)
                .json("{\"message\":\"hi\",\"stream\":true}").stream()) {
            String run = stream.events().next().json().get("run_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();
            // when
            TestServer.Response head = server.request("HEAD", "/api/v1/threads/" + thread + "/runs/" + run + "/events")
                    .as(ALICE).undocumented().send();
            // then
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentType()).startsWith("text/event-stream");
            assertThat(head.header("Cache-Control")).isEqualTo("no-cache");
            assertThat(head.body()).isEmpty();
            model.release();
            assertThat(stream.events().readToEnd()).last().satisfies(f -> assertThat(f.event()).isEqualTo("done"));
        }
    }

    @Test
    void should_answer_405_with_allow_to_head_where_there_is_no_get() {
        // given
        server = TestServer.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        for (String path : List.of("/api/v1/chat", "/api/v1/threads/" + thread + "/chat",
                "/api/v1/threads/" + thread + "/runs/run_x/cancel")) {
            // when
            TestServer.Response head = server.request("HEAD", path).as(ALICE).undocumented().send();
            // then
            assertThat(head.status()).as(path).isEqualTo(405);
            assertThat(head.contentType()).as(path).startsWith("application/problem+json");
            assertThat(head.header("Allow")).as(path).contains("POST").doesNotContain("GET", "HEAD");
            assertThat(head.body()).as(path).isEmpty();
        }
        // and a GET route names HEAD among its methods
        TestServer.Response wrong = server.request("PUT", "/api/v1/agents").undocumented().send();
        assertThat(wrong.header("Allow")).contains("GET", "HEAD");
    }

    /** The headers of an answer that must be equal between GET and HEAD. */
    private static Map<String, List<String>> comparable(TestServer.Response r) {
        Map<String, List<String>> headers = new TreeMap<>();
        r.headers().map().forEach((name, values) -> {
            String key = name.toLowerCase(java.util.Locale.ROOT);
            if (!PER_ANSWER.contains(key) && !key.equals(":status")) {
                headers.put(key, values);
            }
        });
        return headers;
    }
}
