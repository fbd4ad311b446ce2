package dev.parley.adapter.openai;

import dev.parley.chat.port.out.AsyncChatModel;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Makes a call with {@link AsyncChatModel#completeAsync} and waits for it as a caller of {@link ChatModel#complete}
 * would: its answer, or what it failed with, thrown. An interrupt of the waiting thread cancels the call (as the
 * core cancels a run's call). Fails the test when the listener hears a delta after the stage completed.
 */
final class AsyncCalls {
    private AsyncCalls() {}

    static ModelResponse await(ChatModel model, ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        AtomicReference<CompletableFuture<ModelResponse>> call = new AtomicReference<>();
        List<String> late = new CopyOnWriteArrayList<>();
        ModelStreamListener watched = new ModelStreamListener() {
            @Override
            public void onToken(String delta) {
                noteIfLate(delta);
                listener.onToken(delta);
            }

            @Override
            public void onThinking(String delta) {
                noteIfLate(delta);
                listener.onThinking(delta);
            }

            private void noteIfLate(String delta) {
                CompletableFuture<ModelResponse> f = call.get();
                if (f != null && f.isDone()) {
                    late.add(delta);
                }
            }
        };
        CompletableFuture<ModelResponse> answer = ((AsyncChatModel) model).completeAsync(request, watched, cancellation).toCompletableFuture();
        call.set(answer);
        boolean interrupted = false;
        try {
            try {
                return answer.get();
            } catch (InterruptedException e) {
                interrupted = true;
                cancellation.cancel();
                return answer.get(10, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            throw AsyncChatModel.unwrap(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("the call did not end on its cancel", e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (!late.isEmpty()) {
                throw new AssertionError("the listener heard " + late + " after the call completed");
            }
        }
    }
}
