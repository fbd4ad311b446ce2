package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an attacker can put in a request: odd ids and paths, NUL and bad Unicode anywhere, bytes
 * that are not UTF-8, oversized and deeply nested bodies, headers and frames. Every answer is a
 * clean 4xx problem (or an error frame), and nothing is stored.
 */
class HostileInputTest {
    @RegisterExtension
    static final ResponseSweep sweep = new ResponseSweep();

    /** Path segments that cannot be ids, already percent-encoded. */
    private static final List<String> HOSTILE_IDS = List.of(
            "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "thr_..%5C..%5Cwindows",
            "thr_%252e%252e%252f", "thr_%2F%2F", "thr_abc%3B%20DROP%20TABLE%20parley_threads", "thr_%27%20OR%20%271%27%3D%271",
            "thr_%E2%80%AEtxt", "thr_%F0%9F%98%80", "%20", "thr_%0D%0ASet-Cookie%3A%20x%3D1", "run_0123456789", "msg_0123456789",
            "thr_" + "a".repeat(65), "thr_" + "a".repeat(5000), "thr_%7B%7D", "thr_%24%7Bjndi%3Aldap%3A%2F%2Fx%7D");

    private static final String[][] THREAD_ROUTES = {
            {"GET", "/api/v1/threads/{thread_id}"},
            {"PATCH", "/api/v1/threads/{thread_id}"},
            {"DELETE", "/api/v1/threads/{thread_id}"},
            {"GET", "/api/v1/threads/{thread_id}/messages"},
            {"POST", "/api/v1/threads/{thread_id}/chat"},
            {"DELETE", "/api/v1/threads/{thread_id}/chat"},
            {"GET", "/api/v1/threads/{thread_id}/runs"}};
    private static final String[][] RUN_ROUTES = {
            {"GET", "/api/v1/threads/{thread_id}/runs/{run_id}"},
            {"POST", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel"},
            {"GET", "/api/v1/threads/{thread_id}/runs/{run_id}/events"}};

    // ---- paths ---------------------------------------------------------------------------------------

    @Test
    void should_answer_404_problem_for_ids_that_cannot_exist_on_every_id_scoped_route() {
        // given a real thread and run, so only the hostile segment is wrong
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        String run = server.chat(ALICE, thread, "hello").get("run_id").asText();
        for (String id : HOSTILE_IDS) {
            String label = id.length() > 40 ? id.substring(0, 40) + "..." : id;
            for (String[] route : THREAD_ROUTES) {
                // when
                var r = hostile(server, route[0], route[1], id, run);
                // then
                assertThat(r.status()).as(route[0] + " " + route[1] + " with " + label).isIn(400, 404);
                assertThat(r.contentType()).startsWith("application/problem+json");
            }
            for (String[] route : RUN_ROUTES) {
                var r = hostile(server, route[0], route[1], thread, id);
                assertThat(r.status()).as(route[0] + " " + route[1] + " with run " + label).isIn(400, 404);
                assertThat(r.contentType()).startsWith("application/problem+json");
            }
            var agent = server.request("GET", "/api/v1/agents/" + id).undocumented().send();
            assertThat(agent.status()).as("agent " + label).isIn(400, 404);
        }
        // and nothing changed
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).hasSize(2);
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).hasSize(1);
    }

    private static TestServer.Response hostile(TestServer server, String method, String template, String thread, String run) {
        String path = template.replace("{thread_id}", thread).replace("{run_id}", run);
        var request = server.request(method, path).as(ALICE).undocumented();
        if (!method.equals("GET") && !method.equals("DELETE")) {
            request.json("{\"message\":\"hi\",\"title\":\"t\"}");
        }
        return request.send();
    }

    @Test
    void should_answer_a_nul_or_bad_utf8_in_the_path_with_problem_json_not_an_html_page() {
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        for (String path : List.of("/api/v1/threads/%00", "/api/v1/threads/thr_%00abc", "/api/v1/threads/" + thread + "%00/messages",
                "/health%00", "/%00", "/api/v1/threads/%ff%fe", "/api/v1/threads/%c0%af", "/api/v1/threads/%ed%a0%80")) {
            // when
            var r = server.request("GET", path).as(ALICE).undocumented().send();
            // then
            assertThat(r.status()).as(path).isIn(400, 404);
            assertThat(r.contentType()).as(path).startsWith("application/problem+json");
            assertThat(r.json().get("code").asText()).as(path).isIn("bad_request", "not_found", "thread_not_found");
            assertThat(r.header("X-Request-Id")).isNotBlank();
        }
    }

    @Test
    void should_answer_400_for_nul_or_bad_unicode_in_query_parameters() {
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        for (String query : List.of("cursor=%00", "cursor=a%00b", "agent_id=%00", "limit=%00", "limit=1%00", "cursor=%ed%a0%80",
                "cursor=" + "c".repeat(2000))) {
            var r = server.request("GET", "/api/v1/threads?" + query).as(ALICE).undocumented().send();
            assertThat(r.status()).as(query).isEqualTo(400);
            assertThat(r.contentType()).startsWith("application/problem+json");
        }
        var order = server.request("GET", "/api/v1/threads/" + thread + "/messages?order=%00").as(ALICE).undocumented().send();
        assertThat(order.status()).isEqualTo(400);
    }

    // ---- headers and request lines Jetty refuses ----------------------------------------------------------

    @Test
    void should_answer_problem_json_for_requests_jetty_refuses_itself() {
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String token = Tokens.forUser(ALICE);
        Map<String, Set<Integer>> cases = new java.util.LinkedHashMap<>();
        cases.put("GET /api/v1/threads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nX-Big: " + "h".repeat(20_000)
                + "\r\nConnection: close\r\n\r\n", Set.of(431));
        cases.put("GET /api/v1/threads?cursor=" + "u".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", Set.of(414, 431));
        cases.put("GARBAGE\r\n\r\n", Set.of(400));
        cases.put("GET /api/v1/threads HTTP/9.9\r\nHost: x\r\n\r\n", Set.of(400, 505));
        cases.put("GET /api/v1/threads HTTP/2.0\r\nHost: x\r\n\r\n", Set.of(400, 426, 505));
        cases.put("GET /api/v1/threads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nIdempotency-Key: a\u0000b\r\n"
                + "Connection: close\r\n\r\n", Set.of(400));
        cases.put("POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: 5\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{\"a\":", Set.of(400));
        cases.put("POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\nzz\r\n", Set.of(400));
        for (Map.Entry<String, Set<Integer>> c : cases.entrySet()) {
            // when
            RawResponse r = raw(server, c.getKey().getBytes(StandardCharsets.ISO_8859_1));
            // then
            String label = c.getKey().length() > 50 ? c.getKey().substring(0, 50) : c.getKey();
            assertThat(r.status()).as(label).isIn(c.getValue().toArray());
            assertThat(r.contentType()).as(label).startsWith("application/problem+json");
            assertThat(TestServer.parse(r.body()).get("status").asInt()).isEqualTo(r.status());
        }
        // and nothing was stored
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).isEmpty();
    }

    // ---- bodies ------------------------------------------------------------------------------------

    @Test
    void should_answer_400_or_422_for_bytes_that_are_not_utf8_and_store_nothing() {
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        List<byte[]> invalid = List.of(
                bytes(0xC3, 0x28),                     // a broken two-byte sequence
                bytes(0xFF),                           // never valid
                bytes(0xC0, 0xAF),                     // overlong '/'
                bytes(0xE0, 0x80, 0xAF),               // overlong '/', three bytes
                bytes(0xED, 0xA0, 0x80),               // an encoded surrogate (CESU-8)
                bytes(0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80), // a surrogate pair encoded as two surrogates
                bytes(0xF4, 0x90, 0x80, 0x80),         // beyond U+10FFFF
                bytes(0xE2, 0x82),                     // cut short
                bytes(0x80));                          // a lone continuation byte
        for (byte[] bad : invalid) {
            for (String[] target : new String[][] {{"/api/v1/threads/" + thread + "/chat", "{\"message\":\"a", "b\"}"},
                    {"/api/v1/threads", "{\"title\":\"a", "b\"}"}, {"/api/v1/chat", "{\"message\":\"ok\",\"metadata\":{\"k", "\":\"v\"}}"}}) {
                // when
                byte[] body = concat(target[1].getBytes(StandardCharsets.UTF_8), bad, target[2].getBytes(StandardCharsets.UTF_8));
                var r = server.request("POST", target[0]).as(ALICE).undocumented().body("application/json", body).send();
                // then
                assertThat(r.status()).as(target[0] + " with " + hex(bad)).isIn(400, 422);
                assertThat(r.json().get("code").asText()).isIn("invalid_json", "validation_failed");
            }
        }
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).isEmpty();
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).hasSize(1);
    }

    @Test
    void should_answer_422_naming_the_field_for_nul_or_lone_surrogates_in_any_text_field() {
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        String[] poisons = {"\\u0000", "\\ud800", "\\udfff", "x\\udc00\\ud800y"};
        for (String poison : poisons) {
            List<String[]> cases = List.of(
                    new String[] {"POST", "/api/v1/threads", "{\"title\":\"a" + poison + "\"}", "title"},
                    new String[] {"POST", "/api/v1/threads", "{\"agent_id\":\"a" + poison + "\"}", "agent_id"},
                    new String[] {"POST", "/api/v1/threads", "{\"metadata\":{\"k\":\"v" + poison + "\"}}", "metadata.k"},
                    new String[] {"POST", "/api/v1/threads", "{\"metadata\":{\"k" + poison + "\":\"v\"}}", "metadata"},
                    new String[] {"PATCH", "/api/v1/threads/" + thread, "{\"title\":\"" + poison + "\"}", "title"},
                    new String[] {"POST", "/api/v1/threads/" + thread + "/chat", "{\"message\":\"" + poison + "\"}", "message"},
                    new String[] {"POST", "/api/v1/threads/" + thread + "/chat",
                            "{\"message\":[{\"type\":\"text\",\"text\":\"" + poison + "\"}]}", "message[0].text"},
                    new String[] {"POST", "/api/v1/threads/" + thread + "/chat",
                            "{\"message\":[{\"type\":\"image_url\",\"url\":\"https://x/" + poison + "\"}]}", "message[0].url"},
                    new String[] {"POST", "/api/v1/chat", "{\"message\":\"hi\",\"thread_id\":\"" + poison + "\"}", "thread_id"});
            for (String[] c : cases) {
                // when
                var r = server.request(c[0], c[1]).as(ALICE).undocumented().json(c[2]).send();
                // then
                assertThat(r.status()).as(c[2]).isEqualTo(422);
                assertThat(r.json().get("code").asText()).isEqualTo("validation_failed");
                assertThat(r.json().get("errors")).extracting(e -> e.get("field").asText()).as(c[2]).contains(c[3]);
            }
        }
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).isEmpty();
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}", thread).json().get("title").isNull()).isTrue();
    }

    @Test
    void should_refuse_deeply_nested_huge_and_pathological_json_quickly() {
        TestServer server = sweep.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        String path = "/api/v1/threads/" + thread + "/chat";
        List<String> invalidJson = List.of(
                "{\"message\":\"hi\",\"x\":" + "[".repeat(33) + "]".repeat(33) + "}",
                "{\"message\":\"hi\",\"x\":" + "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000) + "}",
                "[".repeat(200_000),
                "{\"message\":\"hi\",\"x\":1" + "0".repeat(5_000) + "}",
                "{\"message\":\"hi\",\"x\":1e99999999999}",
                "{\"message\":\"hi\",\"x\":\"" + "a".repeat(30_000_000 / 100) + "}",
                "{\"message\":\"hi\"}{\"message\":\"again\"}",
                "{\"message\":\"hi\",\"message\":\"twice\"}",
                "\uFEFF{\"message\":\"hi\"",
                "{'message':'single quotes'}",
                "{\"message\":\"hi\",}",
                "{\"message\":NaN}",
                "/* comment */{\"message\":\"hi\"}");
        for (String body : invalidJson) {
            var r = server.request("POST", path).as(ALICE).undocumented().json(body).send();
            String label = body.length() > 60 ? body.substring(0, 60) + "..." : body;
            assertThat(r.status()).as(label).isIn(400, 413);
            assertThat(r.json().get("code").asText()).as(label).isIn("invalid_json", "payload_too_large");
        }
        List<String> wrongShape = List.of(
                "{\"message\":" + "[".repeat(20) + "]".repeat(20) + "}",
                "{\"message\":[" + "{\"type\":\"text\",\"text\":\"\"},".repeat(5_000) + "{\"type\":\"text\",\"text\":\"\"}]}",
                "{\"metadata\":{" + keys(20_000) + "},\"message\":\"hi\"}",
                "{\"message\":\"" + "a".repeat(40_000) + "\"}",
                "null", "true", "\"just a string\"", "42", "[]");
        for (String body : wrongShape) {
            var r = server.request("POST", path).as(ALICE).undocumented().json(body).send();
            String label = body.length() > 60 ? body.substring(0, 60) + "..." : body;
            assertThat(r.status()).as(label).isEqualTo(422);
            assertThat(r.json().get("code").asText()).isEqualTo("validation_failed");
        }
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).isEmpty();
    }

    private static String keys(int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            sb.append(i > 0 ? "," : "").append("\"key").append(i).append("\":\"v\"");
        }
        return sb.toString();
    }

    // ---- WebSocket frames ----------------------------------------------------------------------------

    @Test
    void should_answer_hostile_frames_with_error_frames_and_keep_the_socket_open() {
        TestServer server = sweep.start(ScriptedChatModel.echo());
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
            Map<String, String> frames = new java.util.LinkedHashMap<>();
            frames.put("[".repeat(5_000), "invalid_json");
            frames.put("{\"type\":\"chat\",\"message\":" + "[".repeat(40) + "]".repeat(40) + "}", "invalid_json");
            frames.put("null", "invalid_json");
            frames.put("[]", "invalid_json");
            frames.put("\"chat\"", "invalid_json");
            frames.put("{\"type\":\"chat\",\"type\":\"cancel\"}", "invalid_json");
            frames.put("{\"type\":42}", "validation_failed");
            frames.put("{\"type\":\"chat\",\"message\":\"a\\u0000b\"}", "validation_failed");
            frames.put("{\"type\":\"chat\",\"message\":\"a\\ud800b\"}", "validation_failed");
            frames.put("{\"type\":\"chat\",\"message\":\"" + "a".repeat(32_001) + "\"}", "validation_failed");
            frames.put("{\"type\":\"chat\",\"message\":\"hi\",\"thread_id\":\"../../etc/passwd\"}", "thread_not_found");
            frames.put("{\"type\":\"chat\",\"message\":\"hi\",\"thread_id\":\"thr_" + "a".repeat(5000) + "\"}", "thread_not_found");
            frames.put("{\"type\":\"cancel\",\"run_id\":\"run_../x\"}", "run_not_found");
            frames.put("{\"type\":\"cancel\",\"run_id\":42}", "validation_failed");
            frames.put("{\"type\":\"chat\",\"request_id\":\"" + "r".repeat(129) + "\",\"message\":\"hi\"}", "validation_failed");
            frames.put("{\"type\":\"chat\",\"request_id\":\"a\\u0000\",\"message\":\"hi\"}", "validation_failed");
            frames.put("{\"type\":\"auth\",\"token\":\"x\"}", "already_authenticated");
            frames.put("{\"type\":\"__proto__\"}", "unknown_type");
            for (Map.Entry<String, String> frame : frames.entrySet()) {
                // when
                ws.sendRaw(frame.getKey());
                // then
                JsonNode answer = ws.next();
                String label = frame.getKey().length() > 60 ? frame.getKey().substring(0, 60) + "..." : frame.getKey();
                assertThat(answer.get("type").asText()).as(label).isEqualTo("error");
                assertThat(answer.get("code").asText()).as(label).isEqualTo(frame.getValue());
            }
            ws.send("{\"type\":\"ping\"}");
            assertThat(ws.next().get("type").asText()).isEqualTo("pong");
        }
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).isEmpty();
    }

    @Test
    void should_close_a_websocket_whose_frame_is_over_the_size_limit() {
        TestServer server = sweep.start(ScriptedChatModel.echo(), c -> c.maxBodyBytes(4096));
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
            // when
            ws.sendRaw("{\"type\":\"chat\",\"message\":\"" + "a".repeat(10_000) + "\"}");
            // then
            assertThat(ws.closeCode()).isEqualTo(1009);
        }
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).isEmpty();
    }

    // ---- helpers -------------------------------------------------------------------------------------

    record RawResponse(int status, String contentType, String body) {}

    /** Sends {@code request} as is on a fresh connection and reads the answer until the server closes it. */
    private static RawResponse raw(TestServer server, byte[] request) {
        try (Socket socket = new Socket("localhost", server.app.port())) {
            socket.setSoTimeout((int) TestServer.WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            socket.shutdownOutput();
            String text = new String(TestServer.readUntilClosed(socket.getInputStream()), StandardCharsets.UTF_8);
            int headerEnd = text.indexOf("\r\n\r\n");
            String head = headerEnd < 0 ? text : text.substring(0, headerEnd);
            String body = headerEnd < 0 ? "" : text.substring(headerEnd + 4);
            int status = Integer.parseInt(head.substring(9, 12));
            String contentType = "";
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-type:")) {
                    contentType = line.substring("content-type:".length()).trim();
                }
            }
            sweep.saw("http " + status + " " + contentType + "\n" + body);
            return new RawResponse(status, contentType, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            sb.append(String.format("%02X ", b));
        }
        return sb.toString().trim();
    }
}
