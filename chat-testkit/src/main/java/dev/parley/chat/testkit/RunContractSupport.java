package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import org.junit.jupiter.api.BeforeEach;

/** What the run store's contracts ({@link RunStoreContract}, {@link RunLeaseContract}) share: a thread with a question to hang runs on. */
public abstract class RunContractSupport extends StoreContractSupport {
    /** A live thread with a first user message, to hang runs on. */
    protected ChatThread thread;
    protected Message question;

    @BeforeEach
    void givenAThreadWithAQuestion() {
        thread = givenThread();
        question = givenMessage(thread);
    }

    /** A run of {@link #thread} answering {@link #question}. */
    protected Fixtures.RunBuilder aRunHere() {
        return aRun().onThread(thread).forMessage(question.id());
    }
}
