package dev.parley.adapter.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** {@code @modelcontextprotocol/server-everything} from npm (mcp-servers/), started over stdio or Streamable HTTP. */
final class Everything {
    private Everything() {
    }

    /** The server's script; the test is skipped when npm did not install it, except under CI=true. */
    static Path script() {
        String property = System.getProperty("parley.mcp.everything", "mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        Path script = Path.of(property);
        if (!Files.isRegularFile(script)) {
            assertThat("true".equals(System.getenv("CI"))).as("CI=true needs %s (mcp-servers/install.sh)", script).isFalse();
            Assumptions.abort("server-everything is not installed (needs Node.js 20+ and npm): " + script);
        }
        return script;
    }

    static McpServerConfig stdio(String name) {
        return McpServerConfig.stdio(name, "node", List.of(script().toString(), "stdio"), Map.of());
    }

    /** The server over Streamable HTTP on a free loopback port; close it to stop it. */
    static final class Http implements AutoCloseable {
        final Process process;
        final URI url;

        Http() throws IOException, InterruptedException {
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            ProcessBuilder builder = new ProcessBuilder("node", script().toString(), "streamableHttp");
            builder.environment().put("PORT", String.valueOf(port));
            builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            process = builder.start();
            CountDownLatch listening = new CountDownLatch(1);
            Thread stderr = new Thread(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        if (line.contains("listening on port")) {
                            listening.countDown();
                        }
                    }
                } catch (IOException ignored) {
                    // stopped
                }
            });
            stderr.setDaemon(true);
            stderr.start();
            assertThat(listening.await(30, TimeUnit.SECONDS)).as("server-everything listens").isTrue();
            url = URI.create("http://127.0.0.1:" + port + "/mcp");
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
