package dev.parley.adapter.openai.compat;

import dev.parley.adapter.http.ChatFlow;
import dev.parley.adapter.http.HttpGateway;
import dev.parley.chat.model.RunEvent;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * A response's events ({@link ResponseEvents}) as OpenAI's server-sent events, {@code event: <type>}
 * and {@code data: {..., "sequence_number": n}}, written by the shared chat flow. Resuming
 * after {@code sequence_number} N replays the run's log and writes only what comes after N. The stream
 * ends after the response's terminal event, also when the run goes on (a wait for approval).
 */
final class ResponseStream implements ChatFlow.Sink {
    private static final byte[] HEARTBEAT = ": keep-alive\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TEXT_DELTA = ("event: " + TextFrame.OUTPUT_TEXT_DELTA + "\ndata: ").getBytes(StandardCharsets.UTF_8);
    private static final byte[] REASONING_DELTA = ("event: " + TextFrame.REASONING_DELTA + "\ndata: ").getBytes(StandardCharsets.UTF_8);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.UTF_8);

    private final HttpServletResponse res;
    private final long startingAfter;
    private final ResponseEvents events;
    private ServletOutputStream out;
    private IOException failure;

    /** @param startingAfter events numbered up to this are not written (-1 for all) */
    ResponseStream(HttpServletResponse res, ResponseEvents.Factory events, long startingAfter) {
        this.res = res;
        this.startingAfter = startingAfter;
        this.events = events.create(new ResponseEvents.Emitter() {
            @Override
            public void emit(long sequenceNumber, String type, Supplier<String> json) {
                write(sequenceNumber, type, json);
            }

            @Override
            public void delta(long sequenceNumber, TextFrame frame, String text) {
                if (sequenceNumber > startingAfter && failure == null) {
                    byte[] head = frame.type().equals(TextFrame.OUTPUT_TEXT_DELTA) ? TEXT_DELTA : REASONING_DELTA;
                    write(frame.bytes(head, text, sequenceNumber, END));
                }
            }
        });
    }

    @Override
    public boolean webSocket() {
        return false;
    }

    @Override
    public void open() throws IOException {
        HttpGateway.eventStreamHeaders(res);
        out = res.getOutputStream();
    }

    @Override
    public void event(RunEvent event) throws IOException {
        events.accept(event);
        rethrow();
    }

    @Override
    public void heartbeat() throws IOException {
        out.write(HEARTBEAT);
    }

    @Override
    public void flush() throws IOException {
        // what was written so far is all there is for now: a begun tool call is shown, and the
        // approval requests of this turn end the response
        events.settle();
        events.endPause();
        rethrow();
        out.flush();
    }

    @Override
    public boolean isOpen() {
        return !events.ended();
    }

    private void write(long sequenceNumber, String type, Supplier<String> json) {
        if (sequenceNumber <= startingAfter || failure != null) {
            return;
        }
        write(("event: " + type + "\ndata: " + json.get() + "\n\n").getBytes(StandardCharsets.UTF_8));
    }

    private void write(byte[] frame) {
        try {
            out.write(frame);
        } catch (IOException e) {
            failure = e;
        }
    }

    private void rethrow() throws IOException {
        if (failure != null) {
            IOException e = failure;
            failure = null;
            throw e;
        }
    }
}
