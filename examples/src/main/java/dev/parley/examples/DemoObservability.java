package dev.parley.examples;

import java.util.Locale;
import java.util.Map;

/**
 * The demo server's logs and traces, read from environment variables: {@code PARLEY_LOG_LEVEL}
 * ({@code trace}, {@code debug}, {@code info} (default), {@code warn} or {@code error}: Parley's and the
 * application's lines; the libraries below stay at warn unless it is {@code trace} or {@code debug}),
 * {@code PARLEY_LOG_FORMAT} ({@code text} (default) or {@code json}: one JSON object per line, by
 * logback's JSON encoder, with the MDC's {@code request_id}, {@code run_id} and {@code thread_id}),
 * and {@code PARLEY_TRACE_CONTENT} (true records message and tool content on spans; default false).
 *
 * <p>Traces are exported over OTLP only when {@code OTEL_EXPORTER_OTLP_ENDPOINT} (or
 * {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}) is set; the other standard {@code OTEL_*} variables
 * (service name, sampler, headers, protocol) apply as the OpenTelemetry SDK defines them.
 */
public record DemoObservability(String logLevel, String logFormat, boolean traceContent, boolean exportTraces) {
    public static final String TEXT = "text";
    public static final String JSON = "json";

    public DemoObservability {
        if (!TEXT.equals(logFormat) && !JSON.equals(logFormat)) {
            throw new IllegalArgumentException("logFormat must be text or json");
        }
    }

    /** The defaults: info, text, no content on spans, no export. */
    public static DemoObservability defaults() {
        return new DemoObservability("info", TEXT, false, false);
    }

    /** Reads the settings from {@code env}; a bad value names its variable. */
    public static DemoObservability fromEnvironment(Map<String, String> env) {
        String level = value(env, "PARLEY_LOG_LEVEL", "info");
        if (!level.matches("trace|debug|info|warn|error")) {
            throw new IllegalArgumentException("PARLEY_LOG_LEVEL must be trace, debug, info, warn or error, was '"
                    + env.get("PARLEY_LOG_LEVEL").strip() + "'");
        }
        String format = value(env, "PARLEY_LOG_FORMAT", TEXT);
        if (!format.equals(TEXT) && !format.equals(JSON)) {
            throw new IllegalArgumentException("PARLEY_LOG_FORMAT must be text or json, was '" + env.get("PARLEY_LOG_FORMAT").strip() + "'");
        }
        String content = value(env, "PARLEY_TRACE_CONTENT", "false");
        boolean traceContent = switch (content) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new IllegalArgumentException("PARLEY_TRACE_CONTENT must be true or false, was '"
                    + env.get("PARLEY_TRACE_CONTENT").strip() + "'");
        };
        boolean export = !value(env, "OTEL_EXPORTER_OTLP_ENDPOINT", "").isEmpty()
                || !value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").isEmpty();
        if (!value(env, "OTEL_SDK_DISABLED", "false").equals("false")) {
            export = false;
        }
        return new DemoObservability(level, format, traceContent, export);
    }

    private static String value(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : value.strip().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return "logLevel=" + logLevel + ", logFormat=" + logFormat + ", traces=" + (exportTraces ? "otlp" : "off")
                + (traceContent ? " (with content)" : "");
    }
}
