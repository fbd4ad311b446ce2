package dev.parley.adapter.http;

import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;

/** Ids from the wire: one that cannot exist is the 404 of its kind, exactly as a missing one. */
final class Ids {
    private Ids() {}

    static ThreadId thread(String raw) {
        return ThreadId.parse(raw).orElseThrow(() -> ApiProblem.notFound("thread_not_found", "No such thread"));
    }

    static MessageId message(String raw) {
        return MessageId.parse(raw).orElseThrow(() -> ApiProblem.notFound("message_not_found", "No such message"));
    }

    static RunId run(String raw) {
        return RunId.parse(raw).orElseThrow(() -> ApiProblem.notFound("run_not_found", "No such run"));
    }
}
