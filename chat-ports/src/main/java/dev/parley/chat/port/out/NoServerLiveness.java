package dev.parley.chat.port.out;

import dev.parley.chat.model.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The one instance of {@link ServerLiveness#none()}. */
enum NoServerLiveness implements ServerLiveness {
    INSTANCE;

    private static final Signal NOTHING_HELD = new Signal() {
        @Override
        public boolean isHeld() {
            return false;
        }

        @Override
        public long takes() {
            return 0;
        }

        @Override
        public void close() {
        }
    };

    @Override
    public boolean isSupported() {
        return false;
    }

    @Override
    public Signal hold(String owner, Duration beatEvery) {
        return NOTHING_HELD;
    }

    @Override
    public List<OwnerState> owners(Instant now) {
        return List.of();
    }

    @Override
    public List<RunId> expireLeases(String owner, long beat, Instant now) {
        return List.of();
    }

    @Override
    public String toString() {
        return "ServerLiveness.none()";
    }
}
