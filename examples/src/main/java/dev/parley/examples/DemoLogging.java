package dev.parley.examples;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Applies the demo's {@link DemoObservability} log settings to logback (whose {@code logback.xml}
 * gives the text format at info until then): the level of the root logger, and one console
 * appender with the text pattern or logback's {@link JsonEncoder} (one JSON object per line, the
 * MDC's {@code request_id}, {@code run_id} and {@code thread_id} under {@code mdc}).
 */
final class DemoLogging {
    /** The text pattern: time, level, logger, the MDC's keys when there are any, the message. */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} [%level] %logger{0} %replace([%mdc] ){'\\[\\] ', ''}- %msg%n";
    /** Libraries whose info lines are noise in the demo's log; they follow the level only below info. */
    private static final List<String> QUIET = List.of("org.eclipse.jetty", "io.javalin", "com.zaxxer.hikari", "org.flywaydb",
            "io.opentelemetry", "io.modelcontextprotocol");

    private DemoLogging() {
    }

    /** Reconfigures logback for {@code settings}; does nothing when logback is not the SLF4J backend. */
    static void apply(DemoObservability settings) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Level level = Level.toLevel(settings.logLevel(), Level.INFO);
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName("CONSOLE");
        appender.setEncoder(encoder(context, settings.logFormat()));
        appender.start();
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
        root.setLevel(level);
        Level libraries = level.isGreaterOrEqual(Level.INFO) ? Level.WARN : level;
        for (String name : QUIET) {
            context.getLogger(name).setLevel(level.isGreaterOrEqual(Level.WARN) ? level : libraries);
        }
    }

    /** The encoder of {@code format}: {@code json} or {@code text}. */
    static Encoder<ILoggingEvent> encoder(LoggerContext context, String format) {
        if (DemoObservability.JSON.equals(format)) {
            JsonEncoder json = new JsonEncoder();
            json.setContext(context);
            // the message as written (not its template and arguments); no sequence number, nanoseconds or logger
            // context, which an aggregator has no use for
            json.setWithFormattedMessage(true);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithContext(false);
            json.start();
            return json;
        }
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(TEXT_PATTERN);
        text.start();
        return text;
    }
}
