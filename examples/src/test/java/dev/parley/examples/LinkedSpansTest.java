package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.adapter.jdbc.JdbcChatStore;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.TraceSpan;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/**
 * A run sent on one server and cancelled or reaped by another: the other server's {@code parley.cancel}
 * / {@code parley.reap} span links to the request the run was sent in, so one trace view leads from
 * the send to whoever ended the run.
 */
@Timeout(60)
class LinkedSpansTest {
    private static final Agent HELPER = Agent.builder("helper").name("Helper").build();

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build()).build();
    private final RunTracer tracer = DemoTracing.tracer(sdk, false);
    private final String url = "jdbc:h2:mem:linked-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    private final JdbcChatStore storeA = JdbcChatStores.builder().url(url).credentials("sa", "").build();
    private final JdbcChatStore storeB = JdbcChatStores.builder().url(url).credentials("sa", "").build();

    @AfterEach
    void close() {
        storeA.close();
        storeB.close();
        sdk.close();
    }

    @Test
    void should_link_a_cancel_on_another_server_to_the_request_that_sent_the_run() throws Exception {
        // given a run executing on server A, sent in a traced request
        ScriptedChatModel model = ScriptedChatModel.builder().hangUntilCancelled().build();
        try (ChatService first = server(storeA, model, "server-a", b -> b);
             ChatService second = server(storeB, ScriptedChatModel.echo(), "server-b", b -> b)) {
            SendReceipt sent = sendTraced(first, "req-send-a");
            assertThat(model.awaitCalls(1, Duration.ofSeconds(10))).isTrue();
            SpanData sentIn = only("POST /api/v1/chat");

            // when server B cancels it
            second.cancelRun("alice", sent.thread().id(), sent.run().id());

            // then B's cancel span names the run and links to the request on A
            RunOutcome outcome = first.await("alice", sent.run().id(), Duration.ofSeconds(10));
            assertThat(outcome.run().status()).isEqualTo(RunStatus.CANCELLED);
            assertLinkedTo(ended("parley.cancel"), sentIn, sent);
        }
    }

    @Test
    void should_link_a_reap_on_another_server_to_the_request_that_sent_the_run() throws Exception {
        // given a run executing on server A, whose lease server B sees as expired (B's clock is past it)
        ScriptedChatModel model = ScriptedChatModel.builder().hangUntilCancelled().build();
        try (ChatService first = server(storeA, model, "server-a",
                b -> b.runLease(Duration.ofSeconds(30)).reaperInterval(Duration.ZERO).endedElsewhereCheck(Duration.ZERO))) {
            SendReceipt sent = sendTraced(first, "req-send-a");
            assertThat(model.awaitCalls(1, Duration.ofSeconds(10))).isTrue();
            SpanData sentIn = only("POST /api/v1/chat");

            // when server B's reaper passes
            try (ChatService second = server(storeB, ScriptedChatModel.echo(), "server-b",
                    b -> b.clock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(31))).runLease(Duration.ofSeconds(30))
                            .reaperInterval(Duration.ofMillis(20)))) {
                RunOutcome outcome = second.await("alice", sent.run().id(), Duration.ofSeconds(10));

                // then B ended it as interrupted, in a reap span linked to the request on A
                assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
                assertThat(outcome.run().error().code()).isEqualTo("interrupted");
                // (a reaper pass that lost the run to a lease renewal leaves a span too, linked alike)
                assertThat(endedAll("parley.reap")).allSatisfy(span -> assertLinkedTo(span, sentIn, sent));
            }
        }
    }

    private ChatService server(JdbcChatStore store, ScriptedChatModel model, String id,
                               java.util.function.UnaryOperator<dev.parley.chat.core.ChatServiceBuilder> options) {
        return options.apply(ChatService.builder().store(store).model(model).agents(List.of(HELPER)).tracer(tracer)
                .instanceId(id)).build();
    }

    private SendReceipt sendTraced(ChatService server, String requestId) {
        TraceSpan sending = tracer.request("POST", "/api/v1/chat", requestId, null);
        MDC.put("request_id", requestId); // as the HTTP adapter does for the request's thread
        try (TraceSpan.Scope scope = sending.makeCurrent()) {
            return server.send(SendMessageCommand.newThread("alice", "a long task").withAgent("helper"));
        } finally {
            MDC.remove("request_id");
            sending.end();
        }
    }

    /**
     * The one span named {@code name}, once it ended: a cancel or reap span ends just after the run's
     * end is stored, so a waiter on the run can wake before the span is exported.
     */
    private SpanData ended(String name) throws InterruptedException {
        awaitEnded(name);
        return only(name);
    }

    private void awaitEnded(String name) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline
                && exporter.getFinishedSpanItems().stream().noneMatch(s -> s.getName().equals(name))) {
            Thread.sleep(5);
        }
    }

    /** Every span named {@code name}, once at least one ended (see {@link #ended}). */
    private List<SpanData> endedAll(String name) throws InterruptedException {
        awaitEnded(name);
        List<SpanData> spans = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
        assertThat(spans).as("spans named %s", name).isNotEmpty();
        return spans;
    }

    private SpanData only(String name) {
        List<SpanData> spans = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
        assertThat(spans).as("spans named %s", name).hasSize(1);
        return spans.get(0);
    }

    private static void assertLinkedTo(SpanData span, SpanData sentIn, SendReceipt sent) {
        assertThat(span.getAttributes().get(AttributeKey.stringKey("parley.run.id"))).isEqualTo(sent.run().id().value());
        assertThat(span.getAttributes().get(AttributeKey.stringKey("parley.request_id"))).isEqualTo("req-send-a");
        assertThat(span.getTraceId()).isNotEqualTo(sentIn.getTraceId());
        assertThat(span.getLinks()).singleElement().satisfies(link -> {
            assertThat(link.getSpanContext().getTraceId()).isEqualTo(sentIn.getTraceId());
            assertThat(link.getSpanContext().getSpanId()).isEqualTo(sentIn.getSpanId());
        });
    }
}
