package dev.parley.adapter.http;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.LifeCycle;

/**
 * Closes an HTTP connection that has not sent one complete request head within a deadline of its
 * opening: a client that opens sockets and trickles bytes (or none) holds no connection longer than
 * that, whatever Jetty's idle timeout (which every trickled byte renews). Connections that sent a
 * request, and upgraded WebSockets, are left alone.
 */
final class RequestHeaderTimeout implements Connection.Listener {
    private final Duration timeout;
    private final ScheduledThreadPoolExecutor timer;
    private final Map<Connection, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();

    private RequestHeaderTimeout(Duration timeout) {
        this.timeout = timeout;
        this.timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, "parley-request-header-timeout");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
    }

    /** Watches every connector of {@code server} once it starts; stops with it. */
    static void install(Server server, Duration timeout) {
        RequestHeaderTimeout watch = new RequestHeaderTimeout(timeout);
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStarting(LifeCycle event) {
                for (Connector connector : server.getConnectors()) {
                    connector.addEventListener(watch);
                }
            }

            @Override
            public void lifeCycleStopped(LifeCycle event) {
                watch.timer.shutdownNow();
            }
        });
    }

    @Override
    public void onOpened(Connection connection) {
        if (!(connection instanceof ConnectionMetaData)) {
            return; // not an HTTP/1 connection (an upgraded WebSocket, for one)
        }
        pending.put(connection, timer.schedule(() -> {
            pending.remove(connection);
            if (connection.getMessagesIn() == 0 && connection.getEndPoint().isOpen()) {
                connection.getEndPoint().close();
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Override
    public void onClosed(Connection connection) {
        ScheduledFuture<?> check = pending.remove(connection);
        if (check != null) {
            check.cancel(false);
        }
    }
}
