package dev.parley.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.AsyncChatModel;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BenchModelTest {
    private static final IdGenerator IDS = IdGenerator.timeOrdered();
    private final BenchModel model = new BenchModel();

    @Test
    void should_stream_the_number_of_tokens_a_zero_directive_asks_for() {
        // given
        List<String> tokens = new CopyOnWriteArrayList<>();

        // when
        ModelResponse response = model.complete(request("zero:5"), tokens::add, new Cancellation());

        // then
        assertThat(tokens).hasSize(5);
        assertThat(response.text()).isEqualTo(String.join("", tokens));
        assertThat(response.usage()).isNotNull();
    }

    @Test
    void should_stamp_every_paced_token_with_the_wall_clock_in_microseconds() {
        // given
        List<String> tokens = new CopyOnWriteArrayList<>();
        long before = BenchModel.epochMicros();

        // when
        model.complete(request("paced:1:3"), tokens::add, new Cancellation());

        // then
        assertThat(tokens).hasSize(3).allSatisfy(t -> assertThat(Long.parseLong(t.trim())).isGreaterThanOrEqualTo(before));
    }

    @Test
    void should_wait_after_its_tokens_until_a_hanging_call_is_cancelled() throws Exception {
        // given
        Cancellation cancellation = new Cancellation();
        CountDownLatch streamed = new CountDownLatch(1);
        CompletableFuture<ModelResponse> call = CompletableFuture.supplyAsync(
                () -> model.complete(request("hang:1"), t -> streamed.countDown(), cancellation));
        assertThat(streamed.await(10, TimeUnit.SECONDS)).isTrue();

        // when
        cancellation.cancel();

        // then
        assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunCancelledException.class);
    }

    @Test
    void should_answer_three_tokens_to_any_other_text() {
        // when
        ModelResponse response = model.complete(request("hello there"), t -> { }, new Cancellation());

        // then
        assertThat(response.text()).isEqualTo(BenchModel.TOKEN.repeat(3));
    }

    private static ModelRequest request(String text) {
        return new ModelRequest(null, List.of(new Message(MessageId.next(IDS), ThreadId.next(IDS), null, 1, Role.USER,
                List.of(ContentPart.text(text)), MessageStatus.COMPLETED, List.of(), null, null, Instant.now())), List.of());
    }

    @Test
    void should_answer_the_same_directives_asynchronously_with_paced_tokens_from_its_timer() throws Exception {
        // given
        AsyncChatModel async = BenchModel.asynchronous();
        List<String> tokens = new CopyOnWriteArrayList<>();

        // when
        ModelResponse zero = async.completeAsync(request("zero:4"), t -> { }, new Cancellation()).toCompletableFuture().getNow(null);
        ModelResponse paced = async.completeAsync(request("paced:1:3"), tokens::add, new Cancellation()).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);

        // then a zero call is answered when it returns, a paced one later
        assertThat(zero).isNotNull();
        assertThat(zero.text()).isEqualTo(BenchModel.TOKEN.repeat(4));
        assertThat(tokens).hasSize(3);
        assertThat(paced.text()).isEqualTo(String.join("", tokens));
    }

    @Test
    void should_fail_an_asynchronous_hanging_or_paced_call_on_its_cancel() {
        // given
        AsyncChatModel async = BenchModel.asynchronous();
        Cancellation hangCancel = new Cancellation();
        Cancellation pacedCancel = new Cancellation();
        CompletableFuture<ModelResponse> hang = async.completeAsync(request("hang:1"), t -> { }, hangCancel).toCompletableFuture();
        CompletableFuture<ModelResponse> paced = async.completeAsync(request("paced:1000:5"), t -> { }, pacedCancel).toCompletableFuture();
        assertThat(hang).isNotDone();
        assertThat(paced).isNotDone();

        // when
        hangCancel.cancel();
        pacedCancel.cancel();

        // then
        assertThatThrownBy(() -> hang.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunCancelledException.class);
        assertThatThrownBy(() -> paced.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunCancelledException.class);
    }
}
