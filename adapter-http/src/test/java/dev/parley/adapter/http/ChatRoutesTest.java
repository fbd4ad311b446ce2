package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.out.ModelRequest;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ChatRoutesTest {
    private TestServer server;

    private TestServer start(ScriptedChatModel model) {
        server = TestServer.start(model);
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String chatPath() {
        return "/api/v1/threads/{thread_id}/chat";
    }

    @Test
    void should_run_a_sync_chat_on_the_request_thread_and_a_streamed_one_on_a_run_thread() {
        // given a model that notes the thread of each call
        List<String> callers = new java.util.concurrent.CopyOnWriteArrayList<>();
        ScriptedChatModel model = ScriptedChatModel.builder().build();
        for (String reply : List.of("sync", "streamed")) {
            model.enqueue(request -> {
                callers.add(Thread.currentThread().getName());
                return ScriptedChatModel.Script.reply(reply);
            });
        }
        start(model);
        String thread = server.newThread(ALICE);

        // when
        JsonNode reply = server.chat(ALICE, thread, "Hi");
        var streamed = server.request("POST", chatPath(), thread).as(ALICE).json("{\"message\":\"Again\",\"stream\":true}").send();

        // then the sync reply's model call ran on the request's own thread (no hand-off to a run thread and back)
        assertThat(reply.get("response").asText()).isEqualTo("sync");
        assertThat(streamed.status()).isEqualTo(200);
        assertThat(callers).hasSize(2);
        assertThat(callers.get(0)).doesNotStartWith("parley-run-");
        assertThat(callers.get(1)).startsWith("parley-run-");
    }

    @Test
    void should_answer_the_sync_reply_with_tool_calls_usage_and_cost() {
        // given
        start(ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}")).usage(10, 2)
                .reply("The answer is 42").usage(12, 5)
                .build());
        String thread = server.newThread(ALICE);
        // when
        JsonNode reply = server.chat(ALICE, thread, "What is 6*7?");
        // then
        assertThat(reply.get("thread_id").asText()).isEqualTo(thread);
        assertThat(reply.get("status").asText()).isEqualTo("completed");
        assertThat(reply.get("response").asText()).isEqualTo("The answer is 42");
        assertThat(reply.get("tool_calls")).hasSize(1);
        JsonNode call = reply.get("tool_calls").get(0);
        assertThat(call.get("name").asText()).isEqualTo("calculator");
        assertThat(call.get("arguments").get("expression").asText()).isEqualTo("6*7");
        assertThat(call.get("output").asText()).isEqualTo("42");
        assertThat(reply.get("usage").get("total_tokens").asLong())
                .isEqualTo(reply.get("usage").get("input_tokens").asLong() + reply.get("usage").get("output_tokens").asLong());
        assertThat(reply.get("cost_usd").isNumber()).isTrue();
        JsonNode messages = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data");
        assertThat(messages.get(0).get("id").asText()).isEqualTo(reply.get("user_message_id").asText());
        assertThat(messages.get(messages.size() - 1).get("id").asText()).isEqualTo(reply.get("message_id").asText());
        JsonNode run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, reply.get("run_id").asText()).json();
        assertThat(run.get("status").asText()).isEqualTo("completed");
        assertThat(run.get("completed_at").isNull()).isFalse();
        assertThat(run.get("steps")).anySatisfy(step -> {
            assertThat(step.get("type").asText()).isEqualTo("tool_call");
            assertThat(step.get("tool_call").get("output").asText()).isEqualTo("42");
        });
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data")).hasSize(1);
    }

    @Test
    void should_answer_502_model_error_with_the_run_id_when_the_model_fails() {
        start(ScriptedChatModel.builder().fail("model_upstream", "the upstream said no").build());
        String thread = server.newThread(ALICE);
        var r = server.post(ALICE, "{\"message\":\"hi\"}", chatPath(), thread);
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.json().get("code").asText()).isEqualTo("model_error");
        assertThat(r.json().get("run_id").asText()).startsWith("run_");
        assertThat(r.json().get("error").get("code").asText()).isEqualTo("model_upstream");
        JsonNode messages = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data");
        assertThat(messages.get(0).get("content").get(0).get("text").asText()).isEqualTo("hi");
    }

    @Test
    void should_answer_200_cancelled_with_the_partial_text_when_a_sync_run_is_cancelled() throws Exception {
        // given
        ScriptedChatModel model = start(ScriptedChatModel.builder().tokensThenBlock("Hel", "lo").build()).model;
        String thread = server.newThread(ALICE);
        CompletableFuture<TestServer.Response> reply = CompletableFuture.supplyAsync(
                () -> server.post(ALICE, "{\"message\":\"hi\"}", chatPath(), thread));
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        // when
        var cancelled = server.delete(ALICE, chatPath(), thread);
        // then
        assertThat(cancelled.status()).isEqualTo(200);
        assertThat(cancelled.json().get("status").asText()).isEqualTo("cancelled");
        TestServer.Response r = reply.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
        assertThat(r.json().get("response").asText()).isEqualTo("Hello");
        var again = server.delete(ALICE, chatPath(), thread);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().get("code").asText()).isEqualTo("no_active_run");
        var byId = server.post(ALICE, "{}", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", thread, r.json().get("run_id").asText());
        assertThat(byId.status()).isEqualTo(409);
    }

    @Test
    void should_cancel_a_run_by_its_id() throws Exception {
        ScriptedChatModel model = start(ScriptedChatModel.builder().tokensThenBlock("a").build()).model;
        String thread = server.newThread(ALICE);
        CompletableFuture<TestServer.Response> reply = CompletableFuture.supplyAsync(
                () -> server.post(ALICE, "{\"message\":\"hi\"}", chatPath(), thread));
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        String runId = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("id").asText();
        var r = server.request("POST", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", thread, runId).as(ALICE).send();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
        assertThat(reply.get(WAIT.toSeconds(), TimeUnit.SECONDS).json().get("status").asText()).isEqualTo("cancelled");
    }

    @Test
    void should_create_a_thread_on_the_global_chat_route() {
        start(ScriptedChatModel.replying("Sure"));
        var r = server.post(ALICE, "{\"message\":\"hello\",\"agent_id\":\"researcher\"}", "/api/v1/chat");
        assertThat(r.status()).isEqualTo(200);
        String thread = r.json().get("thread_id").asText();
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}", thread).json().get("agent_id").asText()).isEqualTo("researcher");
        var second = server.post(ALICE, "{\"message\":\"again\",\"thread_id\":\"" + thread + "\"}", "/api/v1/chat");
        assertThat(second.json().get("thread_id").asText()).isEqualTo(thread);
        var missing = server.post(ALICE, "{\"message\":\"x\",\"thread_id\":\"thr_nope\"}", "/api/v1/chat");
        assertThat(missing.status()).isEqualTo(404);
        var malformed = server.post(ALICE, "{\"message\":\"x\",\"thread_id\":\"../x\"}", "/api/v1/chat");
        assertThat(malformed.status()).isEqualTo(404);
    }

    @Test
    void should_replay_the_original_run_for_a_repeated_idempotency_key_and_refuse_a_changed_body() {
        start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        var first = server.request("POST", chatPath(), thread).as(ALICE).header("Idempotency-Key", "key-1").json("{\"message\":\"once\"}").send();
        var retry = server.request("POST", chatPath(), thread).as(ALICE).header("Idempotency-Key", "key-1").json("{\"message\":\"once\"}").send();
        var reused = server.request("POST", chatPath(), thread).as(ALICE).header("Idempotency-Key", "key-1").json("{\"message\":\"other\"}").send();
        assertThat(retry.json().get("run_id").asText()).isEqualTo(first.json().get("run_id").asText());
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).hasSize(2);
        assertThat(reused.status()).isEqualTo(422);
        assertThat(reused.json().get("code").asText()).isEqualTo("idempotency_key_reused");
        var bad = server.request("POST", chatPath(), thread).as(ALICE).header("Idempotency-Key", "x".repeat(300)).json("{\"message\":\"m\"}").send();
        assertThat(bad.status()).isEqualTo(400);
    }

    @Test
    void should_reject_interrupt_or_enqueue_when_the_thread_is_busy() throws Exception {
        // given
        ScriptedChatModel model = start(ScriptedChatModel.builder().tokensThenBlock("part").build()).model;
        String thread = server.newThread(ALICE);
        CompletableFuture<TestServer.Response> first = CompletableFuture.supplyAsync(
                () -> server.post(ALICE, "{\"message\":\"q1\"}", chatPath(), thread));
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        // when / then: reject
        var rejected = server.post(ALICE, "{\"message\":\"q2\"}", chatPath(), thread);
        assertThat(rejected.status()).isEqualTo(409);
        assertThat(rejected.json().get("code").asText()).isEqualTo("run_in_progress");
        // when / then: interrupt
        var interrupted = server.post(ALICE, "{\"message\":\"q2\",\"if_busy\":\"interrupt\"}", chatPath(), thread);
        assertThat(interrupted.status()).isEqualTo(200);
        assertThat(interrupted.json().get("response").asText()).isEqualTo("q2");
        assertThat(first.get(WAIT.toSeconds(), TimeUnit.SECONDS).json().get("status").asText()).isEqualTo("cancelled");
        List<String> history = new ArrayList<>();
        server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data").forEach(m ->
                history.add(m.get("role").asText() + ":" + m.get("content").get(0).get("text").asText() + ":" + m.get("status").asText()));
        assertThat(history).containsExactly("user:q1:completed", "assistant:part:incomplete", "user:q2:completed", "assistant:q2:completed");
    }

    @Test
    void should_enqueue_a_message_behind_the_active_run() throws Exception {
        ScriptedChatModel model = start(ScriptedChatModel.builder().tokensThenBlock("first").build()).model;
        String thread = server.newThread(ALICE);
        CompletableFuture<TestServer.Response> first = CompletableFuture.supplyAsync(
                () -> server.post(ALICE, "{\"message\":\"q1\"}", chatPath(), thread));
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        CompletableFuture<TestServer.Response> queued = CompletableFuture.supplyAsync(
                () -> server.post(ALICE, "{\"message\":\"q2\",\"if_busy\":\"enqueue\"}", chatPath(), thread));
        TestServer.eventually("the second run is queued", () ->
                server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").size() == 2);
        assertThat(queued).isNotDone();
        // when
        model.release();
        // then
        assertThat(first.get(WAIT.toSeconds(), TimeUnit.SECONDS).json().get("response").asText()).isEqualTo("first");
        assertThat(queued.get(WAIT.toSeconds(), TimeUnit.SECONDS).json().get("response").asText()).isEqualTo("q2");
    }

    @Test
    void should_answer_422_naming_the_field_for_wrong_types_unknown_enums_and_bad_text() {
        start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        String tooLong = "😀".repeat(32_001);
        List<String[]> cases = List.of(
                new String[] {"{\"message\":123}", "message"},
                new String[] {"{\"message\":\"hi\",\"stream\":\"yes\"}", "stream"},
                new String[] {"{\"message\":\"hi\",\"if_busy\":\"sometimes\"}", "if_busy"},
                new String[] {"{\"message\":\"hi\",\"on_disconnect\":\"maybe\"}", "on_disconnect"},
                new String[] {"{\"message\":\"hi\",\"metadata\":[1]}", "metadata"},
                new String[] {"{}", "message"},
                new String[] {"{\"message\":\"\"}", "message"},
                new String[] {"{\"message\":[]}", "message"},
                new String[] {"{\"message\":[{\"type\":\"video\"}]}", "message[0].type"},
                new String[] {"{\"message\":\"nul \\u0000 here\"}", "message"},
                new String[] {"{\"message\":\"lone \\ud800 surrogate\"}", "message"},
                new String[] {"{\"message\":\"" + tooLong + "\"}", "message"});
        for (String[] c : cases) {
            var r = server.post(ALICE, c[0], chatPath(), thread);
            String label = c[0].length() > 60 ? c[0].substring(0, 60) : c[0];
            assertThat(r.status()).as(label).isEqualTo(422);
            assertThat(r.json().get("code").asText()).as(label).isEqualTo("validation_failed");
            assertThat(r.json().get("errors").get(0).get("field").asText()).as(label).isEqualTo(c[1]);
        }
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).isEmpty();
    }

    @Test
    void should_send_a_chat_requests_own_model_settings_to_the_model_and_show_them_on_the_run() {
        // given
        ScriptedChatModel model = start(ScriptedChatModel.replying("one", "two", "three")).model;
        String thread = server.newThread(ALICE);
        // when
        var reply = server.post(ALICE, "{\"message\":\"hi\",\"model_settings\":{\"temperature\":0.4,\"max_output_tokens\":64,"
                + "\"reasoning_effort\":\"medium\"}}", chatPath(), thread).json();
        var plain = server.post(ALICE, "{\"message\":\"hi\"}", chatPath(), thread).json();
        String answer = server.get(ALICE, "/api/v1/threads/{thread_id}/messages?order=desc&limit=1", thread).json()
                .get("data").get(0).get("id").asText();
        server.post(ALICE, "{\"model_settings\":{\"temperature\":1.9}}", "/api/v1/threads/{thread_id}/messages/{message_id}/regenerate",
                thread, answer);
        // then
        ModelSettings given = new ModelSettings(0.4, 64, ReasoningEffort.MEDIUM);
        assertThat(model.requests()).extracting(ModelRequest::settings)
                .containsExactly(given, ModelSettings.DEFAULT, new ModelSettings(1.9, null, null));
        var run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, reply.get("run_id").asText()).json();
        assertThat(run.get("model_settings").toString()).isEqualTo("{\"temperature\":0.4,\"max_output_tokens\":64,\"reasoning_effort\":\"medium\"}");
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, plain.get("run_id").asText()).json()
                .get("model_settings").toString()).isEqualTo("{}");
    }

    @Test
    void should_answer_422_naming_the_model_setting_out_of_range_or_of_the_wrong_type() {
        start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        for (String[] c : List.of(
                new String[] {"{\"message\":\"hi\",\"model_settings\":{\"temperature\":2.5}}", "model_settings.temperature"},
                new String[] {"{\"message\":\"hi\",\"model_settings\":{\"temperature\":\"hot\"}}", "model_settings.temperature"},
                new String[] {"{\"message\":\"hi\",\"model_settings\":{\"max_output_tokens\":0}}", "model_settings.max_output_tokens"},
                new String[] {"{\"message\":\"hi\",\"model_settings\":{\"reasoning_effort\":\"max\"}}", "model_settings.reasoning_effort"},
                new String[] {"{\"message\":\"hi\",\"model_settings\":[]}", "model_settings"})) {
            var r = server.post(ALICE, c[0], chatPath(), thread);
            assertThat(r.status()).as(c[0]).isEqualTo(422);
            assertThat(r.json().get("code").asText()).as(c[0]).isEqualTo("validation_failed");
            assertThat(r.json().get("errors").get(0).get("field").asText()).as(c[0]).isEqualTo(c[1]);
        }
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).isEmpty();
    }

    @Test
    void should_accept_a_message_of_exactly_the_limit_and_content_parts() {
        start(ScriptedChatModel.replying("ok", "ok"));
        String thread = server.newThread(ALICE);
        var r = server.post(ALICE, "{\"message\":\"" + "😀".repeat(32_000) + "\"}", chatPath(), thread);
        assertThat(r.status()).isEqualTo(200);
        var parts = server.post(ALICE, "{\"message\":[{\"type\":\"text\",\"text\":\"look\"},{\"type\":\"image_url\",\"url\":\"https://example.com/a.png\"}]}",
                chatPath(), thread);
        assertThat(parts.status()).isEqualTo(200);
        JsonNode messages = server.get(ALICE, "/api/v1/threads/{thread_id}/messages?order=desc&limit=2", thread).json().get("data");
        assertThat(messages.get(1).get("content").get(1).get("url").asText()).isEqualTo("https://example.com/a.png");
    }

    @Test
    void should_answer_400_invalid_json_for_malformed_or_deeply_nested_bodies() {
        start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        for (String body : List.of("{\"message\": \"hi\"", "not json", "{\"message\":\"a\"} trailing", "{\"a\":1,\"a\":2}",
                "[".repeat(5000) + "]".repeat(5000))) {
            var r = server.post(ALICE, body, chatPath(), thread);
            assertThat(r.status()).as(body.length() > 40 ? "nested" : body).isEqualTo(400);
            assertThat(r.json().get("code").asText()).isEqualTo("invalid_json");
        }
        var array = server.post(ALICE, "[1,2]", chatPath(), thread);
        assertThat(array.status()).isEqualTo(422);
    }

    @Test
    void should_answer_415_for_a_body_that_is_not_json() {
        start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        var r = server.request("POST", chatPath(), thread).as(ALICE).body("text/plain", "message=hi".getBytes(StandardCharsets.UTF_8)).send();
        assertThat(r.status()).isEqualTo(415);
        assertThat(r.json().get("code").asText()).isEqualTo("unsupported_media_type");
        var latin = server.request("POST", chatPath(), thread).as(ALICE)
                .body("application/json; charset=iso-8859-1", "{\"message\":\"hi\"}".getBytes(StandardCharsets.ISO_8859_1)).send();
        assertThat(latin.status()).isEqualTo(415);
        var utf8 = server.request("POST", chatPath(), thread).as(ALICE)
                .body("application/json; charset=UTF-8", "{\"message\":\"hi\"}".getBytes(StandardCharsets.UTF_8)).send();
        assertThat(utf8.status()).isEqualTo(200);
    }

    @Test
    void should_name_the_stored_run_when_the_store_fails_after_the_message_was_kept() {
        // given a service whose store goes away right after a send
        server = TestServer.start(ScriptedChatModel.echo(), c -> new ParleyHttp.Config.Builder(failingAfterSend(c.build().chat()),
                JwtAuthenticator.hs256(Tokens.SECRET).build()));
        String thread = server.newThread(ALICE);

        // when
        var streamed = server.request("POST", chatPath(), thread).as(ALICE).json("{\"message\":\"kept\",\"stream\":true}").send();
        var sync = server.post(ALICE, "{\"message\":\"kept too\"}", chatPath(), thread);

        // then the client learns that the message and its run exist
        for (var r : List.of(streamed, sync)) {
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.json().get("code").asText()).isEqualTo("unavailable");
            assertThat(r.json().get("run_id").asText()).startsWith("run_");
            assertThat(r.json().get("thread_id").asText()).isEqualTo(thread);
        }
        assertThat(server.service.listMessages(ALICE, dev.parley.chat.model.ThreadId.parse(thread).orElseThrow(), null, null).items())
                .extracting(m -> m.text()).contains("kept", "kept too");
    }

    /** {@code chat}, whose subscribe and await (also the wait of a send-and-await, after its send) fail as an unreachable store would. */
    @SuppressWarnings("unchecked")
    private static dev.parley.chat.port.in.ChatUseCases failingAfterSend(dev.parley.chat.port.in.ChatUseCases chat) {
        return (dev.parley.chat.port.in.ChatUseCases) java.lang.reflect.Proxy.newProxyInstance(
                dev.parley.chat.port.in.ChatUseCases.class.getClassLoader(), new Class<?>[] {dev.parley.chat.port.in.ChatUseCases.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("sendAndAwait")) {
                        var receipt = chat.send((dev.parley.chat.port.in.SendMessageCommand) args[0]);
                        if (args.length == 3) {
                            ((java.util.function.Consumer<dev.parley.chat.port.in.SendReceipt>) args[2]).accept(receipt);
                        }
                        throw new dev.parley.chat.model.StorageUnavailableException("pool exhausted", null);
                    }
                    if (method.getName().equals("subscribe") || method.getName().equals("await")) {
                        throw new dev.parley.chat.model.StorageUnavailableException("pool exhausted", null);
                    }
                    try {
                        return method.invoke(chat, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void should_answer_413_for_a_body_over_the_limit_with_or_without_a_length() throws Exception {
        start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        byte[] big = ("{\"message\":\"" + "a".repeat(1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        var r = server.request("POST", chatPath(), thread).as(ALICE).body("application/json", big).send();
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().get("code").asText()).isEqualTo("payload_too_large");
        HttpRequest chunked = HttpRequest.newBuilder(URI.create(server.base + "/api/v1/threads/" + thread + "/chat"))
                .header("Authorization", "Bearer " + Tokens.forUser(ALICE)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build();
        HttpResponse<String> response = server.client.send(chunked, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(413);
    }
}
