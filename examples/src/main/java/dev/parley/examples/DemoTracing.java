package dev.parley.examples;

import dev.parley.adapter.otel.OtelRunTracer;
import dev.parley.chat.port.out.RunTracer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.Map;

/**
 * The demo's traces: with {@code OTEL_EXPORTER_OTLP_ENDPOINT} set, an OpenTelemetry SDK configured by
 * the standard {@code OTEL_*} variables (traces only: metrics stay on {@code /metrics}, logs on the
 * console) exports Parley's spans over OTLP; without it nothing is traced and nothing is sent.
 */
final class DemoTracing implements AutoCloseable {
    private final OpenTelemetrySdk sdk;
    private final RunTracer tracer;

    private DemoTracing(OpenTelemetrySdk sdk, RunTracer tracer) {
        this.sdk = sdk;
        this.tracer = tracer;
    }

    /** The tracing of {@code settings}: {@link RunTracer#NONE} unless traces are exported. */
    static DemoTracing start(DemoObservability settings) {
        if (!settings.exportTraces()) {
            return new DemoTracing(null, RunTracer.NONE);
        }
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                // defaults the OTEL_* variables override
                .addPropertiesSupplier(() -> Map.of(
                        "otel.service.name", "parley-demo",
                        "otel.metrics.exporter", "none",
                        "otel.logs.exporter", "none"))
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
        return new DemoTracing(sdk, tracer(sdk, settings.traceContent()));
    }

    /** Parley's tracer over {@code otel}. */
    static RunTracer tracer(OpenTelemetry otel, boolean captureContent) {
        return OtelRunTracer.builder(otel).captureContent(captureContent).build();
    }

    RunTracer tracer() {
        return tracer;
    }

    /** Exports what is left and stops the SDK. */
    @Override
    public void close() {
        if (sdk != null) {
            sdk.close();
        }
    }
}
