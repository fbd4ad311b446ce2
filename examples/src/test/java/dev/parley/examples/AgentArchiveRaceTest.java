package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.testsupport.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Chats racing the archive of their agent over HTTP: each chat either runs on the agent's last
 * active version or is refused with 409 {@code agent_archived}; no run starts after the archive
 * committed, and every chat after it is refused.
 */
class AgentArchiveRaceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final int ROUNDS = 3;
    private static final int CHATS = 6;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private String base;
    private String dbUrl;
    private String dbUser;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private void start(String store) {
        Map<String, String> env = new HashMap<>(Map.of("PARLEY_PORT", "0", "PARLEY_DEMO_TOKEN_DELAY_MS", "0", "PARLEY_RATE_LIMIT", "0"));
        if (store.equals("postgres")) {
            TestPostgres.Schema schema = TestPostgres.freshSchema("archive_race");
            resources.add(schema);
            dbUrl = schema.url();
            dbUser = null;
        } else {
            dbUrl = "jdbc:h2:mem:archive-race-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
            dbUser = "sa";
        }
        env.put("PARLEY_DB_URL", dbUrl);
        DemoServer server = DemoServer.start(DemoConfig.fromEnvironment(env));
        resources.add(server::close);
        base = "http://localhost:" + server.port();
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void should_run_each_racing_chat_on_the_last_active_version_or_refuse_it(String store) throws Exception {
        start(store);
        String admin = login("{\"user\": \"root\", \"roles\": [\"admin\"]}");
        String user = login("{\"user\": \"carol\"}");

        for (int round = 0; round < ROUNDS; round++) {
            // given: a shared agent at version 2
            String agentId = JSON.readTree(send("POST", "/api/v1/agents", admin,
                    "{\"name\": \"Racer\", \"instructions\": \"Answer.\", \"visibility\": \"shared\"}").body()).path("id").asText();
            assertThat(send("PATCH", "/api/v1/agents/" + agentId, admin, "{\"instructions\": \"Answer briefly.\"}").statusCode())
                    .isEqualTo(200);
            String chat = "{\"agent_id\": \"" + agentId + "\", \"message\": \"hello\", \"stream\": false}";

            // when: chats and the archive released at once
            List<Callable<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < CHATS; i++) {
                calls.add(() -> send("POST", "/api/v1/chat", user, chat));
            }
            calls.add(CHATS / 2, () -> send("DELETE", "/api/v1/agents/" + agentId, admin, null));
            List<HttpResponse<String>> answers = new ArrayList<>(dev.parley.testsupport.Race.of(calls));

            // then
            assertThat(answers.remove(CHATS / 2).statusCode()).isEqualTo(204);
            Instant archivedAt = archivedAt(agentId);
            for (HttpResponse<String> answer : answers) {
                JsonNode body = JSON.readTree(answer.body());
                if (answer.statusCode() == 409) {
                    assertThat(body.path("code").asText()).isEqualTo("agent_archived");
                    continue;
                }
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                JsonNode run = JSON.readTree(send("GET", "/api/v1/threads/" + body.path("thread_id").asText() + "/runs/"
                        + body.path("run_id").asText(), user, null).body());
                assertThat(run.path("agent_version").asInt()).isEqualTo(2);
                assertThat(Instant.parse(run.path("created_at").asText())).isBeforeOrEqualTo(archivedAt);
            }
            HttpResponse<String> after = send("POST", "/api/v1/chat", user, chat);
            assertThat(after.statusCode()).isEqualTo(409);
            assertThat(JSON.readTree(after.body()).path("code").asText()).isEqualTo("agent_archived");
        }
    }

    /** When the archive took the agent's row: the status change's own time, read from the database. */
    private Instant archivedAt(String agentId) throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl, dbUser, dbUser == null ? null : "");
             PreparedStatement s = c.prepareStatement("SELECT status, updated_at FROM parley_agents WHERE id = ?")) {
            s.setString(1, agentId);
            try (ResultSet r = s.executeQuery()) {
                assertThat(r.next()).isTrue();
                assertThat(r.getString(1)).isEqualTo("archived");
                return r.getObject(2, java.time.OffsetDateTime.class).toInstant();
            }
        }
    }

    private String login(String body) throws Exception {
        return JSON.readTree(send("POST", "/dev/login", null, body).body()).path("token").asText();
    }

    private HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
