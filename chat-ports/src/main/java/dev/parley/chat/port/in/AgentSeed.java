package dev.parley.chat.port.in;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.Ids;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.StoredAgent;

/**
 * A stored agent an application brings with it: the agent {@code id} (an {@code agt_} id the
 * application chooses, e.g. {@code agt_support}) should say {@code definition}, and belongs to
 * {@code ownerId} when it is created. See {@link AgentAdmin#seedAgent}.
 */
public record AgentSeed(String id, String ownerId, AgentDefinition definition) {
    public AgentSeed {
        Require.that(Ids.isValid(StoredAgent.ID_PREFIX, id),
                "a seeded agent id is agt_ followed by letters and digits, e.g. agt_support, not " + shown(id));
        Require.notBlank(ownerId, "ownerId");
        Require.notNull(definition, "definition");
    }

    private static String shown(String id) {
        return id == null ? "null" : id.length() <= 80 ? id : id.substring(0, 80) + "...";
    }
}
