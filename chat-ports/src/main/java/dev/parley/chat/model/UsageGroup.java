package dev.parley.chat.model;

/** How a usage report groups runs; {@link #USER} is for administrators. */
public enum UsageGroup implements WireEnum {
    DAY("day"),
    AGENT("agent"),
    MODEL("model"),
    THREAD("thread"),
    USER("user");

    private final String wireName;

    UsageGroup(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }
}
