package dev.parley.adapter.openai;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 server on a raw socket for byte-level control: it writes chunks exactly as told,
 * can drop the connection abruptly, and sees when the client closes its side.
 */
final class RawHttpServer implements AutoCloseable {

    /** What to do with one accepted connection once its request has been read. */
    interface Script {
        void run(Connection connection) throws IOException;
    }

    /** One accepted connection. */
    static final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        final String requestBody;

        Connection(Socket socket, String requestBody) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            this.requestBody = requestBody;
        }

        void sseHead() throws IOException {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        void chunk(byte[] bytes) throws IOException {
            out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        void chunk(String text) throws IOException {
            chunk(text.getBytes(StandardCharsets.UTF_8));
        }

        void endChunks() throws IOException {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        /** Closes the socket without ending the chunked body. */
        void drop() throws IOException {
            socket.close();
        }

        /**
         * Blocks until the client closes the connection and returns {@link System#nanoTime()} at
         * that moment, or -1 when it stayed open for {@code timeoutMillis}.
         */
        long awaitClientClose(int timeoutMillis) throws IOException {
            socket.setSoTimeout(timeoutMillis);
            byte[] buf = new byte[256];
            try {
                while (in.read(buf) >= 0) {
                    // the client sends nothing more after its request; keep reading until it closes
                }
                return System.nanoTime();
            } catch (SocketTimeoutException stillOpen) {
                return -1;
            } catch (IOException reset) {
                return System.nanoTime();
            }
        }
    }

    private final ServerSocket serverSocket;
    private final ConcurrentLinkedQueue<Script> scripts = new ConcurrentLinkedQueue<>();
    private final CopyOnWriteArrayList<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final CopyOnWriteArrayList<Throwable> failures = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    RawHttpServer() throws IOException {
        serverSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "raw-http-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    RawHttpServer then(Script script) {
        scripts.add(script);
        return this;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + serverSocket.getLocalPort() + "/v1";
    }

    int requests() {
        return requests.get();
    }

    private void acceptLoop() {
        while (!serverSocket.isClosed()) {
            try {
                Socket socket = serverSocket.accept();
                socket.setTcpNoDelay(true);
                sockets.add(socket);
                Thread t = new Thread(() -> serve(socket), "raw-http-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            String body = readRequest(socket.getInputStream());
            if (body == null) {
                return;
            }
            requests.incrementAndGet();
            Script script = scripts.poll();
            Connection connection = new Connection(socket, body);
            if (script == null) {
                connection.out.write("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                return;
            }
            script.run(connection);
        } catch (IOException ignored) {
            // the client went away
        } catch (RuntimeException | Error e) {
            failures.add(e);
        }
    }

    private static String readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4 && (b = in.read()) >= 0) {
            head.write(b);
            matched = (b == '\r' || b == '\n') && "\r\n\r\n".charAt(matched) == b ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        if (matched < 4) {
            return null;
        }
        int length = 0;
        for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        serverSocket.close();
        for (Socket s : sockets) {
            s.close();
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("a server script failed", failures.get(0));
        }
    }
}
