package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any template text and any values: parsing and rendering either succeed or throw a validation
 * error ({@link InvalidRequestException}), never anything else; and a value is inserted as text,
 * never expanded, so the output grows by exactly the value's length for each use of its name
 * (values deliberately look like templates). Runs its seeds in every build; fuzz for real with
 * {@code JAZZER_FUZZ=1 mvn -pl chat-ports test -Dtest=InstructionTemplateFuzzTest}.
 */
class InstructionTemplateFuzzTest {

    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "2m")
    void should_render_any_template_or_refuse_it_with_a_validation_error(FuzzedDataProvider data) {
        // given
        String text = data.consumeString(2_000);
        String hostile = data.consumeString(200);
        InstructionTemplate template;
        try {
            template = InstructionTemplate.parse(text);
        } catch (InvalidRequestException e) {
            assertThat(e.errors()).extracting(FieldError::field).containsExactly("instructions");
            return;
        }
        Map<String, String> empty = new HashMap<>();
        Map<String, String> values = new HashMap<>();
        for (String name : template.names()) {
            empty.put(name, "");
            values.put(name, "{{" + name + "}}" + hostile + "\\{{" + name + "}}");
        }

        // when
        String bare = template.render(empty);
        String full = template.render(values);

        // then
        long expected = bare.length();
        for (String name : template.names()) {
            Map<String, String> one = new HashMap<>(empty);
            one.put(name, "x");
            int uses = template.render(one).length() - bare.length();
            expected += (long) uses * values.get(name).length();
        }
        assertThat(full.length()).isEqualTo(expected);
        if (!template.names().isEmpty()) {
            String missing = template.names().iterator().next();
            Map<String, String> partial = new HashMap<>(values);
            partial.remove(missing);
            try {
                template.render(partial);
                throw new AssertionError("rendered without a value for " + missing);
            } catch (InvalidRequestException e) {
                assertThat(e.errors()).extracting(FieldError::field).containsExactly("variables." + missing);
            }
        }
    }
}
