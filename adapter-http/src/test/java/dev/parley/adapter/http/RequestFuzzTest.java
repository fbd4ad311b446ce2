package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.UpdateThreadCommand;
import java.util.Map;
import java.util.Optional;

/**
 * Any request body, through the same parsing the chat and thread routes use (strict UTF-8 JSON,
 * then the typed request, then the inbound port's command), ends as a typed request or a 4xx
 * problem, never an unexpected exception (which the API would answer with a 500).
 *
 * <p>Runs its seeds ({@code RequestFuzzTestInputs/<method>/}) in every build; fuzz for real with
 * {@code JAZZER_FUZZ=1 mvn -pl adapter-http -am test -Dtest=RequestFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class RequestFuzzTest {
    private static final int MAX_MESSAGE_CHARS = 200;

    @FuzzTest(maxDuration = "2m")
    void should_turn_any_chat_body_into_a_request_or_a_4xx_problem(byte[] body) {
        expectRequestOrClientError(() -> {
            Requests.Chat chat = Requests.chat(Bodies.parseBody(body), true, MAX_MESSAGE_CHARS);
            long codePoints = 0;
            assertThat(chat.content()).isNotEmpty();
            for (ContentPart part : chat.content()) {
                if (part instanceof ContentPart.Text text) {
                    assertStorable(text.text());
                    codePoints += text.text().codePointCount(0, text.text().length());
                } else if (part instanceof ContentPart.ImageUrl image) {
                    assertStorable(image.url());
                }
            }
            assertThat(codePoints).isLessThanOrEqualTo(MAX_MESSAGE_CHARS);
            assertStorable(chat.metadata());
            ThreadId thread = chat.threadId() == null ? null : ThreadId.parse(chat.threadId())
                    .orElseThrow(() -> ApiProblem.notFound("thread_not_found", "No such thread"));
            new SendMessageCommand("fuzz", thread, chat.agentId(), chat.content(), chat.ifBusy(), null, chat.metadata());
        });
    }

    @FuzzTest(maxDuration = "2m")
    void should_turn_any_thread_body_into_a_request_or_a_4xx_problem(byte[] body) {
        expectRequestOrClientError(() -> {
            JsonNode json = Bodies.parseBody(body);
            Requests.CreateThread create = Requests.createThread(json);
            if (create.title() != null) {
                assertStorable(create.title());
            }
            assertStorable(create.metadata());
            new CreateThreadCommand("fuzz", create.agentId(), create.title(), create.metadata());
            Requests.UpdateThread update = Requests.updateThread(json);
            new UpdateThreadCommand("fuzz", ThreadId.parse("thr_fuzz").orElseThrow(), Optional.ofNullable(update.title()),
                    Optional.ofNullable(update.metadata()));
        });
    }

    /** Runs {@code parse}; whatever it throws must be a problem the API answers with a 4xx. */
    static void expectRequestOrClientError(Runnable parse) {
        try {
            parse.run();
        } catch (RuntimeException e) {
            ApiProblem problem = Errors.toProblem(e, "fuzz");
            assertThat(problem.status).as("status for %s", e).isBetween(400, 499);
            assertThat(problem.code).isNotBlank();
        }
    }

    private static void assertStorable(String text) {
        assertThat(Requests.textProblem(text)).as("a parsed text the store would refuse").isNull();
    }

    private static void assertStorable(Map<String, String> metadata) {
        if (metadata != null) {
            metadata.forEach((k, v) -> {
                assertStorable(k);
                assertStorable(v);
            });
        }
    }
}
