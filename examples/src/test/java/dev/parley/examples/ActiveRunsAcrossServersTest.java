package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.LimitExceededException;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.testsupport.Race;
import dev.parley.testsupport.TestPostgres;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two servers on one PostgreSQL, each with its own pool, with a limit of 3 active runs per user:
 * sends of one user racing through both servers start exactly 3 runs, the rest are refused with
 * {@code too_many_active_runs} and leave nothing behind, and a run's end frees its place at once.
 */
class ActiveRunsAcrossServersTest {
    private static final int LIMIT = 3;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<ScriptedChatModel> models = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        models.forEach(m -> {
            for (int i = 0; i < 20; i++) {
                m.release();
            }
        });
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** A server of its own on the shared schema, whose model holds every run until released. */
    private ChatService server(String url, String name) {
        var store = JdbcChatStores.create(url);
        resources.add(store);
        ScriptedChatModel.Builder model = ScriptedChatModel.builder();
        for (int i = 0; i < 20; i++) {
            model.tokensThenBlock("working");
        }
        ScriptedChatModel built = model.build();
        models.add(built);
        ChatService service = ChatService.builder().store(store).model(built).instanceId(name)
                .agents(List.of(Agent.builder("helper").instructions("Help.").build()))
                .maxActiveRunsPerUser(LIMIT)
                .build();
        resources.add(service);
        return service;
    }

    @Test
    void should_start_exactly_the_limit_of_a_users_runs_when_sends_race_through_two_servers() throws Exception {
        // given
        TestPostgres.Schema schema = TestPostgres.freshSchema("active_runs");
        resources.add(0, schema);
        ChatService a = server(schema.url(), "server-a");
        ChatService b = server(schema.url(), "server-b");

        // when ten sends of alice race, half through each server
        List<java.util.concurrent.Callable<Object>> sends = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ChatService through = i % 2 == 0 ? a : b;
            String text = "task " + i;
            sends.add(() -> {
                try {
                    return through.send(SendMessageCommand.newThread("alice", text));
                } catch (LimitExceededException e) {
                    return e;
                }
            });
        }
        List<Object> results = Race.of(sends);

        // then exactly three started; the others were refused and stored nothing
        assertThat(results).filteredOn(r -> !(r instanceof Throwable)).hasSize(LIMIT);
        assertThat(results).filteredOn(r -> r instanceof Throwable)
                .allSatisfy(e -> assertThat(e).isInstanceOfSatisfying(LimitExceededException.class,
                        limit -> assertThat(limit.code()).isEqualTo("too_many_active_runs")));
        assertThat(a.listThreads("alice", null, PageRequest.first(20)).items()).hasSize(LIMIT);
        // bob is not affected
        assertThat(b.send(SendMessageCommand.newThread("bob", "hi")).run()).isNotNull();

        // when one of alice's runs ends, the next send is accepted at once, on either server
        SendReceipt first = (SendReceipt) results.stream().filter(r -> !(r instanceof Throwable)).findFirst().orElseThrow();
        a.cancelActiveRun("alice", first.thread().id());
        assertThat(b.send(SendMessageCommand.newThread("alice", "after")).run()).isNotNull();
    }
}
