package dev.parley.chat.port.in;


/**
 * Everything a driving adapter (HTTP, WebSocket, plain Java) can ask of Parley: the sum of the use
 * cases by concern ({@link ThreadUseCases}, {@link MessageUseCases}, {@link SendUseCases}, {@link RunUseCases},
 * {@link AgentUseCases}, {@link UsageUseCases}) and the readiness check. Every call names
 * the acting user; a thread of another user behaves exactly like a missing one
 * ({@link dev.parley.chat.model.NotFoundException}). All methods are thread-safe. Errors are
 * {@link dev.parley.chat.model.ChatException}s with stable codes.
 */
public interface ChatUseCases extends ThreadUseCases, SendUseCases, RunUseCases, AgentUseCases, UsageUseCases, MessageUseCases {
    /** Returns normally when the store is reachable; throws StorageUnavailableException otherwise. */
    void checkReady();

    /** What this server executes and what waits (for metrics); {@link ServerLoad#UNKNOWN} unless the implementation reports it. */
    default ServerLoad load() {
        return ServerLoad.UNKNOWN;
    }
}
