package dev.parley.chat.model;

import java.util.Collection;

/** Argument checks used by the compact constructors of the domain records. */
public final class Require {
    private Require() {}

    /** Returns {@code value} or throws {@link NullPointerException} naming the field. */
    public static <T> T notNull(T value, String name) {
        if (value == null) {
            throw new NullPointerException(name + " must not be null");
        }
        return value;
    }

    /** Returns {@code value} when it has a non-whitespace character, else throws {@link IllegalArgumentException}. */
    public static String notBlank(String value, String name) {
        notNull(value, name);
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
        return value;
    }

    /** Returns {@code value} when it is zero or more. */
    public static long notNegative(long value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative, was " + value);
        }
        return value;
    }

    /** Returns {@code value} when it lies in {@code [min, max]}. */
    public static int inRange(int value, int min, int max, String name) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", was " + value);
        }
        return value;
    }

    /** Returns {@code values} when it is non-null and not empty. */
    public static <C extends Collection<?>> C notEmpty(C values, String name) {
        notNull(values, name);
        if (values.isEmpty()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
        return values;
    }

    /** Throws {@link IllegalArgumentException} with {@code message} unless {@code condition} holds. */
    public static void that(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
