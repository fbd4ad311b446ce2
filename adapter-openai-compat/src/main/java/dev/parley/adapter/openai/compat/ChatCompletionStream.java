package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.ChatFlow;
import dev.parley.adapter.http.HttpGateway;
import dev.parley.chat.model.RunEvent;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A run's events as Chat Completions chunks: {@code data: {"object": "chat.completion.chunk", ...}}
 * per text delta, a last chunk with {@code finish_reason}, the usage chunk when the client asked
 * ({@code stream_options.include_usage}), then {@code data: [DONE]}. A failure is written as
 * {@code data: {"error": {...}}}, which the SDKs raise.
 */
final class ChatCompletionStream implements ChatFlow.Sink {
    private static final byte[] HEARTBEAT = ": keep-alive\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.UTF_8);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.UTF_8);

    private final HttpServletResponse res;
    private final String id;
    private final long created;
    private final String model;
    private final boolean includeUsage;
    private final Runnable cancel;
    /** The chunk of a token after the first (which also gives the role), its fixed parts rendered once. */
    private final TextFrame tokenChunk;
    private ServletOutputStream out;
    private boolean roleSent;
    private boolean ended;

    ChatCompletionStream(HttpServletResponse res, String id, long created, String model, boolean includeUsage, Runnable cancel) {
        this.res = res;
        this.id = id;
        this.created = created;
        this.model = model;
        this.includeUsage = includeUsage;
        this.cancel = cancel;
        this.tokenChunk = TextFrame.chatChunk(id, created, model);
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
        if (ended) {
            return;
        }
        if (event instanceof RunEvent.Token token) {
            if (roleSent) {
                out.write(tokenChunk.bytes(DATA, token.content(), 0, END));
                return;
            }
            roleSent = true;
            write(chunk(Wire.object().put("role", "assistant").put("content", token.content()), null));
        } else if (event instanceof RunEvent.Done done) {
            if (!roleSent) {
                write(chunk(Wire.object().put("role", "assistant").put("content", ""), null));
            }
            write(chunk(Wire.object(), done.finishReason().wireName())); // "stop", or "length" at the output token limit
            if (includeUsage) {
                ObjectNode usage = base();
                usage.putArray("choices");
                usage.set("usage", ChatCompletions.usage(done.usage()));
                write(usage);
            }
            out.write(DONE);
            ended = true;
        } else if (event instanceof RunEvent.Cancelled) {
            write(chunk(Wire.object(), "stop"));
            out.write(DONE);
            ended = true;
        } else if (event instanceof RunEvent.Error error) {
            error(new OpenAiError(502, "server_error", null, "model_error", "The agent's run failed: " + error.message()));
        } else if (event instanceof RunEvent.ApprovalRequired) {
            cancel.run();
            error(ChatCompletions.approvalNotOffered());
        }
    }

    private void error(OpenAiError error) throws IOException {
        ObjectNode frame = Wire.object();
        frame.set("error", error.body());
        write(frame);
        ended = true;
    }

    private ObjectNode base() {
        ObjectNode o = Wire.object();
        o.put("id", id);
        o.put("object", "chat.completion.chunk");
        o.put("created", created);
        o.put("model", model);
        o.putNull("system_fingerprint");
        return o;
    }

    private ObjectNode chunk(ObjectNode delta, String finishReason) {
        ObjectNode o = base();
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        return o;
    }

    private void write(ObjectNode frame) throws IOException {
        out.write(("data: " + Wire.write(frame) + "\n\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void heartbeat() throws IOException {
        out.write(HEARTBEAT);
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public boolean isOpen() {
        return !ended;
    }
}
