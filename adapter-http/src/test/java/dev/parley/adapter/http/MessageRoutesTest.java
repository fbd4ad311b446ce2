package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MessageRoutesTest {
    private static final String MESSAGES = "/api/v1/threads/{thread_id}/messages";
    private static final String MESSAGE = MESSAGES + "/{message_id}";

    private TestServer server = TestServer.start(ScriptedChatModel.echo());

    @AfterEach
    void stop() {
        server.close();
    }

    private List<String> texts(String thread) {
        List<String> out = new ArrayList<>();
        server.get(ALICE, MESSAGES, thread).json().get("data").forEach(m -> out.add(m.get("content").get(0).get("text").asText()));
        return out;
    }

    private JsonNode history(String thread) {
        return server.get(ALICE, MESSAGES, thread).json().get("data");
    }

    @Test
    void should_edit_a_question_answer_as_chat_does_and_flip_back_to_the_first_version() {
        // given
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "q1");
        String q1 = history(thread).get(0).get("id").asText();

        // when
        var edit = server.post(ALICE, "{\"message\":\"q1 edited\"}", MESSAGE + "/edit", thread, q1);

        // then
        assertThat(edit.status()).as(edit.body()).isEqualTo(200);
        assertThat(edit.json().get("response").asText()).contains("q1 edited");
        JsonNode edited = history(thread).get(0);
        assertThat(edited.get("id").asText()).isEqualTo(edit.json().get("user_message_id").asText());
        assertThat(edited.get("run_id").asText()).isEqualTo(edit.json().get("run_id").asText());
        assertThat(edited.get("versions").get("index").asInt()).isEqualTo(2);
        assertThat(edited.get("versions").get("count").asInt()).isEqualTo(2);
        assertThat(edited.get("parent_id").isNull()).isTrue();
        JsonNode versions = server.get(ALICE, MESSAGE + "/versions", thread, q1).json();
        assertThat(versions.get("data")).hasSize(2);

        // and when
        var activated = server.post(ALICE, "{}", MESSAGE + "/activate", thread, q1);

        // then
        assertThat(activated.status()).isEqualTo(200);
        assertThat(activated.json().get("id").asText()).isEqualTo(thread);
        assertThat(texts(thread).get(0)).isEqualTo("q1");
        assertThat(history(thread).get(1).get("usage").get("total_tokens").asLong()).isPositive();
    }

    @Test
    void should_regenerate_as_a_stream_and_keep_the_earlier_answer_as_a_version() {
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "q1");
        String answer = history(thread).get(1).get("id").asText();

        var streamed = server.request("POST", MESSAGE + "/regenerate", thread, answer).as(ALICE).json("{\"stream\":true}").send();

        assertThat(streamed.status()).isEqualTo(200);
        assertThat(streamed.body()).contains("event: run_started", "event: done");
        var versions = server.get(ALICE, MESSAGE + "/versions", thread, answer).json().get("data");
        assertThat(versions).hasSize(2);
        assertThat(history(thread).get(1).get("versions").get("index").asInt()).isEqualTo(2);
        var sync = server.request("POST", MESSAGE + "/regenerate", thread, answer).as(ALICE).send();
        assertThat(sync.status()).as(sync.body()).isEqualTo(200);
        assertThat(sync.json().get("user_message_id").asText()).isEqualTo(history(thread).get(0).get("id").asText());
    }

    @Test
    void should_answer_422_not_editable_for_the_wrong_role() {
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "q1");
        JsonNode h = history(thread);

        var edit = server.post(ALICE, "{\"message\":\"x\"}", MESSAGE + "/edit", thread, h.get(1).get("id").asText());
        var regenerate = server.post(ALICE, "{}", MESSAGE + "/regenerate", thread, h.get(0).get("id").asText());

        assertThat(edit.status()).isEqualTo(422);
        assertThat(edit.json().get("code").asText()).isEqualTo("not_editable");
        assertThat(regenerate.status()).isEqualTo(422);
        assertThat(regenerate.json().get("code").asText()).isEqualTo("not_editable");
    }

    @Test
    void should_answer_404_for_ids_of_another_thread_or_user_and_for_ids_that_cannot_exist() {
        String thread = server.newThread(ALICE);
        String other = server.newThread(ALICE);
        String bobs = server.newThread(BOB);
        server.chat(ALICE, thread, "q1");
        String q1 = history(thread).get(0).get("id").asText();

        assertThat(server.get(ALICE, MESSAGE, other, q1).json().get("code").asText()).isEqualTo("message_not_found");
        assertThat(server.get(BOB, MESSAGE, thread, q1).json().get("code").asText()).isEqualTo("thread_not_found");
        assertThat(server.get(BOB, MESSAGE, bobs, q1).status()).isEqualTo(404);
        assertThat(server.post(BOB, "{\"message\":\"x\"}", MESSAGE + "/edit", bobs, q1).status()).isEqualTo(404);
        assertThat(server.delete(BOB, MESSAGE, bobs, q1).status()).isEqualTo(404);
        for (String bad : List.of("run_1", "msg_..", "msg_" + "a".repeat(5000))) {
            var r = server.get(ALICE, MESSAGE, thread, bad);
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.json().get("code").asText()).isEqualTo("message_not_found");
        }
        assertThat(texts(thread)).hasSize(2);
    }

    @Test
    void should_check_the_edit_body_as_chat_does() {
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "q1");
        String q1 = history(thread).get(0).get("id").asText();

        for (String body : List.of("{}", "{\"message\":123}", "{\"message\":\"a\\u0000b\"}", "{\"message\":\"\"}",
                "{\"message\":\"x\",\"if_busy\":\"sometimes\"}")) {
            var r = server.post(ALICE, body, MESSAGE + "/edit", thread, q1);
            assertThat(r.status()).as(body).isEqualTo(422);
        }
        var longText = server.post(ALICE, "{\"message\":\"" + "x".repeat(32_001) + "\"}", MESSAGE + "/edit", thread, q1);
        assertThat(longText.status()).isEqualTo(422);
        assertThat(server.post(ALICE, "{\"stream\":\"yes\"}", MESSAGE + "/regenerate", thread,
                history(thread).get(1).get("id").asText()).status()).isEqualTo(422);
        var patch = server.patch(ALICE, "{\"metadata\":{\"a\":1}}", MESSAGE, thread, q1);
        assertThat(patch.status()).isEqualTo(422);
        assertThat(patch.json().get("errors").get(0).get("field").asText()).isEqualTo("metadata.a");
        assertThat(server.patch(ALICE, "{}", MESSAGE, thread, q1).status()).isEqualTo(422);
        assertThat(texts(thread)).containsExactly("q1", texts(thread).get(1));
    }

    @Test
    void should_patch_metadata_and_delete_a_subtree() {
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "q1");
        server.chat(ALICE, thread, "q2");
        JsonNode h = history(thread);

        var patched = server.patch(ALICE, "{\"metadata\":{\"pinned\":\"yes\"}}", MESSAGE, thread, h.get(0).get("id").asText());
        var deleted = server.delete(ALICE, MESSAGE, thread, h.get(2).get("id").asText());

        assertThat(patched.status()).isEqualTo(200);
        assertThat(patched.json().get("metadata").get("pinned").asText()).isEqualTo("yes");
        assertThat(deleted.status()).isEqualTo(204);
        assertThat(history(thread)).hasSize(2);
        assertThat(server.get(ALICE, MESSAGE, thread, h.get(3).get("id").asText()).status()).isEqualTo(404);
        // the run of the deleted question went with it, events and all (they held its content); the first stays
        String run = h.get(3).get("run_id").asText();
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, run).status()).isEqualTo(404);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, run).status()).isEqualTo(404);
        String kept = h.get(1).get("run_id").asText();
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, kept).body()).contains("event: done");
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data")).hasSize(1);
    }

    @Test
    void should_answer_409_to_activate_delete_and_a_default_edit_during_a_run_and_honour_idempotency_keys() throws Exception {
        Busy b = busyThread("slow");
        String thread = b.thread();
        String q1 = b.q1();
        CompletableFuture<TestServer.Response> busy = b.answer();

        for (TestServer.Response r : List.of(server.post(ALICE, "{}", MESSAGE + "/activate", thread, q1),
                server.delete(ALICE, MESSAGE, thread, q1), server.post(ALICE, "{\"message\":\"e\"}", MESSAGE + "/edit", thread, q1))) {
            assertThat(r.status()).isEqualTo(409);
            assertThat(r.json().get("code").asText()).isEqualTo("run_in_progress");
        }

        var edit = server.request("POST", MESSAGE + "/edit", thread, q1).as(ALICE).header("Idempotency-Key", "e-1")
                .json("{\"message\":\"q1 again\",\"if_busy\":\"interrupt\"}").send();
        var retry = server.request("POST", MESSAGE + "/edit", thread, q1).as(ALICE).header("Idempotency-Key", "e-1")
                .json("{\"message\":\"q1 again\",\"if_busy\":\"interrupt\"}").send();
        var reused = server.request("POST", MESSAGE + "/edit", thread, q1).as(ALICE).header("Idempotency-Key", "e-1")
                .json("{\"message\":\"something else\",\"if_busy\":\"interrupt\"}").send();

        assertThat(edit.status()).as(edit.body()).isEqualTo(200);
        assertThat(retry.json().get("run_id").asText()).isEqualTo(edit.json().get("run_id").asText());
        assertThat(reused.status()).isEqualTo(422);
        assertThat(reused.json().get("code").asText()).isEqualTo("idempotency_key_reused");
        assertThat(busy.get(30, TimeUnit.SECONDS).json().get("status").asText()).isEqualTo("cancelled");
        assertThat(texts(thread)).containsExactly("q1 again", "edited answer");
        assertThat(server.get(ALICE, MESSAGE + "/versions", thread, q1).json().get("data")).hasSize(2);
    }

    @Test
    void should_queue_an_edit_behind_the_running_answer_and_answer_it_on_a_branch_of_its_own() throws Exception {
        // given: q2's run blocked in its model call
        Busy b = busyThread("a2");
        String thread = b.thread();
        String q1 = b.q1();
        CompletableFuture<TestServer.Response> busy = b.answer();
        ScriptedChatModel model = b.model();

        // when: q1 is edited with enqueue (a sync request: it answers once the queued run has)
        CompletableFuture<TestServer.Response> edit = CompletableFuture.supplyAsync(() -> server.post(ALICE,
                "{\"message\":\"q1 again\",\"if_busy\":\"enqueue\"}", MESSAGE + "/edit", thread, q1));

        // then: the edit's run waits, and the history is the running run's until it ends
        TestServer.eventually("the edit's run is queued", () -> {
            JsonNode runs = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data");
            return runs.size() == 3 && runs.get(0).get("status").asText().equals("queued");
        });
        assertThat(texts(thread)).containsExactly("q1", "a1", "q2");
        model.release();
        TestServer.Response answered = edit.get(30, TimeUnit.SECONDS);
        assertThat(answered.status()).as(answered.body()).isEqualTo(200);
        assertThat(answered.json().get("response").asText()).isEqualTo("edited answer");
        assertThat(busy.get(30, TimeUnit.SECONDS).json().get("response").asText()).isEqualTo("a2");
        assertThat(texts(thread)).containsExactly("q1 again", "edited answer");
        assertThat(server.post(ALICE, "{}", MESSAGE + "/activate", thread, q1).status()).isEqualTo(200);
        assertThat(texts(thread)).containsExactly("q1", "a1", "q2", "a2");
    }

    /** A thread with q1 answered ("a1") and q2's answer blocked in the model after {@code partial}; the model then replies "edited answer". */
    private record Busy(ScriptedChatModel model, String thread, String q1, CompletableFuture<TestServer.Response> answer) {
    }

    private Busy busyThread(String partial) throws InterruptedException {
        server.close();
        ScriptedChatModel model = ScriptedChatModel.builder().reply("a1").tokensThenBlock(partial).reply("edited answer").build();
        server = TestServer.start(model);
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "q1");
        String q1 = history(thread).get(0).get("id").asText();
        CompletableFuture<TestServer.Response> busy = CompletableFuture.supplyAsync(
                () -> server.post(ALICE, "{\"message\":\"q2\"}", "/api/v1/threads/{thread_id}/chat", thread));
        assertThat(model.awaitBlocked(TestServer.WAIT)).isTrue();
        return new Busy(model, thread, q1, busy);
    }
}
