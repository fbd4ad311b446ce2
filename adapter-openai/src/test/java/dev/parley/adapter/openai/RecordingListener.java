package dev.parley.adapter.openai;

import dev.parley.chat.port.out.ModelStreamListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/** Records the deltas a model emits and signals the first answer token. */
final class RecordingListener implements ModelStreamListener {
    final List<String> tokens = new CopyOnWriteArrayList<>();
    final List<String> thinking = new CopyOnWriteArrayList<>();
    final CountDownLatch firstToken = new CountDownLatch(1);

    @Override
    public void onToken(String delta) {
        tokens.add(delta);
        firstToken.countDown();
    }

    @Override
    public void onThinking(String delta) {
        thinking.add(delta);
    }

    String text() {
        return String.join("", tokens);
    }

    String thoughts() {
        return String.join("", thinking);
    }
}
