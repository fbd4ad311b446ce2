package dev.parley.benchmarks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Server-side timestamps of event streams, taken in a servlet filter in front of every route: from
 * the moment the request reaches the servlet layer (headers parsed by Jetty) to the moment the first
 * event frame, and the first {@code token} frame, has been flushed to the socket. Only streamed
 * responses of {@code POST .../chat}, of {@code POST /v1/responses} (its first token: the first
 * {@code response.output_text.delta}) and of the baseline route {@code GET /bare/sse} are timed; and
 * each cancel ({@code DELETE .../chat}) from the servlet layer to its answer, and to the flush of the
 * {@code cancelled} frame on the stream of the same thread's chat.
 */
final class ServerTimings implements Filter {
    private static final byte[] TOKEN_EVENT = "event: token".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DELTA_EVENT = "event: response.output_text.delta".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CANCELLED_EVENT = "event: cancelled".getBytes(StandardCharsets.US_ASCII);

    private final Recorder parleyFirstEvent = new Recorder(3);
    private final Recorder parleyFirstToken = new Recorder(3);
    private final Recorder baselineFirstEvent = new Recorder(3);
    private final Recorder compatFirstToken = new Recorder(3);
    private final Recorder cancelAnswered = new Recorder(3);
    private final Recorder cancelToCancelled = new Recorder(3);
    /** When the cancel of a chat's path reached the servlet layer, until its stream flushes the {@code cancelled} frame. */
    private final ConcurrentHashMap<String, Long> cancelArrived = new ConcurrentHashMap<>();

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        String path = req.getRequestURI();
        boolean baseline = path.equals("/bare/sse");
        boolean chat = path.endsWith("/chat") && path.startsWith("/api/");
        boolean compat = path.equals("/v1/responses") && "POST".equals(req.getMethod());
        if (chat && "DELETE".equals(req.getMethod())) {
            long start = System.nanoTime();
            cancelArrived.put(path, start);
            try {
                chain.doFilter(request, response);
            } finally {
                cancelAnswered.recordValue(micros(System.nanoTime() - start));
            }
            return;
        }
        if (!baseline && !compat && !(chat && "POST".equals(req.getMethod()))) {
            chain.doFilter(request, response);
            return;
        }
        // recorded when the frame is flushed, not when the handler returns: a stream may be pumped
        // by another thread after the request's own has been handed back (servlet async)
        cancelArrived.remove(path);
        chain.doFilter(request, new Timed((HttpServletResponse) response, System.nanoTime(), baseline, compat, path));
    }

    /** Percentiles (µs) since the last call, then starts a new interval. */
    ObjectNode snapshot(ObjectNode into) {
        Stats.put(into, "parley_first_event_us", parleyFirstEvent.getIntervalHistogram());
        Stats.put(into, "parley_first_token_us", parleyFirstToken.getIntervalHistogram());
        Stats.put(into, "baseline_first_event_us", baselineFirstEvent.getIntervalHistogram());
        Stats.put(into, "compat_first_token_us", compatFirstToken.getIntervalHistogram());
        Stats.put(into, "cancel_answered_us", cancelAnswered.getIntervalHistogram());
        Stats.put(into, "cancel_to_cancelled_us", cancelToCancelled.getIntervalHistogram());
        return into;
    }

    private static long micros(long nanos) {
        return Math.max(1, nanos / 1_000);
    }

    /** Summaries of histograms as JSON. */
    static final class Stats {
        private Stats() {}

        static void put(ObjectNode into, String name, Histogram h) {
            ObjectNode o = into.putObject(name);
            o.put("count", h.getTotalCount());
            o.put("p50", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(50));
            o.put("p90", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(90));
            o.put("p99", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(99));
            o.put("max", h.getMaxValue());
        }
    }

    private final class Timed extends HttpServletResponseWrapper {
        private final long start;
        private final boolean baseline;
        private final boolean compat;
        private final String path;
        private ServletOutputStream stream;
        volatile long firstEvent;
        volatile long firstToken;

        Timed(HttpServletResponse response, long start, boolean baseline, boolean compat, String path) {
            super(response);
            this.start = start;
            this.baseline = baseline;
            this.compat = compat;
            this.path = path;
        }

        private boolean isEventStream() {
            String type = getContentType();
            return type != null && type.startsWith("text/event-stream");
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            if (stream == null) {
                stream = new TimedStream(super.getOutputStream());
            }
            return stream;
        }

        private final class TimedStream extends ServletOutputStream {
            private final ServletOutputStream out;
            private boolean written;
            private boolean tokenWritten;
            private boolean cancelledWritten;

            TimedStream(ServletOutputStream out) {
                this.out = out;
            }

            @Override
            public void write(int b) throws IOException {
                written = true;
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len > 0) {
                    written = true;
                    if (firstToken == 0 && (compat ? contains(b, off, len, DELTA_EVENT) : contains(b, off, Math.min(len, 48), TOKEN_EVENT))) {
                        tokenWritten = true;
                    }
                    if (!baseline && !cancelledWritten && contains(b, off, len, CANCELLED_EVENT)) {
                        cancelledWritten = true;
                    }
                }
                out.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                out.flush();
                if (written && firstEvent == 0) {
                    firstEvent = System.nanoTime() - start;
                    if (isEventStream() && !compat) {
                        (baseline ? baselineFirstEvent : parleyFirstEvent).recordValue(micros(firstEvent));
                    }
                }
                if (cancelledWritten) {
                    Long arrived = cancelArrived.remove(path);
                    if (arrived != null) {
                        cancelToCancelled.recordValue(micros(System.nanoTime() - arrived));
                    }
                }
                if (tokenWritten && firstToken == 0) {
                    firstToken = System.nanoTime() - start;
                    if (!baseline && isEventStream()) {
                        (compat ? compatFirstToken : parleyFirstToken).recordValue(micros(firstToken));
                    }
                }
            }

            @Override
            public void close() throws IOException {
                flush();
                out.close();
            }

            @Override
            public boolean isReady() {
                return out.isReady();
            }

            @Override
            public void setWriteListener(WriteListener listener) {
                out.setWriteListener(listener);
            }

            private static boolean contains(byte[] b, int off, int len, byte[] needle) {
                int end = off + len - needle.length;
                outer:
                for (int i = off; i <= end; i++) {
                    for (int j = 0; j < needle.length; j++) {
                        if (b[i + j] != needle[j]) {
                            continue outer;
                        }
                    }
                    return true;
                }
                return false;
            }
        }
    }
}
