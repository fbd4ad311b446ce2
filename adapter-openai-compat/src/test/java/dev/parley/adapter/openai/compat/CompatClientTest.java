package dev.parley.adapter.openai.compat;

import com.openai.client.OpenAIClient;
import org.junit.jupiter.api.AfterEach;

/** What the tests that drive the facade with the official Java SDK share: the server they start, stopped after each. */
abstract class CompatClientTest {
    /** Started by each test (it chooses the model and the options). */
    CompatServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** The SDK's client for the user alice. */
    OpenAIClient alice() {
        return server.client("alice");
    }
}
