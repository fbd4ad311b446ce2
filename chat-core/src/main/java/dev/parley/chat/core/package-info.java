/**
 * Parley's chat engine: {@link dev.parley.chat.core.ChatService} and the rooms it is a facade over.
 *
 * <p>A send that names an agent on an existing thread runs that agent for this run; the thread
 * keeps its own. Idempotency keys are scoped per user and per thread (or to sends that named no
 * thread), remembered for {@link ChatService#IDEMPOTENCY_WINDOW}; the request fingerprint covers the content,
 * the named agent and the busy policy.
 *
 * <p>Several services (servers) may share one store. Any of them serves any request: a run
 * executes on the server that started it, which holds it under a lease ({@link ChatServiceBuilder#runLease})
 * that it renews while the run executes; a cancel sent to another server is written to the store,
 * and the executing server notices it from the store's {@link dev.parley.chat.port.out.RunSignals}
 * hint at once (or from its periodic check). Every server runs a reaper ({@link ChatServiceBuilder#reaperInterval})
 * that ends the runs whose lease expired (their server stopped) as {@code failed} with code
 * {@code interrupted}, keeping their streamed text, and starts queued runs that no server started.
 * On a store that can tell ({@link dev.parley.chat.port.out.ServerLiveness}, such as PostgreSQL) the
 * runs of a server whose liveness signal is free and whose beat stood still for
 * {@link ChatServiceBuilder#livenessGrace} are ended the same way without waiting for their leases.
 * A run that ends while the store cannot be reached publishes its end at once and stays its
 * server's (leased, never reaped there) until that end is stored, with its partial text, once the
 * store answers again.
 */
package dev.parley.chat.core;
