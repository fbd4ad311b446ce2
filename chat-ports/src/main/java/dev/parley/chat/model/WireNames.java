package dev.parley.chat.model;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Each enum's names, worked out once: every event, row and answer names its statuses and types. */
final class WireNames {
    /** The constants' names in lowercase, by ordinal (what {@link WireEnum#wireName()} gives unless overridden). */
    static final ClassValue<String[]> LOWERCASE = new ClassValue<>() {
        @Override
        protected String[] computeValue(Class<?> type) {
            Object[] constants = type.getEnumConstants();
            String[] names = new String[constants.length];
            for (int i = 0; i < constants.length; i++) {
                names[i] = ((Enum<?>) constants[i]).name().toLowerCase(Locale.ROOT);
            }
            return names;
        }
    };

    /** The constants by their {@link WireEnum#wireName()}, overrides included. */
    static final ClassValue<Map<String, Object>> BY_WIRE_NAME = new ClassValue<>() {
        @Override
        protected Map<String, Object> computeValue(Class<?> type) {
            Map<String, Object> byName = new HashMap<>();
            for (Object constant : type.getEnumConstants()) {
                byName.putIfAbsent(((WireEnum) constant).wireName(), constant);
            }
            return Map.copyOf(byName);
        }
    };

    private WireNames() {}
}
