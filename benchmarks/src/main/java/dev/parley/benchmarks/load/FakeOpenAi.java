package dev.parley.benchmarks.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A model server that speaks just enough of the Chat Completions streaming format on a plain socket
 * to be cancelled: it answers every request with one content delta at once and then a delta every
 * {@code intervalMillis}, forever, and notes the moment the client closes the connection (a blocked
 * read returns end-of-stream or fails), on this process's {@link System#nanoTime()} clock.
 */
public final class FakeOpenAi implements AutoCloseable {
    private static final String CHUNK = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"fake-model\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"%s\"},\"finish_reason\":null}]}\n\n";

    private final ServerSocket server;
    private final long intervalMillis;
    private final BlockingQueue<Connection> connections = new LinkedBlockingQueue<>();
    private volatile boolean open = true;

    /** One accepted exchange: completes with the nanoTime at which the client closed it. */
    public record Connection(CompletableFuture<Long> closedAt) {}

    public FakeOpenAi(long intervalMillis) throws IOException {
        this.intervalMillis = intervalMillis;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        Load.EXECUTOR.execute(this::accept);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getLocalPort() + "/v1";
    }

    /** The next exchange the model adapter opens, waiting for it. */
    public Connection nextConnection() throws InterruptedException {
        return connections.take();
    }

    private void accept() {
        while (open) {
            try {
                Socket socket = server.accept();
                socket.setTcpNoDelay(true);
                Load.EXECUTOR.execute(() -> serve(socket));
            } catch (IOException e) {
                if (open) {
                    Load.noteError(e);
                }
            }
        }
    }

    private void serve(Socket socket) {
        Connection connection = new Connection(new CompletableFuture<>());
        try (socket) {
            InputStream in = socket.getInputStream();
            int length = readHead(in);
            in.readNBytes(length);
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            chunk(out, String.format(Locale.ROOT, CHUNK, "hi"));
            connections.add(connection);
            Load.EXECUTOR.execute(() -> {
                try {
                    while (in.read() >= 0) {
                        // a client sends nothing more on this exchange
                    }
                } catch (IOException closed) {
                    // reset by the client: closed as well
                }
                connection.closedAt().complete(System.nanoTime());
            });
            long until = System.nanoTime() + 60_000_000_000L;
            while (!connection.closedAt().isDone() && System.nanoTime() < until) {
                Thread.sleep(intervalMillis);
                chunk(out, String.format(Locale.ROOT, CHUNK, "."));
            }
        } catch (IOException e) {
            connection.closedAt().complete(System.nanoTime());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads the request head; returns its Content-Length. */
    private static int readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4 && (b = in.read()) >= 0) {
            head.write(b);
            matched = (b == '\r' || b == '\n') ? matched + 1 : 0;
        }
        int length = 0;
        for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return length;
    }

    private static void chunk(OutputStream out, String data) throws IOException {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        open = false;
        server.close();
    }
}
