package dev.parley.chat.core;

import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import java.time.Duration;

/** A tool whose behaviour is a lambda. */
final class TestTool implements Tool {
    @FunctionalInterface
    interface Body {
        String run(ToolContext context) throws Exception;
    }

    private final String name;
    private final Duration timeout;
    private final Body body;

    private TestTool(String name, Duration timeout, Body body) {
        this.name = name;
        this.timeout = timeout;
        this.body = body;
    }

    static TestTool named(String name, Body body) {
        return new TestTool(name, Duration.ofSeconds(30), body);
    }

    @Override
    public TestTool withTimeout(Duration newTimeout) {
        return new TestTool(name, newTimeout, body);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "test tool " + name;
    }

    @Override
    public String parametersSchema() {
        return "{\"type\":\"object\",\"properties\":{}}";
    }

    @Override
    public Duration timeout() {
        return timeout;
    }

    @Override
    public String execute(ToolContext context) throws Exception {
        return body.run(context);
    }
}
