package dev.parley.chat.core;

import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ModelResponse;
import java.math.BigDecimal;
import java.time.Instant;

/**
 * How a run ends: completed with the model's answer, cancelled, or failed with a code. Each says
 * what becomes of the run, its open step and its stream; {@link RunEnder#finish} is the one path.
 */
sealed interface Ending {

    /** The model answered without asking for tools: {@code turn} ends with {@code response}. */
    record Completed(Step turn, ModelResponse response, Usage turnUsage) implements Ending {
    }

    /** Ends early (cancelled or failed), keeping the partial text. */
    sealed interface Early extends Ending {
        /** The result given to each tool call left without one, and the error of a step ended by this. */
        String reason();

        Run end(Run run, Instant now, MessageId kept, Usage total, BigDecimal cost);

        Step endStep(Step step, Instant now, Usage usage);

        StepStatus stepStatus();

        RunEvent terminalEvent(RunId runId, long seq, MessageId kept);
    }

    /** Cancelled by a user, a disconnect, a shutdown, or another server. */
    record Cancelled() implements Early {
        @Override
        public String reason() {
            return "cancelled";
        }

        @Override
        public Run end(Run run, Instant now, MessageId kept, Usage total, BigDecimal cost) {
            return run.cancelled(now, kept, total, cost);
        }

        @Override
        public Step endStep(Step step, Instant now, Usage usage) {
            return step.cancelled(now, usage);
        }

        @Override
        public StepStatus stepStatus() {
            return StepStatus.CANCELLED;
        }

        @Override
        public RunEvent terminalEvent(RunId runId, long seq, MessageId kept) {
            return new RunEvent.Cancelled(runId, seq, kept);
        }
    }

    /** Failed with {@code code}; {@code message} is safe to show. */
    record Failed(String code, String message) implements Early {
        @Override
        public String reason() {
            return code;
        }

        @Override
        public Run end(Run run, Instant now, MessageId kept, Usage total, BigDecimal cost) {
            return run.failed(now, new RunError(code, message), kept, total, cost);
        }

        @Override
        public Step endStep(Step step, Instant now, Usage usage) {
            return step.failed(now, code, usage);
        }

        @Override
        public StepStatus stepStatus() {
            return StepStatus.FAILED;
        }

        @Override
        public RunEvent terminalEvent(RunId runId, long seq, MessageId kept) {
            return new RunEvent.Error(runId, seq, code, message);
        }
    }
}
