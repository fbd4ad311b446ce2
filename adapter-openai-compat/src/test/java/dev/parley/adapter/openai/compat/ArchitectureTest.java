package dev.parley.adapter.openai.compat;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The facade shows one public entry point, sees the core only through chat-ports and uses no vendor SDK. */
class ArchitectureTest {
    private final JavaClasses adapter = new ClassFileImporter().importPath(Path.of("target", "classes"));

    @Test
    void should_expose_only_its_entry_point() {
        classes().that().arePublic().should().haveFullyQualifiedName(OpenAiCompat.class.getName()).check(adapter);
    }

    @Test
    void should_not_depend_on_the_core_or_a_vendor_sdk() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.parley.chat.core..", "com.openai..")
                .check(adapter);
    }
}
