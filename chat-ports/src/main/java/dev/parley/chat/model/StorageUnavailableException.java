package dev.parley.chat.model;

/** The store cannot be reached or failed to answer. Code {@code unavailable}. Retrying later may succeed. */
public class StorageUnavailableException extends ChatException {
    private static final long serialVersionUID = 1L;

    public StorageUnavailableException(String message, Throwable cause) {
        super("unavailable", message, cause);
    }
}
