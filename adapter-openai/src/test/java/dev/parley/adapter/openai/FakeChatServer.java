package dev.parley.adapter.openai;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An in-test Chat Completions server on an ephemeral port: replays scripted replies in order and
 * records every request it received.
 */
final class FakeChatServer implements AutoCloseable {

    /** What the fake server received. */
    record Received(String method, String path, String query, Map<String, List<String>> headers, String body, long atNanos) {
        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    /** One scripted reply. */
    interface Reply {
        void write(HttpExchange exchange, CountDownLatch released) throws IOException;
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final CountDownLatch released = new CountDownLatch(1);

    FakeChatServer() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    FakeChatServer then(Reply reply) {
        replies.add(reply);
        return this;
    }

    List<Received> received() {
        return List.copyOf(received);
    }

    /** Waits until {@code n} requests have arrived; false when they did not within the timeout. */
    boolean awaitRequests(int n, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (received) {
            while (received.size() < n) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                received.wait(left);
            }
            return true;
        }
    }

    Received lastRequest() {
        return received.get(received.size() - 1);
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        Received r = new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                exchange.getRequestURI().getRawQuery(), Map.copyOf(exchange.getRequestHeaders()),
                new String(body, StandardCharsets.UTF_8), System.nanoTime());
        synchronized (received) {
            received.add(r);
            received.notifyAll();
        }
        Reply reply = replies.poll();
        if (reply == null) {
            reply = json(500, "{\"error\":{\"message\":\"no scripted reply\"}}");
        }
        try {
            reply.write(exchange, released);
        } catch (IOException clientWentAway) {
            // the client aborted; nothing to do
        } finally {
            exchange.close();
        }
    }

    /** An SSE reply: each piece is written and flushed on its own. */
    static Reply sse(String... pieces) {
        return (exchange, released) -> {
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream; charset=utf-8");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            for (String piece : pieces) {
                out.write(piece.getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        };
    }

    /** SSE events ({@code data: x\n\n} each) as OpenAI-compatible servers write them. */
    static Reply events(List<String> dataLines) {
        List<String> pieces = new ArrayList<>();
        for (String d : dataLines) {
            pieces.add("data: " + d + "\n\n");
        }
        return sse(pieces.toArray(String[]::new));
    }

    /** Writes the pieces, then holds the response open until the server closes. */
    static Reply sseThenHang(String... pieces) {
        Reply start = sse(pieces);
        return (exchange, released) -> {
            start.write(exchange, released);
            awaitQuietly(released);
        };
    }

    /** Never answers (until the server closes). */
    static Reply hang() {
        return (exchange, released) -> awaitQuietly(released);
    }

    static Reply json(int status, String body, String... headerPairs) {
        return (exchange, released) -> {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            for (int i = 0; i + 1 < headerPairs.length; i += 2) {
                exchange.getResponseHeaders().add(headerPairs[i], headerPairs[i + 1]);
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                exchange.getResponseBody().write(bytes);
            }
        };
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
