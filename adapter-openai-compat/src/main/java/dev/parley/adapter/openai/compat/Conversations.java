package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.HttpGateway;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SeedMessage;
import dev.parley.chat.port.in.UpdateThreadCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /v1/conversations}: a conversation is a thread (the thread id is the conversation id) and
 * its items are the messages of the thread's active path. Deleting one moves the thread to the trash,
 * as {@code DELETE /api/v1/threads/{id}} does.
 */
final class Conversations {
    /** The most items a conversation starts with, as OpenAI's API allows. */
    static final int MAX_ITEMS = 20;

    private final HttpGateway gateway;
    private final ChatUseCases chat;

    Conversations(HttpGateway gateway) {
        this.gateway = gateway;
        this.chat = gateway.chat();
    }

    void create(HttpGateway.Request request) {
        JsonNode body = gateway.readJson(request.ctx());
        Http.requireKnown(body, Set.of("metadata", "items"));
        List<SeedMessage> seeds = seeds(body.get("items"));
        Map<String, String> metadata = Http.metadata(body, "metadata");
        ChatThread thread;
        try {
            thread = chat.createThread(new CreateThreadCommand(request.userId(), null, null, metadata).withMessages(seeds));
        } catch (InvalidRequestException e) {
            // the core names the seeded messages as its Java API does; the client sent them as items
            String param = e.errors().isEmpty() ? null : e.errors().get(0).field().replace("messages[", "items[");
            throw OpenAiError.invalid(param, e.getMessage().replace("messages[", "items["));
        }
        Http.json(request.ctx(), 200, conversation(thread));
    }

    /**
     * The {@code items} a conversation starts with: at most {@link #MAX_ITEMS} messages of the user
     * (text and images) or the assistant (text). System and developer messages are not stored in a
     * conversation: instructions come with each response (its {@code instructions}) or from the agent.
     */
    static List<SeedMessage> seeds(JsonNode items) {
        if (items == null || items.isNull()) {
            return List.of();
        }
        if (!items.isArray()) {
            throw OpenAiError.invalid("items", "Invalid 'items': expected an array of items.");
        }
        if (items.size() > MAX_ITEMS) {
            throw OpenAiError.invalid("items", "Invalid 'items': a conversation starts with at most " + MAX_ITEMS + " items.");
        }
        List<SeedMessage> seeds = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            String at = "items[" + i + "]";
            if (!item.isObject()) {
                throw OpenAiError.invalid(at, "Invalid '" + at + "': expected an object.");
            }
            String type = item.path("type").asText("message");
            if (!type.equals("message")) {
                throw OpenAiError.unsupported(at + ".type", "a conversation starts with messages only, not items of type '"
                        + Http.shown(type) + "'");
            }
            String role = item.path("role").asText("");
            switch (role) {
                case "user" -> seeds.add(new SeedMessage(Role.USER, Input.content(item.get("content"), at + ".content")));
                case "assistant" -> seeds.add(new SeedMessage(Role.ASSISTANT, Input.content(item.get("content"), at + ".content")));
                case "system", "developer" -> throw OpenAiError.unsupported(at + ".role",
                        "a conversation keeps no " + role + " messages; give instructions with each response or in the agent");
                default -> throw OpenAiError.invalid(at + ".role", "Invalid '" + at + ".role': expected user or assistant.");
            }
        }
        return seeds;
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
