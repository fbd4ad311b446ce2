package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.AgentVariable;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.StoredAgent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Contract of {@link dev.parley.chat.port.out.AgentStore}: extend it and implement {@link #createStore()}. */
public abstract class AgentStoreContract extends StoreContractSupport {
    private static final IdGenerator IDS = IdGenerator.timeOrdered();

    protected static AgentDefinition definition(String name, AgentVisibility visibility) {
        return new AgentDefinition(name, "desc of " + name, "You help {{user_id}} in {{lang}}.", null, null,
                List.of(), List.of(new AgentVariable("lang", "language", false, "English")), visibility, null);
    }

    protected StoredAgent givenAgent(String owner, AgentVisibility visibility, long createdAtMillis) {
        StoredAgent agent = StoredAgent.create(IDS.next(StoredAgent.ID_PREFIX), owner, definition("Agent " + createdAtMillis, visibility),
                at(createdAtMillis));
        store.agents().create(agent);
        return agent;
    }

    @Test
    void should_find_a_created_agent_with_every_field() {
        // given
        AgentDefinition def = new AgentDefinition(Fixtures.UNICODE, Fixtures.RTL, "Be {{tone}} \\{{literal}} " + Fixtures.EMOJI,
                "gpt-4.1", new ModelSettings(0.25, 2048, ReasoningEffort.LOW), List.of("clock", "weather"),
                List.of(new AgentVariable("tone", "how to sound", true, null), new AgentVariable("x", "", false, "d")),
                AgentVisibility.SHARED, Map.of("team", "support 🚀")).withApprovals(List.of("weather"), 3_600);
        StoredAgent agent = StoredAgent.create(IDS.next("agt"), "alice", def, at(1));

        // when
        store.agents().create(agent);

        // then
        assertThat(store.agents().find(agent.id())).contains(agent);
        assertThat(store.agents().find(agent.id(), 1)).contains(agent);
        assertThat(store.agents().find(agent.id(), 2)).isEmpty();
        assertThat(store.agents().find("agt_missing")).isEmpty();
    }

    @Test
    void should_refuse_a_second_agent_with_the_same_id() {
        StoredAgent agent = givenAgent("alice", AgentVisibility.PRIVATE, 1);

        assertThatThrownBy(() -> store.agents().create(agent))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.code()).isEqualTo("duplicate"));
    }

    @Test
    void should_keep_every_version_and_serve_the_latest() {
        // given
        StoredAgent v1 = givenAgent("alice", AgentVisibility.PRIVATE, 1);
        StoredAgent v2 = v1.nextVersion(definition("Renamed", AgentVisibility.PRIVATE), at(2));
        StoredAgent v3 = v2.nextVersion(definition("Shared now", AgentVisibility.SHARED), at(3));

        // when
        store.agents().addVersion(v2);
        store.agents().addVersion(v3);

        // then
        assertThat(store.agents().find(v1.id())).contains(v3);
        assertThat(store.agents().find(v1.id(), 1)).contains(v1);
        assertThat(store.agents().find(v1.id(), 2)).contains(v2);
        Page<StoredAgent> first = store.agents().versions(v1.id(), PageRequest.first(2));
        assertThat(first.items()).containsExactly(v3, v2);
        assertThat(first.hasMore()).isTrue();
        Page<StoredAgent> second = store.agents().versions(v1.id(), new PageRequest(2, first.nextCursor()));
        assertThat(second.items()).containsExactly(v1);
        assertThat(second.hasMore()).isFalse();
        assertThat(store.agents().versions("agt_missing", PageRequest.firstPage()).items()).isEmpty();
    }

    @Test
    void should_refuse_a_version_that_is_not_the_next_one() {
        StoredAgent v1 = givenAgent("alice", AgentVisibility.PRIVATE, 1);
        StoredAgent v2 = v1.nextVersion(definition("Two", AgentVisibility.PRIVATE), at(2));
        store.agents().addVersion(v2);

        assertThatThrownBy(() -> store.agents().addVersion(v1.nextVersion(definition("Lost", AgentVisibility.PRIVATE), at(3))))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.code()).isEqualTo("agent_version_conflict"));
        assertThatThrownBy(() -> store.agents().addVersion(v2.nextVersion(definition("Four", AgentVisibility.PRIVATE), at(3))
                        .nextVersion(definition("Four", AgentVisibility.PRIVATE), at(4))))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.code()).isEqualTo("agent_version_conflict"));
        StoredAgent stranger = StoredAgent.create(IDS.next("agt"), "bob", definition("X", AgentVisibility.PRIVATE), at(1));
        assertThatThrownBy(() -> store.agents().addVersion(stranger.nextVersion(stranger.definition(), at(2))))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("agent_not_found"));
        assertThat(store.agents().find(v1.id())).contains(v2);
    }

    @Test
    void should_list_what_each_viewer_sees() {
        // given
        StoredAgent alicePrivate = givenAgent("alice", AgentVisibility.PRIVATE, 1);
        StoredAgent bobPrivate = givenAgent("bob", AgentVisibility.PRIVATE, 2);
        StoredAgent shared = givenAgent("admin", AgentVisibility.SHARED, 3);
        StoredAgent archived = givenAgent("alice", AgentVisibility.PRIVATE, 4);
        store.agents().setStatus(archived.id(), AgentStatus.ARCHIVED, at(5));

        // then
        assertThat(ids(store.agents().list("alice", AgentStatus.ACTIVE, PageRequest.firstPage())))
                .containsExactly(shared.id(), alicePrivate.id());
        assertThat(ids(store.agents().list("bob", AgentStatus.ACTIVE, PageRequest.firstPage())))
                .containsExactly(shared.id(), bobPrivate.id());
        assertThat(ids(store.agents().list(null, AgentStatus.ACTIVE, PageRequest.firstPage()))).containsExactly(shared.id());
        assertThat(ids(store.agents().list("alice", AgentStatus.ARCHIVED, PageRequest.firstPage()))).containsExactly(archived.id());
        assertThat(ids(store.agents().list("bob", AgentStatus.ARCHIVED, PageRequest.firstPage()))).isEmpty();
    }

    @Test
    void should_list_the_latest_versions_and_follow_a_change_of_visibility() {
        StoredAgent v1 = givenAgent("alice", AgentVisibility.PRIVATE, 1);
        StoredAgent v2 = v1.nextVersion(definition("Now shared", AgentVisibility.SHARED), at(2));
        store.agents().addVersion(v2);

        assertThat(store.agents().list("bob", AgentStatus.ACTIVE, PageRequest.firstPage()).items()).containsExactly(v2);
    }

    @Test
    void should_page_newest_first_without_repeats_or_gaps() {
        // given
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            created.add(givenAgent("alice", i % 2 == 0 ? AgentVisibility.PRIVATE : AgentVisibility.SHARED, i).id());
        }
        givenAgent("bob", AgentVisibility.PRIVATE, 99);

        // when
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Page<StoredAgent> page = store.agents().list("alice", AgentStatus.ACTIVE, new PageRequest(3, cursor));
            seen.addAll(ids(page));
            cursor = page.nextCursor();
            pages++;
        } while (cursor != null);

        // then
        assertThat(pages).isEqualTo(3);
        java.util.Collections.reverse(created);
        assertThat(seen).containsExactlyElementsOf(created);
    }

    @Test
    void should_archive_and_restore_every_version() {
        StoredAgent v1 = givenAgent("alice", AgentVisibility.PRIVATE, 1);
        store.agents().addVersion(v1.nextVersion(definition("Two", AgentVisibility.PRIVATE), at(2)));

        assertThat(store.agents().setStatus(v1.id(), AgentStatus.ARCHIVED, at(3))).isTrue();
        assertThat(store.agents().find(v1.id()).map(StoredAgent::status)).contains(AgentStatus.ARCHIVED);
        assertThat(store.agents().find(v1.id(), 1).map(StoredAgent::status)).contains(AgentStatus.ARCHIVED);
        assertThat(store.agents().setStatus(v1.id(), AgentStatus.ACTIVE, at(4))).isTrue();
        assertThat(store.agents().find(v1.id()).map(StoredAgent::status)).contains(AgentStatus.ACTIVE);
        assertThat(store.agents().setStatus("agt_missing", AgentStatus.ARCHIVED, at(5))).isFalse();
    }

    @Test
    void should_make_consecutive_versions_when_locked_writers_race() {
        // given
        StoredAgent v1 = givenAgent("alice", AgentVisibility.PRIVATE, 1);
        int writers = 6;

        // when
        List<Object> results = race(writers, i -> store.inTransaction(() -> {
            StoredAgent latest = store.agents().lock(v1.id()).orElseThrow();
            StoredAgent next = latest.nextVersion(definition("Writer " + i, AgentVisibility.PRIVATE), at(10 + i));
            store.agents().addVersion(next);
            return next.version();
        }));

        // then
        assertThat(results).allSatisfy(r -> assertThat(r).isInstanceOf(Integer.class));
        assertThat(results).containsExactlyInAnyOrder(2, 3, 4, 5, 6, 7);
        assertThat(store.agents().find(v1.id()).map(StoredAgent::version)).contains(writers + 1);
    }

    @Test
    void should_let_exactly_one_unlocked_writer_win_a_version() {
        // given
        StoredAgent v1 = givenAgent("alice", AgentVisibility.PRIVATE, 1);

        // when
        List<Object> results = race(6, i -> {
            store.agents().addVersion(v1.nextVersion(definition("Writer " + i, AgentVisibility.PRIVATE), at(10 + i)));
            return "won";
        });

        // then
        assertThat(results).filteredOn("won"::equals).hasSize(1);
        assertThat(results).filteredOn(r -> r instanceof ChatException).hasSize(5)
                .allSatisfy(r -> assertThat(((ChatException) r).code()).isEqualTo("agent_version_conflict"));
        assertThat(store.agents().find(v1.id()).map(StoredAgent::version)).contains(2);
        assertThat(store.agents().versions(v1.id(), PageRequest.firstPage()).items()).hasSize(2);
    }

    @Test
    void should_keep_a_runs_instructions_until_the_run_goes() {
        // given
        Run run = givenRun(aRun().onThread(givenThread()));
        RunInstructions used = new RunInstructions(3, "Rendered for alice " + Fixtures.UNICODE);

        // when
        store.runs().recordInstructions(run.id(), used);

        // then
        assertThat(store.runs().instructions(run.id())).contains(used);
        store.threads().hardDelete(run.threadId());
        assertThat(store.runs().instructions(run.id())).isEqualTo(Optional.empty());
    }

    @Test
    void should_keep_the_model_settings_a_run_sends_and_the_answer_it_continued() {
        // given
        Run run = givenRun(aRun().onThread(givenThread()));
        Run partly = givenRun(aRun().onThread(givenThread()));
        RunInstructions used = new RunInstructions(2, "Rendered", new ModelSettings(0.35, 512, ReasoningEffort.HIGH),
                "resp_01JABCDEF_2");
        RunInstructions some = new RunInstructions(1, "", new ModelSettings(null, 64, null), null);

        // when
        store.runs().recordRun(run.id(), used, new RunOrigin("req_9", null));
        store.runs().recordInstructions(partly.id(), some);

        // then
        assertThat(store.runs().instructions(run.id())).contains(used);
        assertThat(store.runs().instructions(partly.id())).contains(some);
        store.runs().recordInstructions(partly.id(), new RunInstructions(1, ""));
        assertThat(store.runs().instructions(partly.id())).hasValueSatisfying(i -> assertThat(i.settings().isDefault()).isTrue());
    }

    @Test
    void should_keep_whether_a_run_withholds_the_tools_that_require_approval() {
        // given
        Run withheld = givenRun(aRun().onThread(givenThread()));
        Run offered = givenRun(aRun().onThread(givenThread()));
        RunInstructions without = new RunInstructions(1, "Rendered").withholdingApprovalTools(true);

        // when
        store.runs().recordRun(withheld.id(), without, RunOrigin.NONE);
        store.runs().recordInstructions(offered.id(), new RunInstructions(1, "Rendered"));

        // then
        assertThat(store.runs().instructions(withheld.id())).hasValueSatisfying(i -> assertThat(i.approvalToolsWithheld()).isTrue());
        assertThat(store.runs().instructions(offered.id())).hasValueSatisfying(i -> assertThat(i.approvalToolsWithheld()).isFalse());
        store.runs().recordInstructions(withheld.id(), new RunInstructions(1, "Rendered"));
        assertThat(store.runs().instructions(withheld.id())).hasValueSatisfying(i -> assertThat(i.approvalToolsWithheld()).isFalse());
    }

    @Test
    void should_read_the_agent_version_a_run_recorded_on_every_read_of_the_run() {
        // given
        ChatThread thread = givenThread();
        Run run = givenRun(aRun().onThread(thread));
        Run other = givenRun(aRun().onThread(givenThread()));

        // when
        store.runs().recordInstructions(run.id(), new RunInstructions(4, "Rendered"));
        Run started = store.runs().find(run.id()).orElseThrow().started(at(20));
        boolean updated = store.runs().update(started, RunStatus.QUEUED);

        // then
        assertThat(updated).isTrue();
        assertThat(store.runs().find(run.id()).map(Run::agentVersion)).contains(4);
        assertThat(store.runs().page(thread.id(), PageRequest.firstPage()).items()).extracting(Run::agentVersion).containsExactly(4);
        assertThat(store.runs().active(thread.id())).extracting(Run::agentVersion).containsExactly(4);
        assertThat(store.runs().find(other.id()).map(Run::agentVersion)).isEqualTo(Optional.empty());
    }

    @Test
    void should_store_a_run_with_its_record_in_one_call_queued_or_started() {
        // given
        Run queued = aRun().onThread(givenThread()).build();
        Run started = aRun().onThread(givenThread()).build().started(at(10));
        RunInstructions used = new RunInstructions(2, "Rendered", new ModelSettings(0.5, 256, ReasoningEffort.LOW), "resp_1")
                .withholdingApprovalTools(true);
        RunOrigin origin = new RunOrigin("req_1", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        // when
        store.runs().insert(queued, used, origin);
        store.runs().insertStarted(started, "server-a", at(1_000), new RunInstructions(3, "Other"), RunOrigin.NONE);

        // then each run reads back with what it was given and where it came from
        assertThat(store.runs().find(queued.id()).map(Run::status)).contains(RunStatus.QUEUED);
        assertThat(store.runs().find(queued.id()).map(Run::agentVersion)).contains(2);
        assertThat(store.runs().instructions(queued.id())).contains(used);
        assertThat(store.runs().origin(queued.id())).isEqualTo(origin);
        assertThat(store.runs().find(started.id()).map(Run::status)).contains(RunStatus.IN_PROGRESS);
        assertThat(store.runs().instructions(started.id())).contains(new RunInstructions(3, "Other"));
        assertThat(store.runs().origin(started.id())).isEqualTo(RunOrigin.NONE);
        assertThat(store.runs().expiredLeases(at(999), 10)).extracting(Run::id).doesNotContain(started.id());
        assertThat(store.runs().expiredLeases(at(1_000), 10)).extracting(Run::id).contains(started.id());
    }

    @Test
    void should_keep_where_a_run_came_from_until_the_run_goes() {
        // given
        Run run = givenRun(aRun().onThread(givenThread()));
        Run other = givenRun(aRun().onThread(givenThread()));
        RunOrigin origin = new RunOrigin("req_0123abc", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        // when
        store.runs().recordOrigin(run.id(), origin);

        // then
        assertThat(store.runs().origin(run.id())).isEqualTo(origin);
        assertThat(store.runs().origin(other.id())).isEqualTo(RunOrigin.NONE);
        store.threads().hardDelete(run.threadId());
        assertThat(store.runs().origin(run.id())).isEqualTo(RunOrigin.NONE);
    }

    @Test
    void should_record_a_runs_instructions_and_origin_at_once() {
        // given
        Run run = givenRun(aRun().onThread(givenThread()));
        Run plain = givenRun(aRun().onThread(givenThread()));
        RunInstructions used = new RunInstructions(2, "Rendered");
        RunOrigin origin = new RunOrigin("req_77", null);

        // when
        store.runs().recordRun(run.id(), used, origin);
        store.runs().recordRun(plain.id(), used, RunOrigin.NONE);

        // then
        assertThat(store.runs().instructions(run.id())).contains(used);
        assertThat(store.runs().origin(run.id())).isEqualTo(origin);
        assertThat(store.runs().instructions(plain.id())).contains(used);
        assertThat(store.runs().origin(plain.id())).isEqualTo(RunOrigin.NONE);
    }

    @Test
    void should_refuse_an_origin_for_a_run_it_does_not_hold() {
        Run neverStored = aRun().onThread(givenThread()).build();
        assertThatThrownBy(() -> store.runs().recordOrigin(neverStored.id(), new RunOrigin("req_1", null)))
                .isInstanceOf(NotFoundException.class);
    }

    private static List<String> ids(Page<StoredAgent> page) {
        return page.items().stream().map(StoredAgent::id).toList();
    }
}
