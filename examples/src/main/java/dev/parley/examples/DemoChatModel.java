package dev.parley.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.AsyncChatModel;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A deterministic model for demos and tests: no network, same answer for the same conversation.
 * It decides its turn from the last message of the request:
 * <ul>
 *   <li>a message starting with {@code /fail}: the call fails with {@link ModelException} code
 *       {@code model_error};</li>
 *   <li>a message starting with {@code /cached}: the rest of it is answered by the rules below, and the
 *       model reports the input tokens before that message (the system prompt and the earlier turns) as
 *       read from its prompt cache;</li>
 *   <li>{@code calculate <expression>}: calls the {@code calculator} tool with
 *       {@code {"expression": "..."}}, then (on the tool's result) answers
 *       {@code <expression> = <result>}, or says why the tool failed;</li>
 *   <li>{@code count to N} (1 &lt;= N &lt;= 10000): answers {@code 1 2 3 ... N}, one number per token;</li>
 *   <li>a message containing the word {@code time} or {@code date}: calls the {@code clock} tool,
 *       then answers with the time it gave;</li>
 *   <li>{@code refund <order> [<order> ...]}: calls the {@code refund} tool once per order (at most
 *       {@value #MAX_REFUNDS}, in one turn), then says which orders were refunded and which were not
 *       (with the reason of a denial);</li>
 *   <li>{@code use <tool> [<JSON arguments>]}: calls the tool of that name (any tool the agent has, such as
 *       an MCP server's) with the arguments ({@code {}} when none), then says what it answered;</li>
 *   <li>anything else: a short reply that quotes the message and gives its word count.</li>
 * </ul>
 * Text is streamed word by word (one number per token when counting) with {@code tokenDelay}
 * between tokens; a cancel stops it at once. Token usage is reported (one token per word). With an
 * output token limit in the request's settings, an answer stops after that many tokens (finish
 * reason {@code length}).
 * A tool is only called when the request offers it; otherwise the model says it has no such tool.
 * Thread-safe. An {@link AsyncChatModel}: {@link #completeAsync} decides the same turn at once and streams it
 * with the same delays from a shared timer thread, so that a run holds no thread while it streams.
 */
public final class DemoChatModel implements AsyncChatModel {
    /** The name this model reports and answers to. */
    public static final String MODEL_NAME = "parley-demo";
    /** Largest N of {@code count to N}. */
    public static final int MAX_COUNT = 10_000;
    /** Most words of the user's message quoted in a reply. */
    static final int MAX_QUOTED_WORDS = 50;

    private static final Pattern CALCULATE = Pattern.compile("^\\s*calculate\\b(.*)$",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern COUNT = Pattern.compile("\\bcount\\s+to\\s+(-?\\d+)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern USE = Pattern.compile("^use\\s+([A-Za-z0-9_-]{1,64})\\s*(\\{.*})?\\s*$",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern REFUND = Pattern.compile("^refund\\s+(.+)$", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    /** Most orders one {@code refund} message refunds. */
    static final int MAX_REFUNDS = 5;
    private static final Pattern TIME_OR_DATE = Pattern.compile("\\b(time|date)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern WORD = Pattern.compile("\\s*\\S+");
    /** The prefix of a message whose earlier input the model reports as read from its prompt cache. */
    static final String CACHED = "/cached";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Duration tokenDelay;
    private final IdGenerator ids;
    /** This model without delays: decides the turns {@link #completeAsync} streams. */
    private final DemoChatModel undelayed;

    /** A demo model that waits {@code tokenDelay} between streamed tokens (zero for none). */
    public DemoChatModel(Duration tokenDelay) {
        this(tokenDelay, IdGenerator.timeOrdered());
    }

    DemoChatModel(Duration tokenDelay, IdGenerator ids) {
        Objects.requireNonNull(tokenDelay, "tokenDelay");
        if (tokenDelay.isNegative()) {
            throw new IllegalArgumentException("tokenDelay must not be negative");
        }
        this.tokenDelay = tokenDelay;
        this.ids = Objects.requireNonNull(ids, "ids");
        this.undelayed = tokenDelay.isZero() ? this : new DemoChatModel(Duration.ZERO, ids);
    }

    @Override
    public String defaultModel() {
        return MODEL_NAME;
    }

    @Override
    public ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        cancellation.throwIfCancelled();
        ModelResponse response = limited(request, listener, cancellation);
        long cached = cachedTokens(request.messages());
        return cached == 0 ? response : new ModelResponse(response.text(), response.toolCalls(),
                response.usage().withCachedInputTokens(Math.min(cached, response.usage().inputTokens())), response.finishReason(),
                response.model());
    }

    /**
     * The turn {@link #complete} streams, streamed without a thread waiting: its first token is heard now, the
     * others one every {@code tokenDelay}; the stage completes with the same answer, or fails as {@link #complete}
     * throws.
     */
    @Override
    public CompletionStage<ModelResponse> completeAsync(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        List<String> tokens = new ArrayList<>();
        ModelResponse response = undelayed.complete(request, new ModelStreamListener() {
            @Override
            public void onToken(String delta) {
                tokens.add(delta);
            }

            @Override
            public void onThinking(String delta) {
                listener.onThinking(delta);
            }
        }, cancellation);
        return TokenPacer.play(tokens, response, tokenDelay, listener, cancellation);
    }

    /** The answer, cut after the request's output token limit when it has one. */
    private ModelResponse limited(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        Integer limit = request.settings().maxOutputTokens();
        if (limit == null) {
            return answer(request, listener, cancellation);
        }
        StringBuilder text = new StringBuilder();
        int[] streamed = {0};
        ModelStreamListener counting = new ModelStreamListener() {
            @Override
            public void onToken(String token) {
                if (streamed[0] == limit) {
                    throw new LimitReached();
                }
                streamed[0]++;
                text.append(token);
                listener.onToken(token);
            }

            @Override
            public void onThinking(String delta) {
                listener.onThinking(delta);
            }
        };
        try {
            return answer(request, counting, cancellation);
        } catch (LimitReached reached) {
            return new ModelResponse(text.toString(), List.of(), Usage.reported(countTokens(request.messages()), limit), "length",
                    MODEL_NAME);
        }
    }

    /** Thrown at the first token past the output token limit, to stop the answer there. */
    private static final class LimitReached extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LimitReached() {
            super(null, null, false, false);
        }
    }

    /** With {@link #CACHED} before the latest user message: the input tokens of every message before it; else 0. */
    private static long cachedTokens(List<Message> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                return isCached(messages.get(i).text()) ? countTokens(messages.subList(0, i)) : 0;
            }
        }
        return 0;
    }

    private static boolean isCached(String text) {
        String t = text.strip();
        return t.startsWith(CACHED) && (t.length() == CACHED.length() || Character.isWhitespace(t.charAt(CACHED.length())));
    }

    private ModelResponse answer(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        List<Message> messages = request.messages();
        long inputTokens = countTokens(messages);
        Message last = messages.get(messages.size() - 1);
        if (last.role() == Role.TOOL) {
            return stream(answerToolResults(messages), inputTokens, listener, cancellation);
        }
        String text = lastUserText(messages).strip();
        if (isCached(text)) {
            text = text.substring(CACHED.length()).strip();
        }
        if (text.startsWith("/fail")) {
            throw new ModelException("model_error", "The demo model failed on purpose: the message starts with /fail.");
        }
        Matcher use = USE.matcher(text);
        if (use.matches()) {
            String tool = use.group(1);
            if (!offers(request, tool)) {
                return stream("I cannot use " + tool + " here: this agent has no such tool.", inputTokens, listener, cancellation);
            }
            return callTool(tool, use.group(2) == null ? "{}" : use.group(2), inputTokens);
        }
        Matcher calculate = CALCULATE.matcher(text);
        if (calculate.matches()) {
            String expression = trimExpression(calculate.group(1));
            if (expression.isEmpty()) {
                return stream("Tell me what to calculate, for example: calculate (1 + 2) * 3", inputTokens, listener, cancellation);
            }
            if (!offers(request, CalculatorTool.NAME)) {
                return stream("I cannot calculate here: this agent has no calculator tool.", inputTokens, listener, cancellation);
            }
            ObjectNode arguments = JSON.createObjectNode().put("expression", expression);
            return callTool(CalculatorTool.NAME, arguments.toString(), inputTokens);
        }
        Matcher refund = REFUND.matcher(text);
        if (refund.matches()) {
            return refund(request, refund.group(1), inputTokens, listener, cancellation);
        }
        Matcher count = COUNT.matcher(text);
        if (count.find()) {
            return count(count.group(1), inputTokens, listener, cancellation);
        }
        if (TIME_OR_DATE.matcher(text).find()) {
            if (!offers(request, ClockTool.NAME)) {
                return stream("I cannot tell the time here: this agent has no clock tool.", inputTokens, listener, cancellation);
            }
            return callTool(ClockTool.NAME, "{}", inputTokens);
        }
        return stream(echo(text), inputTokens, listener, cancellation);
    }

    /** One {@code refund} call per order named (commas or spaces between them), in one turn. */
    private ModelResponse refund(ModelRequest request, String orders, long inputTokens, ModelStreamListener listener,
                                 Cancellation cancellation) {
        if (!offers(request, RefundTool.NAME)) {
            return stream("I cannot refund here: this agent has no refund tool.", inputTokens, listener, cancellation);
        }
        List<ToolCall> calls = new ArrayList<>();
        for (String order : orders.split("[\\s,]+")) {
            if (!order.isBlank() && calls.size() < MAX_REFUNDS) {
                calls.add(new ToolCall(ids.next("call"), RefundTool.NAME, JSON.createObjectNode().put("order", order).toString()));
            }
        }
        Usage usage = Usage.reported(inputTokens, 1 + calls.size());
        return new ModelResponse("", calls, usage, "tool_calls", MODEL_NAME);
    }

    /** The reply to a message that matches no rule: the message quoted, and its word count. */
    static String echo(String text) {
        List<String> words = words(text);
        String quoted = words.size() <= MAX_QUOTED_WORDS ? text
                : String.join(" ", words.subList(0, MAX_QUOTED_WORDS)) + " ...";
        return "You said: \"" + quoted + "\" (" + words.size() + (words.size() == 1 ? " word" : " words") + ").";
    }

    private ModelResponse count(String number, long inputTokens, ModelStreamListener listener, Cancellation cancellation) {
        long n;
        try {
            n = Long.parseLong(number);
        } catch (NumberFormatException e) {
            n = Long.MAX_VALUE;
        }
        if (n < 1 || n > MAX_COUNT) {
            return stream("I can count from 1 to " + MAX_COUNT + " only.", inputTokens, listener, cancellation);
        }
        List<String> tokens = new ArrayList<>((int) n);
        for (long i = 1; i <= n; i++) {
            tokens.add(i == 1 ? "1" : " " + i);
        }
        return emit(tokens, inputTokens, listener, cancellation);
    }

    private ModelResponse callTool(String tool, String arguments, long inputTokens) {
        ToolCall call = new ToolCall(ids.next("call"), tool, arguments);
        Usage usage = Usage.reported(inputTokens, 1 + words(arguments).size());
        return new ModelResponse("", List.of(call), usage, "tool_calls", MODEL_NAME);
    }

    private ModelResponse stream(String reply, long inputTokens, ModelStreamListener listener, Cancellation cancellation) {
        List<String> tokens = new ArrayList<>();
        Matcher m = WORD.matcher(reply);
        while (m.find()) {
            tokens.add(m.group());
        }
        return emit(tokens, inputTokens, listener, cancellation);
    }

    private ModelResponse emit(List<String> tokens, long inputTokens, ModelStreamListener listener, Cancellation cancellation) {
        CountDownLatch cancelled = new CountDownLatch(1);
        StringBuilder text = new StringBuilder();
        try (Cancellation.Registration ignored = cancellation.onCancel(cancelled::countDown)) {
            for (int i = 0; i < tokens.size(); i++) {
                if (i > 0) {
                    pause(cancelled, cancellation);
                }
                cancellation.throwIfCancelled();
                listener.onToken(tokens.get(i));
                text.append(tokens.get(i));
            }
        }
        cancellation.throwIfCancelled();
        return new ModelResponse(text.toString(), List.of(), Usage.reported(inputTokens, tokens.size()), "stop", MODEL_NAME);
    }

    private void pause(CountDownLatch cancelled, Cancellation cancellation) {
        if (tokenDelay.isZero()) {
            return;
        }
        try {
            if (cancelled.await(tokenDelay.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new RunCancelledException();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RunCancelledException();
        }
        cancellation.throwIfCancelled();
    }

    /** The answer to the tool results that end the conversation, one sentence per result. */
    private static String answerToolResults(List<Message> messages) {
        int first = messages.size();
        while (first > 0 && messages.get(first - 1).role() == Role.TOOL) {
            first--;
        }
        List<String> sentences = new ArrayList<>();
        for (Message result : messages.subList(first, messages.size())) {
            ToolCall call = findCall(messages.subList(0, first), result.toolCallId());
            sentences.add(answerToolResult(call, result.text().strip()));
        }
        return String.join(" ", sentences);
    }

    private static String answerToolResult(ToolCall call, String output) {
        String name = call == null ? "" : call.name();
        if (name.equals(CalculatorTool.NAME)) {
            String expression = expressionOf(call.arguments());
            if (isNumber(output)) {
                return expression + " = " + output;
            }
            return "I could not calculate " + expression + ": " + sentence(reasonOf(output));
        }
        if (name.equals(ClockTool.NAME)) {
            if (isInstant(output)) {
                return "The current UTC time is " + output + ".";
            }
            return "I could not read the clock: " + sentence(reasonOf(output));
        }
        if (name.equals(RefundTool.NAME)) {
            String order = orderOf(call.arguments());
            if (output.startsWith(RefundTool.REFUNDED)) {
                return "Order " + order + " is refunded.";
            }
            return "I did not refund order " + order + ": " + sentence(reasonOf(output));
        }
        return "The " + (name.isEmpty() ? "tool" : name + " tool") + " answered: " + output;
    }

    private static String orderOf(String arguments) {
        try {
            return JSON.readTree(arguments).path("order").asText(arguments);
        } catch (IOException e) {
            return arguments;
        }
    }

    private static ToolCall findCall(List<Message> before, String toolCallId) {
        for (int i = before.size() - 1; i >= 0; i--) {
            for (ToolCall call : before.get(i).toolCalls()) {
                if (call.id().equals(toolCallId)) {
                    return call;
                }
            }
        }
        return null;
    }

    private static String expressionOf(String arguments) {
        try {
            return CalculatorTool.expressionOf(arguments);
        } catch (ToolException e) {
            return arguments;
        }
    }

    private static String trimExpression(String raw) {
        String expression = raw.strip();
        if (expression.startsWith(":")) {
            expression = expression.substring(1).strip();
        }
        if (expression.endsWith("?") || expression.endsWith("=")) {
            expression = expression.substring(0, expression.length() - 1).strip();
        }
        return expression;
    }

    private static boolean isNumber(String text) {
        try {
            new BigDecimal(text);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isInstant(String text) {
        try {
            Instant.parse(text);
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    /** The reason a failed tool gave: its JSON {@code error} field or its text, without an "error:" prefix. */
    private static String reasonOf(String output) {
        String reason = output;
        if (reason.startsWith("{")) {
            try {
                JsonNode node = JSON.readTree(reason);
                JsonNode error = node.path("error");
                if (error.isTextual()) {
                    reason = error.asText();
                } else if (error.path("message").isTextual()) {
                    reason = error.path("message").asText();
                }
            } catch (IOException e) {
                // not JSON after all: keep the text
            }
        }
        if (reason.toLowerCase(Locale.ROOT).startsWith("error:")) {
            reason = reason.substring("error:".length()).strip();
        }
        return reason.isBlank() ? "the tool failed." : reason;
    }

    private static String sentence(String text) {
        String s = text.strip();
        return s.endsWith(".") || s.endsWith("!") || s.endsWith("?") ? s : s + ".";
    }

    private static boolean offers(ModelRequest request, String tool) {
        for (ToolSpec spec : request.tools()) {
            if (spec.name().equals(tool)) {
                return true;
            }
        }
        return false;
    }

    private static String lastUserText(List<Message> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                return messages.get(i).text();
            }
        }
        return "";
    }

    private static long countTokens(List<Message> messages) {
        long tokens = 0;
        for (Message m : messages) {
            tokens += words(m.text()).size();
            for (ToolCall call : m.toolCalls()) {
                tokens += 1 + words(call.arguments()).size();
            }
        }
        return tokens;
    }

    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        for (String w : text.strip().split("\\s+")) {
            if (!w.isEmpty()) {
                words.add(w);
            }
        }
        return words;
    }
}
