package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.BudgetExceededException;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.UsageQuery;
import dev.parley.chat.port.out.Agent;
import dev.parley.testsupport.TestPostgres;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two servers on one PostgreSQL: a budget used up through one refuses the user on the other, and
 * both report the same usage, because the database is the truth.
 */
class BudgetAcrossServersTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    /** A server of its own (pool, event bus, service) on the shared schema; each answer costs 1 USD. */
    private ChatService server(String url, String name) {
        var store = track(JdbcChatStores.create(url));
        ScriptedChatModel model = ScriptedChatModel.builder().reply("one dollar").usage(0, 1).reply("one dollar").usage(0, 1).build();
        return track(ChatService.builder().store(store).model(model).instanceId(name)
                .agents(List.of(Agent.builder("helper").instructions("Help.").build()))
                .prices(Map.of("scripted", ModelPrice.of("0", "1000000")))
                .monthlyBudgetUsd(new BigDecimal("2"))
                .build());
    }

    @Test
    void should_refuse_a_user_on_one_server_once_the_budget_was_used_up_through_another() throws Exception {
        // given
        TestPostgres.Schema schema = track(TestPostgres.freshSchema("budget"));
        ChatService a = server(schema.url(), "server-a");
        ChatService b = server(schema.url(), "server-b");
        ChatThread thread = a.createThread(new CreateThreadCommand("alice", null, null, null));
        // when: two answers on server A spend the 2 USD
        for (int i = 0; i < 2; i++) {
            var sent = a.send(SendMessageCommand.text("alice", thread.id(), "question " + i));
            assertThat(a.await("alice", sent.run().id(), WAIT).run().isTerminal()).isTrue();
        }
        // then: server B refuses alice, serves bob, and reports what A spent
        assertThatThrownBy(() -> b.send(SendMessageCommand.text("alice", thread.id(), "more")))
                .isInstanceOf(BudgetExceededException.class);
        ChatThread bobs = b.createThread(new CreateThreadCommand("bob", null, null, null));
        var bobSent = b.send(SendMessageCommand.text("bob", bobs.id(), "hi"));
        assertThat(b.await("bob", bobSent.run().id(), WAIT).run().costUsd()).isEqualByComparingTo("1");
        var report = b.usage(Caller.user("alice"), new UsageQuery(null, null, null, UsageGroup.AGENT));
        assertThat(report.total().runs()).isEqualTo(2);
        assertThat(report.total().costUsd()).isEqualByComparingTo("2");
        assertThat(b.getThread("alice", thread.id()).usage().costUsd()).isEqualByComparingTo("2");
    }
}
