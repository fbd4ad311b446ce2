package dev.parley.adapter.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A loopback TCP forwarder standing between a pool and a database, so that a test can take the
 * database away (every connection cut, new ones refused) and bring it back on the same port.
 *
 * <p>{@link #stop()} is atomic with respect to connections being set up: a socket is forwarded
 * only once it is registered under the proxy's lock while its listener is still the current one,
 * so a connection accepted just before a stop (a pool filling itself in the background) is closed
 * by the stop or refused registration right after it, never left forwarding.
 */
final class TcpProxy implements AutoCloseable {
    private final String targetHost;
    private final int targetPort;
    /** Open sockets of the current listener; guarded by {@code this}. */
    private final Set<Socket> sockets = new HashSet<>();
    /** The current listener, null while stopped; guarded by {@code this}. */
    private ServerSocket server;
    private int port;

    TcpProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
    }

    /** Starts listening (on a free port the first time, on the same port afterwards). */
    synchronized TcpProxy start() throws IOException {
        if (server != null) {
            throw new IllegalStateException("the proxy is already listening");
        }
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        port = s.getLocalPort();
        server = s;
        Thread acceptor = new Thread(() -> accept(s), "tcp-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return this;
    }

    synchronized int port() {
        return port;
    }

    /**
     * Stops listening and cuts every connection; when it returns, no connection made through this
     * proxy forwards anything until the next {@link #start()}.
     */
    synchronized void stop() throws IOException {
        ServerSocket s = server;
        server = null;
        if (s != null) {
            s.close();
        }
        for (Socket socket : List.copyOf(sockets)) {
            closeQuietly(socket);
        }
        sockets.clear();
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private void accept(ServerSocket s) {
        while (!s.isClosed()) {
            Socket client;
            try {
                client = s.accept();
            } catch (IOException e) {
                return; // closed by stop()
            }
            if (!register(s, client)) {
                closeQuietly(client);
                continue;
            }
            Socket upstream;
            try {
                upstream = new Socket(targetHost, targetPort);
            } catch (IOException e) {
                unregisterAndClose(client); // the target refused: the client sees its socket close
                continue;
            }
            if (!register(s, upstream)) {
                // stopped meanwhile: stop() has closed the client already
                closeQuietly(upstream);
                continue;
            }
            pump(client, upstream);
            pump(upstream, client);
        }
    }

    /** Tracks {@code socket} so that a stop closes it; false when {@code listener} was stopped meanwhile. */
    private synchronized boolean register(ServerSocket listener, Socket socket) {
        if (server != listener) {
            return false;
        }
        sockets.add(socket);
        return true;
    }

    private synchronized void forget(Socket socket) {
        sockets.remove(socket);
    }

    private void unregisterAndClose(Socket socket) {
        forget(socket);
        closeQuietly(socket);
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side went away
            } finally {
                unregisterAndClose(from);
                unregisterAndClose(to);
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
