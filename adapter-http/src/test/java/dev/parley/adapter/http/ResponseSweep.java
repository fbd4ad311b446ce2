package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts the servers of a security test class, closes them after each test, and after the class
 * checks everything they ever sent (bodies, frames, close reasons, raw responses): no stack trace,
 * SQL, Java class or package name, or HTML error page, and every HTTP error as problem+json.
 */
final class ResponseSweep implements AfterEachCallback, AfterAllCallback {
    /** What must never reach a client. */
    static final List<Pattern> LEAKS = List.of(
            Pattern.compile("dev\\.parley"),
            Pattern.compile("\\bjava\\."),
            Pattern.compile("\\bjavax?\\.[a-z]"),
            Pattern.compile("\\bjakarta\\."),
            Pattern.compile("\\borg\\.[a-z]"),
            Pattern.compile("\\bcom\\.(fasterxml|nimbusds|zaxxer)"),
            Pattern.compile("Exception"),
            Pattern.compile("Caused by"),
            Pattern.compile("\\bat [\\w$.]+\\([\\w$]+\\.java:\\d+\\)"),
            Pattern.compile("(?i)\\b(select|insert into|update|delete from)\\b.*\\b(from|set|where|values)\\b"),
            Pattern.compile("(?i)jdbc:"),
            Pattern.compile("(?i)sqlstate"),
            Pattern.compile("(?i)<html"),
            Pattern.compile("(?i)jetty"));

    private final List<TestServer> running = new ArrayList<>();
    private final List<String> seen = new CopyOnWriteArrayList<>();

    TestServer start(ScriptedChatModel model) {
        return start(model, c -> c);
    }

    TestServer start(ScriptedChatModel model, UnaryOperator<ParleyHttp.Config.Builder> customize) {
        TestServer server = TestServer.start(model, customize);
        running.add(server);
        return server;
    }

    /** Adds what a client received outside {@link TestServer}'s own clients (a raw socket). */
    void saw(String response) {
        seen.add(response);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (TestServer server : running) {
            seen.addAll(server.transcript);
            server.close();
        }
        running.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        assertThat(seen).as("responses swept").isNotEmpty();
        for (String response : seen) {
            String shown = response.length() > 300 ? response.substring(0, 300) + "..." : response;
            for (Pattern leak : LEAKS) {
                assertThat(leak.matcher(response).find()).as("%s in %s", leak, shown).isFalse();
            }
            if (response.startsWith("http ")) {
                int status = Integer.parseInt(response.substring(5, 8));
                if (status >= 400) {
                    assertThat(response).as("an HTTP error is problem+json: %s", shown)
                            .startsWith("http " + status + " application/problem+json");
                }
            }
        }
    }
}
