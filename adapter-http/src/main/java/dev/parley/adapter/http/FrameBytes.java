package dev.parley.adapter.http;

/**
 * Filling in a frame's bytes in one array of its exact size, for the events a stream sends for every token
 * (this API's SSE {@code token} frame, the OpenAI-compatible facade's deltas): parts copied in, and a decimal
 * number written as ASCII digits.
 */
public final class FrameBytes {
    private FrameBytes() {}

    /** How many decimal digits {@code value} has; it is not negative. */
    public static int digits(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("not a count: " + value);
        }
        int n = 1;
        for (long v = value; v >= 10; v /= 10) {
            n++;
        }
        return n;
    }

    /** Copies {@code part} into {@code frame} at {@code at}; returns the index after it. */
    public static int put(byte[] part, byte[] frame, int at) {
        System.arraycopy(part, 0, frame, at, part.length);
        return at + part.length;
    }

    /** Writes {@code value}'s {@code digits} decimal digits into {@code frame} at {@code at}; returns the index after them. */
    public static int putDigits(long value, int digits, byte[] frame, int at) {
        long v = value;
        for (int i = at + digits - 1; i >= at; i--) {
            frame[i] = (byte) ('0' + (v % 10));
            v /= 10;
        }
        return at + digits;
    }
}
