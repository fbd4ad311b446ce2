package dev.parley.adapter.http;

import dev.parley.chat.model.BudgetExceededException;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.EventsExpiredException;
import dev.parley.chat.model.ForbiddenException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.LimitExceededException;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.StorageUnavailableException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps whatever a handler threw to the problem a client may see; anything unexpected is logged and sanitized. */
final class Errors {
    private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

    private Errors() {}

    static ApiProblem toProblem(Throwable error, String requestId) {
        if (error instanceof ApiProblem problem) {
            return problem;
        }
        if (error instanceof NotFoundException e) {
            return new ApiProblem(404, e.code(), e.getMessage());
        }
        if (error instanceof BudgetExceededException e) {
            return new ApiProblem(429, e.code(), e.getMessage())
                    .header("Retry-After", Long.toString(Math.max(1, e.retryAfter().toSeconds() + (e.retryAfter().toNanosPart() > 0 ? 1 : 0))));
        }
        if (error instanceof LimitExceededException e) {
            return new ApiProblem(429, e.code(), e.getMessage()).header("Retry-After", retryAfter(e.retryAfter()))
                    .with("limit", e.limit());
        }
        if (error instanceof ForbiddenException e) {
            return new ApiProblem(403, e.code(), e.getMessage());
        }
        if (error instanceof EventsExpiredException e) {
            return new ApiProblem(410, e.code(), e.getMessage());
        }
        if (error instanceof ConflictException e) {
            if (e.reason() == ConflictException.Reason.DUPLICATE) {
                LOG.warn("Unexpected duplicate key reached the HTTP adapter (request {})", requestId, e);
                return new ApiProblem(409, "conflict", "The request conflicts with the current state; retry it");
            }
            return new ApiProblem(409, e.code(), e.getMessage());
        }
        if (error instanceof InvalidRequestException e) {
            int status = e.reason() == InvalidRequestException.Reason.INVALID_PARAMETER ? 400 : 422;
            return new ApiProblem(status, e.code(), e.getMessage(), e.errors());
        }
        if (error instanceof StorageUnavailableException e) {
            LOG.warn("Store unavailable (request {}): {}", requestId, e.getMessage());
            return new ApiProblem(503, "unavailable", "The service is temporarily unavailable; retry later");
        }
        if (error instanceof IdentityProviderUnavailableException e) {
            LOG.warn("Identity provider unavailable (request {}): {}", requestId, e.getMessage());
            return new ApiProblem(503, "unavailable", e.getMessage() + "; retry later").header("Retry-After", "5");
        }
        if (error instanceof ModelException e) {
            return new ApiProblem(502, "model_error", e.getMessage())
                    .with("error", java.util.Map.of("code", e.code(), "message", e.getMessage()));
        }
        if (error instanceof ChatException e) {
            LOG.error("Unmapped error {} (request {})", e.code(), requestId, e);
            return internal(requestId);
        }
        LOG.error("Unexpected error (request {})", requestId, error);
        return internal(requestId);
    }

    /** Whole seconds, rounded up, at least 1. */
    static String retryAfter(java.time.Duration wait) {
        return Long.toString(Math.max(1, wait.toSeconds() + (wait.toNanosPart() > 0 ? 1 : 0)));
    }

    static ApiProblem internal(String requestId) {
        return new ApiProblem(500, "internal_error", "Unexpected error; quote request id " + requestId + " when reporting it",
                List.of()).with("request_id", requestId);
    }
}
