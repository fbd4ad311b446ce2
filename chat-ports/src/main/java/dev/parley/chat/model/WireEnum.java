package dev.parley.chat.model;

import java.util.Optional;

/** An enum with a stable lowercase snake_case name used on the wire and in stores. */
public interface WireEnum {
    /** The stable name, e.g. {@code in_progress}. */
    default String wireName() {
        Enum<?> constant = (Enum<?>) this;
        return WireNames.LOWERCASE.get(constant.getDeclaringClass())[constant.ordinal()];
    }

    /** The constant of {@code type} whose {@link #wireName()} is {@code name}, or empty. */
    static <E extends Enum<E> & WireEnum> Optional<E> fromWire(Class<E> type, String name) {
        if (name == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(type.cast(WireNames.BY_WIRE_NAME.get(type).get(name)));
    }
}
