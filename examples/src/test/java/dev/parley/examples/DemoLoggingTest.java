package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The demo's log formats: JSON lines an aggregator parses, and text lines that carry the request id. */
class DemoLoggingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

    @AfterEach
    void restore() {
        DemoLogging.apply(DemoObservability.defaults());
    }

    private ILoggingEvent event(String message, Map<String, String> mdc, Throwable error) {
        LoggingEvent event = new LoggingEvent("test", context.getLogger("dev.parley.chat.core.RunExecution"), Level.WARN, message,
                error, null);
        event.setMDCPropertyMap(mdc);
        event.setThreadName("parley-run-1");
        return event;
    }

    @Test
    void should_write_one_parsable_json_object_per_line_with_the_mdc() throws Exception {
        // given
        Encoder<ILoggingEvent> json = DemoLogging.encoder(context, DemoObservability.JSON);

        // when
        String line = new String(json.encode(event("run \"r\" failed\nbadly", Map.of("request_id", "req_1", "run_id", "run_2"),
                new IllegalStateException("boom"))), StandardCharsets.UTF_8);

        // then
        assertThat(line).endsWith("\n");
        assertThat(line.strip()).doesNotContain("\n");
        JsonNode parsed = JSON.readTree(line);
        assertThat(parsed.path("level").asText()).isEqualTo("WARN");
        assertThat(parsed.path("loggerName").asText()).isEqualTo("dev.parley.chat.core.RunExecution");
        assertThat(parsed.path("threadName").asText()).isEqualTo("parley-run-1");
        assertThat(parsed.path("formattedMessage").asText()).isEqualTo("run \"r\" failed\nbadly");
        assertThat(parsed.path("mdc").path("request_id").asText()).isEqualTo("req_1");
        assertThat(parsed.path("mdc").path("run_id").asText()).isEqualTo("run_2");
        assertThat(parsed.path("throwable").path("className").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(parsed.path("timestamp").asLong()).isPositive();
    }

    @Test
    void should_name_the_request_in_text_lines_and_say_nothing_when_there_is_none() {
        // given
        Encoder<ILoggingEvent> text = DemoLogging.encoder(context, DemoObservability.TEXT);

        // when
        String withRequest = new String(text.encode(event("stored", Map.of("request_id", "req_1"), null)), StandardCharsets.UTF_8);
        String without = new String(text.encode(event("stored", Map.of(), null)), StandardCharsets.UTF_8);

        // then
        assertThat(withRequest).contains("[WARN] RunExecution [request_id=req_1] - stored");
        assertThat(without).contains("[WARN] RunExecution - stored");
    }

    @Test
    void should_apply_the_level_and_the_format_to_the_root_logger() {
        // when
        DemoLogging.apply(new DemoObservability("warn", DemoObservability.JSON, false, false));

        // then
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.WARN);
        assertThat(root.getAppender("CONSOLE")).isInstanceOfSatisfying(ConsoleAppender.class,
                a -> assertThat(a.getEncoder()).isInstanceOf(JsonEncoder.class));
        assertThat(context.getLogger("org.eclipse.jetty").getLevel()).isEqualTo(Level.WARN);
        DemoLogging.apply(new DemoObservability("debug", DemoObservability.TEXT, false, false));
        assertThat(context.getLogger("org.eclipse.jetty").getLevel()).isEqualTo(Level.DEBUG);
    }
}
