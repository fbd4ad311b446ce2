package dev.parley.chat.model;

import java.util.Locale;
import java.util.Optional;

/** An enum with a stable lowercase snake_case name used on the wire and in stores. */
public interface WireEnum {
    /** The stable name, e.g. {@code in_progress}. */
    default String wireName() {
        return ((Enum<?>) this).name().toLowerCase(Locale.ROOT);
    }

    /** The constant of {@code type} whose {@link #wireName()} is {@code name}, or empty. */
    static <E extends Enum<E> & WireEnum> Optional<E> fromWire(Class<E> type, String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (E value : type.getEnumConstants()) {
            if (value.wireName().equals(name)) {
                return Optional.of(value);
            }
        }
        return Optional.empty();
    }
}
