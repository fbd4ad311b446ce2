package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.HttpGateway;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.UpdateThreadCommand;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /v1/conversations}: a conversation is a thread (the thread id is the conversation id) and
 * its items are the messages of the thread's active path. Deleting one moves the thread to the trash,
 * as {@code DELETE /api/v1/threads/{id}} does.
 */
final class Conversations {
    private final HttpGateway gateway;
    private final ChatUseCases chat;

    Conversations(HttpGateway gateway) {
        this.gateway = gateway;
        this.chat = gateway.chat();
    }

    void create(HttpGateway.Request request) {
        JsonNode body = gateway.readJson(request.ctx());
        Http.requireKnown(body, Set.of("metadata", "items"));
        JsonNode items = body.get("items");
        if (items != null && !items.isNull() && !(items.isArray() && items.isEmpty())) {
            throw OpenAiError.unsupported("items", "a conversation starts empty; its first response adds the first items");
        }
        Map<String, String> metadata = Http.metadata(body, "metadata");
        ChatThread thread = chat.createThread(new CreateThreadCommand(request.userId(), null, null, metadata));
        Http.json(request.ctx(), 200, conversation(thread));
    }

    void get(HttpGateway.Request request) {
        Http.json(request.ctx(), 200, conversation(chat.getThread(request.userId(), id(request))));
    }

    void update(HttpGateway.Request request) {
        ThreadId id = id(request);
        JsonNode body = gateway.readJson(request.ctx());
        Http.requireKnown(body, Set.of("metadata"));
        if (!body.has("metadata")) {
            throw OpenAiError.invalid("metadata", "Missing required parameter: 'metadata'.");
        }
        Map<String, String> metadata = Http.metadata(body, "metadata");
        ChatThread thread = chat.updateThread(new UpdateThreadCommand(request.userId(), id, Optional.empty(), Optional.of(metadata)));
        Http.json(request.ctx(), 200, conversation(thread));
    }

    void delete(HttpGateway.Request request) {
        ThreadId id = id(request);
        chat.deleteThread(request.userId(), id, false);
        ObjectNode deleted = Wire.object();
        deleted.put("id", id.value());
        deleted.put("object", "conversation.deleted");
        deleted.put("deleted", true);
        Http.json(request.ctx(), 200, deleted);
    }

    /** The items of the active path, newest first unless {@code order=asc}, after the item {@code after}. */
    void items(HttpGateway.Request request) {
        Http.refuseInclude(request.ctx());
        ThreadId id = id(request);
        int limit = Http.limit(request.ctx(), 20);
        boolean ascending = Http.ascending(request.ctx(), false);
        String after = request.ctx().queryParam("after");
        SortOrder order = ascending ? SortOrder.ASC : SortOrder.DESC;
        ArrayNode data = Wire.array();
        boolean passed = after == null;
        boolean more = false;
        String cursor = null;
        // messages that are no items (tool results) are skipped, so a page is filled from as many store pages as it takes
        do {
            Page<Message> page = chat.listMessages(request.userId(), id, new PageRequest(PageRequest.MAX_LIMIT, cursor), order);
            for (Message message : page.items()) {
                if (!passed) {
                    passed = message.id().value().equals(after);
                    continue;
                }
                Optional<ObjectNode> item = Wire.item(message);
                if (item.isPresent()) {
                    if (data.size() == limit) {
                        more = true;
                        break;
                    }
                    data.add(item.get());
                }
            }
            cursor = page.hasMore() && !more ? page.nextCursor() : null;
        } while (cursor != null);
        Http.json(request.ctx(), 200, Wire.list(data, more));
    }

    private static ThreadId id(HttpGateway.Request request) {
        String raw = request.ctx().pathParam("conversation_id");
        return ThreadId.parse(raw).orElseThrow(() -> OpenAiError.notFound("conversation_not_found",
                "Conversation with id '" + Http.shown(raw) + "' not found."));
    }

    private static ObjectNode conversation(ChatThread thread) {
        return Wire.conversation(thread.id(), thread.createdAt(), thread.metadata());
    }
}
