package dev.parley.chat.model;

import java.security.SecureRandom;
import java.util.concurrent.locks.ReentrantLock;

/** Id syntax and the default time-ordered generator. */
public final class Ids {
    /** Longest id body accepted. */
    public static final int MAX_BODY_LENGTH = 64;

    static final IdGenerator UUID_V7 = new UuidV7Generator();

    private Ids() {}

    /** True when {@code text} is {@code prefix_body} with a body of 1 to 64 ASCII letters and digits. */
    public static boolean isValid(String prefix, String text) {
        if (text == null || text.length() < prefix.length() + 2 || text.length() > prefix.length() + 1 + MAX_BODY_LENGTH) {
            return false;
        }
        if (!text.startsWith(prefix) || text.charAt(prefix.length()) != '_') {
            return false;
        }
        for (int i = prefix.length() + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Throws {@link IllegalArgumentException} "not a {@code what}: ..." unless {@code text} is {@link #isValid valid}; the
     * message is built only then (ids are checked wherever they are made or read).
     */
    static void requireValid(String prefix, String text, String what) {
        if (!isValid(prefix, text)) {
            throw new IllegalArgumentException("not a " + what + ": " + abbreviate(text));
        }
    }

    static String abbreviate(String text) {
        if (text == null) {
            return "null";
        }
        return text.length() <= 80 ? text : text.substring(0, 80) + "...";
    }

    /**
     * RFC 9562 UUIDv7 with a monotonic counter in {@code rand_a} (method 1 of section 6.2). The random bits
     * come from a {@link SecureRandom}, drawn {@value #RANDOM_BUFFER} bytes at a time: one draw serves 64 ids.
     */
    private static final class UuidV7Generator implements IdGenerator {
        private static final char[] HEX = "0123456789abcdef".toCharArray();
        private static final int RANDOM_BUFFER = 512;
        private final SecureRandom random = new SecureRandom();
        private final ReentrantLock lock = new ReentrantLock();
        private final byte[] randomBytes = new byte[RANDOM_BUFFER];
        private int randomAt = RANDOM_BUFFER;
        private long lastMillis;
        private int counter;

        @Override
        public String next(String prefix) {
            long millis;
            int seq;
            long lsb;
            lock.lock();
            try {
                long now = System.currentTimeMillis();
                if (now > lastMillis) {
                    lastMillis = now;
                    counter = (int) (randomLong() & 0x3FF); // leave room to count up within the millisecond
                } else if (++counter > 0xFFF) {
                    lastMillis++; // counter exhausted: borrow the next millisecond, keeping order
                    counter = 0;
                }
                millis = lastMillis;
                seq = counter;
                lsb = randomLong();
            } finally {
                lock.unlock();
            }
            long msb = (millis << 16) | 0x7000L | seq;
            lsb = (lsb & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
            char[] out = new char[prefix.length() + 1 + 32];
            prefix.getChars(0, prefix.length(), out, 0);
            out[prefix.length()] = '_';
            writeHex(msb, out, prefix.length() + 1);
            writeHex(lsb, out, prefix.length() + 17);
            return new String(out);
        }

        /** The next 64 random bits; called under the lock. */
        private long randomLong() {
            if (randomAt == RANDOM_BUFFER) {
                random.nextBytes(randomBytes);
                randomAt = 0;
            }
            long value = 0;
            for (int i = 0; i < 8; i++) {
                value = (value << 8) | (randomBytes[randomAt + i] & 0xFF);
            }
            randomAt += 8;
            return value;
        }

        private static void writeHex(long value, char[] out, int at) {
            for (int i = 15; i >= 0; i--) {
                out[at + i] = HEX[(int) (value & 0xF)];
                value >>>= 4;
            }
        }
    }
}
