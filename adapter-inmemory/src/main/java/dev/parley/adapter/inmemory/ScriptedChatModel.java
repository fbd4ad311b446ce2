package dev.parley.adapter.inmemory;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A {@link ChatModel} for tests that plays scripted turns, one per call, in order:
 * <pre>{@code
 * ScriptedChatModel model = ScriptedChatModel.builder()
 *         .callTools(new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}"))
 *         .reply("The answer is 42").usage(12, 5)
 *         .build();
 * }</pre>
 * When the turns run out it echoes the last user message (or answers with
 * {@link Builder#respondWith}). It records every request, streams with optional per-delta
 * delays, and stops promptly with {@link RunCancelledException} when the call's
 * {@link Cancellation} fires (or its thread is interrupted). A turn can block mid-stream until the
 * test calls {@link #release()}, so tests can act "during" a call without sleeping:
 * <pre>{@code
 * var model = ScriptedChatModel.builder().tokensThenBlock("Hel", "lo").build();
 * // ... start a run, then:
 * model.awaitBlocked(Duration.ofSeconds(5)); // "Hel", "lo" were streamed
 * cancel(run);                               // the call throws RunCancelledException
 * }</pre>
 * Thread-safe; turns can be added while in use with {@link #enqueue}.
 */
public final class ScriptedChatModel implements ChatModel {
    private final ScriptedCalls calls = new ScriptedCalls();
    private final ReentrantLock lock = calls.lock;
    private final Deque<Function<ModelRequest, Script>> turns;
    private final Function<ModelRequest, Script> fallback;
    private final Duration defaultTokenDelay;
    private final String defaultModel;

    private ScriptedChatModel(Builder b) {
        this.turns = new ArrayDeque<>(b.turns);
        this.fallback = b.fallback;
        this.defaultTokenDelay = b.defaultTokenDelay;
        this.defaultModel = b.defaultModel;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A model that answers every call with the text of the last user message. */
    public static ScriptedChatModel echo() {
        return builder().build();
    }

    /** A model that answers successive calls with {@code replies}, then echoes. */
    public static ScriptedChatModel replying(String... replies) {
        Builder b = builder();
        for (String r : replies) {
            b.reply(r);
        }
        return b.build();
    }

    /** Adds a turn after the scripted ones; returns this model. */
    public ScriptedChatModel enqueue(Script script) {
        Require.notNull(script, "script");
        return enqueue(request -> script);
    }

    /** Adds a turn decided by the request when it is played; returns this model. */
    public ScriptedChatModel enqueue(Function<ModelRequest, Script> turn) {
        Require.notNull(turn, "turn");
        lock.lock();
        try {
            turns.addLast(turn);
        } finally {
            lock.unlock();
        }
        return this;
    }

    @Override
    public String defaultModel() {
        return defaultModel;
    }

    @Override
    public ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        Function<ModelRequest, Script> turn;
        lock.lock();
        try {
            calls.received(request);
            turn = turns.isEmpty() ? fallback : turns.removeFirst();
            calls.changed.signalAll();
        } finally {
            lock.unlock();
        }
        Script script = Require.notNull(turn.apply(request), "script");
        Cancellation.Registration wakeOnCancel = cancellation.onCancel(calls::wakeAll);
        try {
            return play(script, listener, cancellation);
        } finally {
            wakeOnCancel.close();
        }
    }

    private ModelResponse play(Script script, ModelStreamListener listener, Cancellation cancellation) {
        cancellation.throwIfCancelled();
        Duration delay = script.tokenDelay != null ? script.tokenDelay : defaultTokenDelay;
        StringBuilder text = new StringBuilder();
        for (Action action : script.actions) {
            if (action instanceof Action.Block) {
                calls.awaitRelease(cancellation);
                continue;
            }
            calls.pause(delay, cancellation);
            cancellation.throwIfCancelled();
            if (action instanceof Action.Token token) {
                text.append(token.text);
                listener.onToken(token.text);
            } else if (action instanceof Action.Thinking thinking) {
                listener.onThinking(thinking.text);
            }
        }
        switch (script.ending) {
            case HANG:
                calls.pause(null, cancellation);
                throw new RunCancelledException();
            case FAIL:
                throw new ModelException(script.failureCode, script.failureMessage);
            default:
                String finish = script.finishReason != null ? script.finishReason
                        : script.toolCalls.isEmpty() ? "stop" : "tool_calls";
                return new ModelResponse(text.toString(), script.toolCalls, script.usage, finish,
                        script.model != null ? script.model : defaultModel);
        }
    }

    /** Lets one call blocked at a {@link Script#thenBlock()} step (or the next one to get there) go on. */
    public void release() {
        calls.release();
    }

    /** Waits until a call is blocked at a {@link Script#thenBlock()} step; false on timeout. */
    public boolean awaitBlocked(Duration timeout) throws InterruptedException {
        return calls.awaitBlocked(timeout);
    }

    /** Waits until at least {@code count} calls have started; false on timeout. */
    public boolean awaitCalls(int count, Duration timeout) throws InterruptedException {
        return calls.awaitCalls(count, timeout);
    }

    /** Every request received so far, in order. */
    public List<ModelRequest> requests() {
        return calls.requests();
    }

    /** The last request received; IllegalStateException when there was none. */
    public ModelRequest lastRequest() {
        return calls.lastRequest();
    }

    /** How many calls have started. */
    public int callCount() {
        return calls.requests().size();
    }

    /** How many scripted turns have not been played yet. */
    public int remainingTurns() {
        lock.lock();
        try {
            return turns.size();
        } finally {
            lock.unlock();
        }
    }

    private static Script echoLastUserMessage(ModelRequest request) {
        List<Message> messages = request.messages();
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                return Script.reply(messages.get(i).text());
            }
        }
        return Script.reply("");
    }

    /** One scripted step of a turn. */
    private sealed interface Action {
        record Token(String text) implements Action {}

        record Thinking(String text) implements Action {}

        record Block() implements Action {}
    }

    private enum Ending { COMPLETE, FAIL, HANG }

    /**
     * What the model does on one call: a sequence of streamed deltas (answer tokens, thinking,
     * blocking points), then an ending (a response with text and tool calls, a failure, or hanging
     * until cancelled). Immutable; each method returns a new script.
     */
    public static final class Script {
        private final List<Action> actions;
        private final Ending ending;
        private final List<ToolCall> toolCalls;
        private final String failureCode;
        private final String failureMessage;
        private final Usage usage;
        private final Duration tokenDelay;
        private final String finishReason;
        private final String model;

        private Script(List<Action> actions, Ending ending, List<ToolCall> toolCalls, String failureCode,
                       String failureMessage, Usage usage, Duration tokenDelay, String finishReason, String model) {
            this.actions = List.copyOf(actions);
            this.ending = ending;
            this.toolCalls = List.copyOf(toolCalls);
            this.failureCode = failureCode;
            this.failureMessage = failureMessage;
            this.usage = usage;
            this.tokenDelay = tokenDelay;
            this.finishReason = finishReason;
            this.model = model;
        }

        private static Script of(List<Action> actions) {
            return new Script(actions, Ending.COMPLETE, List.of(), null, null, null, null, null, null);
        }

        /** Answers {@code text}, streamed word by word (each delta a word with the whitespace before it). */
        public static Script reply(String text) {
            return of(List.of()).thenReply(text);
        }

        /** Answers the concatenation of {@code tokens}, streamed one per delta. */
        public static Script tokens(String... tokens) {
            return of(List.of()).thenTokens(tokens);
        }

        /** Streams {@code text} as reasoning (word by word), then answers with nothing unless continued. */
        public static Script thinking(String text) {
            return of(List.of()).thenThinking(text);
        }

        /** Asks for tool calls without any text. */
        public static Script toolCalls(ToolCall... calls) {
            return of(List.of()).thenCallTools(calls);
        }

        /** Fails at once with ModelException({@code code}, {@code message}). */
        public static Script failure(String code, String message) {
            return of(List.of()).thenFail(code, message);
        }

        /** Streams nothing and blocks until cancelled, then throws RunCancelledException. */
        public static Script hangUntilCancelled() {
            return of(List.of()).thenHang();
        }

        private Script withActions(List<Action> more) {
            List<Action> all = new ArrayList<>(actions);
            all.addAll(more);
            return new Script(all, ending, toolCalls, failureCode, failureMessage, usage, tokenDelay, finishReason, model);
        }

        private Script withThinkingFirst(String text) {
            List<Action> all = new ArrayList<>();
            words(text).forEach(w -> all.add(new Action.Thinking(w)));
            all.addAll(actions);
            return new Script(all, ending, toolCalls, failureCode, failureMessage, usage, tokenDelay, finishReason, model);
        }

        /** Then streams {@code text} word by word. */
        public Script thenReply(String text) {
            return withActions(words(Require.notNull(text, "text")).stream().<Action>map(Action.Token::new).toList());
        }

        /** Then streams each of {@code tokens}. */
        public Script thenTokens(String... tokens) {
            return withActions(Arrays.stream(tokens).<Action>map(t -> new Action.Token(Require.notNull(t, "token"))).toList());
        }

        /** Then streams {@code text} as reasoning, word by word. */
        public Script thenThinking(String text) {
            return withActions(words(Require.notNull(text, "text")).stream().<Action>map(Action.Thinking::new).toList());
        }

        /** Then blocks until {@link ScriptedChatModel#release()} (or cancel, which throws). */
        public Script thenBlock() {
            return withActions(List.of(new Action.Block()));
        }

        /** Ends by asking for {@code calls} (finish reason {@code tool_calls}). */
        public Script thenCallTools(ToolCall... calls) {
            Require.that(calls.length > 0, "at least one tool call");
            return new Script(actions, Ending.COMPLETE, List.of(calls), null, null, usage, tokenDelay, finishReason, model);
        }

        /** Ends by failing with ModelException({@code code}, {@code message}) after what was streamed. */
        public Script thenFail(String code, String message) {
            Require.notBlank(code, "code");
            return new Script(actions, Ending.FAIL, List.of(), code, Require.notNull(message, "message"), usage, tokenDelay,
                    finishReason, model);
        }

        /** Ends by blocking until cancelled, then throwing RunCancelledException. */
        public Script thenHang() {
            return new Script(actions, Ending.HANG, List.of(), null, null, usage, tokenDelay, finishReason, model);
        }

        /** Reports this usage (by default none, so the caller estimates). */
        public Script withUsage(long inputTokens, long outputTokens) {
            return withUsage(Usage.reported(inputTokens, outputTokens));
        }

        /** Reports {@code reported} (cached input tokens included) as this turn's usage. */
        public Script withUsage(Usage reported) {
            return new Script(actions, ending, toolCalls, failureCode, failureMessage, reported, tokenDelay, finishReason, model);
        }

        /** Waits this long before each delta (cancel cuts the wait short). */
        public Script withTokenDelay(Duration delay) {
            Require.that(!delay.isNegative(), "delay must not be negative");
            return new Script(actions, ending, toolCalls, failureCode, failureMessage, usage, delay, finishReason, model);
        }

        /** Reports this finish reason instead of {@code stop} / {@code tool_calls}. */
        public Script withFinishReason(String reason) {
            return new Script(actions, ending, toolCalls, failureCode, failureMessage, usage, tokenDelay, reason, model);
        }

        /** Reports this model as the one that answered. */
        public Script withModel(String answeringModel) {
            return new Script(actions, ending, toolCalls, failureCode, failureMessage, usage, tokenDelay, finishReason,
                    answeringModel);
        }

        /** {@code text} cut before each run of whitespace that follows a non-space; concatenation gives back {@code text}. */
        static List<String> words(String text) {
            if (text.isEmpty()) {
                return List.of();
            }
            return List.of(text.split("(?<=\\S)(?=\\s)"));
        }
    }

    /**
     * Scripts the turns of a {@link ScriptedChatModel}. Turn methods add one call's behaviour;
     * {@link #usage}, {@link #tokenDelay} and {@link #thinking} adjust a turn as documented.
     */
    public static final class Builder {
        private final List<Function<ModelRequest, Script>> turns = new ArrayList<>();
        private Function<ModelRequest, Script> fallback = ScriptedChatModel::echoLastUserMessage;
        private Duration defaultTokenDelay = Duration.ZERO;
        private String defaultModel = "scripted";
        private String pendingThinking;

        private Builder() {}

        /** Adds a turn. */
        public Builder turn(Script script) {
            Require.notNull(script, "script");
            return turn(request -> script);
        }

        /** Adds a turn decided from the request when it is played. */
        public Builder turn(Function<ModelRequest, Script> turn) {
            Require.notNull(turn, "turn");
            String thinking = pendingThinking;
            pendingThinking = null;
            turns.add(thinking == null ? turn : request -> turn.apply(request).withThinkingFirst(thinking));
            return this;
        }

        /** A turn answering {@code text} word by word. */
        public Builder reply(String text) {
            return turn(Script.reply(text));
        }

        /** A turn answering with exactly these deltas. */
        public Builder replyTokens(String... tokens) {
            return turn(Script.tokens(tokens));
        }

        /** A turn asking for tool calls. */
        public Builder callTools(ToolCall... calls) {
            return turn(Script.toolCalls(calls));
        }

        /** A turn streaming {@code text}, then asking for tool calls. */
        public Builder replyThenCallTools(String text, ToolCall... calls) {
            return turn(Script.reply(text).thenCallTools(calls));
        }

        /** A turn failing at once with ModelException({@code code}, {@code message}). */
        public Builder fail(String code, String message) {
            return turn(Script.failure(code, message));
        }

        /** A turn streaming {@code tokens}, then failing. */
        public Builder failAfterTokens(String code, String message, String... tokens) {
            return turn(Script.tokens(tokens).thenFail(code, message));
        }

        /** A turn blocking until cancelled. */
        public Builder hangUntilCancelled() {
            return turn(Script.hangUntilCancelled());
        }

        /**
         * A turn streaming {@code tokens}, then blocking until {@link ScriptedChatModel#release()}, then
         * answering their concatenation (or throwing RunCancelledException when cancelled first).
         */
        public Builder tokensThenBlock(String... tokens) {
            return turn(Script.tokens(tokens).thenBlock());
        }

        /** Streams {@code text} as reasoning at the start of the NEXT turn added. */
        public Builder thinking(String text) {
            pendingThinking = Require.notNull(text, "text");
            return this;
        }

        /** Makes the LAST turn added report this usage. */
        public Builder usage(long inputTokens, long outputTokens) {
            return adjustLast(s -> s.withUsage(inputTokens, outputTokens));
        }

        /** Makes the LAST turn added report this usage, of which {@code cachedInputTokens} were read from the prompt cache. */
        public Builder usage(long inputTokens, long outputTokens, long cachedInputTokens) {
            return adjustLast(s -> s.withUsage(Usage.reported(inputTokens, outputTokens).withCachedInputTokens(cachedInputTokens)));
        }

        /** Makes the LAST turn added wait this long before each delta. */
        public Builder tokenDelay(Duration delay) {
            Require.that(!delay.isNegative(), "delay must not be negative");
            return adjustLast(s -> s.withTokenDelay(delay));
        }

        /** The delay before each delta of turns that set none (default none). */
        public Builder defaultTokenDelay(Duration delay) {
            Require.that(!delay.isNegative(), "delay must not be negative");
            this.defaultTokenDelay = delay;
            return this;
        }

        /** How to answer once the scripted turns are used up (default: echo the last user message). */
        public Builder respondWith(Function<ModelRequest, Script> fallbackTurn) {
            this.fallback = Require.notNull(fallbackTurn, "fallbackTurn");
            return this;
        }

        /** The model name reported by {@link ChatModel#defaultModel()} and on responses (default {@code scripted}). */
        public Builder defaultModel(String name) {
            this.defaultModel = Require.notBlank(name, "name");
            return this;
        }

        private Builder adjustLast(UnaryOperator<Script> change) {
            if (turns.isEmpty()) {
                throw new IllegalStateException("add a turn first");
            }
            int last = turns.size() - 1;
            turns.set(last, turns.get(last).andThen(change));
            return this;
        }

        public ScriptedChatModel build() {
            if (pendingThinking != null) {
                throw new IllegalStateException("thinking(...) must be followed by the turn it belongs to");
            }
            return new ScriptedChatModel(this);
        }
    }
}
