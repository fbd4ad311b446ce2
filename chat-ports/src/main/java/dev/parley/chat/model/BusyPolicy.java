package dev.parley.chat.model;

/**
 * What a send does when the thread already has an active run: {@code reject} with
 * {@code run_in_progress}, {@code interrupt} (cancel it first), or {@code enqueue} (run after it).
 */
public enum BusyPolicy implements WireEnum { REJECT, INTERRUPT, ENQUEUE }
