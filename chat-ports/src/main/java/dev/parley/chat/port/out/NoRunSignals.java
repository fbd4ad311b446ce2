package dev.parley.chat.port.out;

import dev.parley.chat.model.RunId;
import java.util.function.Consumer;

/** The one instance of {@link RunSignals#none()}. */
enum NoRunSignals implements RunSignals {
    INSTANCE;

    @Override
    public Registration onRunChanged(Consumer<RunId> listener) {
        return () -> { };
    }

    @Override
    public Registration onEventsStored(Consumer<RunId> listener) {
        return () -> { };
    }

    @Override
    public String toString() {
        return "RunSignals.none()";
    }
}
