package dev.parley.chat.port.out;

import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.RunCancelledException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * A chat model whose call holds no thread while it waits for the model: {@link #completeAsync} starts
 * the completion and returns at once. A run of the core waits for it without a thread of its own (a run
 * that waits for a slow model, or one that never answers until cancelled, then costs its state and the
 * model's, not a parked thread), and goes on on a run thread once the stage completes.
 * {@link #complete} waits for the stage on the calling thread.
 */
public interface AsyncChatModel extends ChatModel {

    /**
     * Starts one completion and returns without waiting for it. The stage completes with the whole answer;
     * the concatenated {@code onToken} deltas must equal {@link ModelResponse#text()}. Listener calls come
     * on the calling thread before this method returns or on the model's threads, one at a time, each
     * returning before the next and all before the stage completes.
     *
     * <p>On {@code cancellation} the call must stop promptly (closing any network exchange) and complete
     * the stage exceptionally with {@link RunCancelledException}. Failures complete it
     * exceptionally with {@link ModelException} (a stable code); throwing from this method is the same as
     * returning a stage failed with what is thrown. A stage already complete when returned (a model that
     * answers at once) costs no hand-off.
     */
    CompletionStage<ModelResponse> completeAsync(ModelRequest request, ModelStreamListener listener, Cancellation cancellation);

    /**
     * {@link #completeAsync}, waited for on the calling thread. An interrupt of the waiting thread does not
     * end the wait (the call stops on its {@code cancellation}); it is kept for the caller.
     */
    @Override
    default ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        CompletableFuture<ModelResponse> answer = completeAsync(request, listener, cancellation).toCompletableFuture();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return answer.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw unwrap(e.getCause());
                } catch (CancellationException e) {
                    throw unwrap(e);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * What a failed stage failed with, to be thrown: its cause when the stage wraps it
     * ({@link CompletionException}, {@link ExecutionException}); a checked exception as a
     * {@link ModelException} with code {@code model_error}; a cancelled future as
     * {@link RunCancelledException}. An {@link Error} is thrown as it is.
     */
    static RuntimeException unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof CancellationException) {
            return new RunCancelledException();
        }
        if (cause instanceof Error error) {
            throw error;
        }
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        return new ModelException("model_error", "The model call failed", null, cause);
    }
}
