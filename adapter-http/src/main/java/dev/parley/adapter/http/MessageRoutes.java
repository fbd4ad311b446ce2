package dev.parley.adapter.http;

import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.ChatUseCases;
import java.util.Map;

/**
 * The conversation tree's routes that are no chat: a message on any branch, its metadata, its
 * versions, activating its branch and deleting its subtree. Edit and regenerate answer as chat does
 * and live in {@link ChatRoutes}.
 */
final class MessageRoutes {
    private final ChatUseCases chat;
    private final Bodies bodies;

    MessageRoutes(ChatUseCases chat, Bodies bodies) {
        this.chat = chat;
        this.bodies = bodies;
    }

    void get(Api.Call call) {
        Api.json(call, 200, Wire.message(chat.getMessage(call.userId(), Api.threadId(call), messageId(call))));
    }

    void update(Api.Call call) {
        ThreadId thread = Api.threadId(call);
        MessageId message = messageId(call);
        Map<String, String> metadata = Requests.messagePatch(bodies.read(call.ctx()));
        Api.json(call, 200, Wire.message(chat.updateMessage(call.userId(), thread, message, metadata)));
    }

    void versions(Api.Call call) {
        ThreadId thread = Api.threadId(call);
        MessageId message = messageId(call);
        Api.json(call, 200, Wire.page(chat.listVersions(call.userId(), thread, message, Bodies.page(call.ctx())), Wire::message));
    }

    void activate(Api.Call call) {
        ThreadId thread = Api.threadId(call);
        MessageId message = messageId(call);
        bodies.read(call.ctx());
        Api.json(call, 200, Wire.thread(chat.activateMessage(call.userId(), thread, message)));
    }

    void delete(Api.Call call) {
        ThreadId thread = Api.threadId(call);
        chat.deleteMessage(call.userId(), thread, messageId(call));
        call.ctx().status(204);
    }

    private static MessageId messageId(Api.Call call) {
        return Ids.message(call.ctx().pathParam("message_id"));
    }
}
