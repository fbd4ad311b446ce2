package dev.parley.adapter.mcp;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The adapter shows one entry point and its configuration, and sees the core only through chat-ports. */
class ArchitectureTest {
    private final JavaClasses adapter = new ClassFileImporter().importPath(Path.of("target", "classes"));

    @Test
    void should_expose_only_the_entry_point_and_the_server_configuration() {
        classes().that().arePublic().should().haveFullyQualifiedName(McpTools.class.getName())
                .orShould().haveFullyQualifiedName(McpTools.Builder.class.getName())
                .orShould().haveFullyQualifiedName(McpServerConfig.class.getName())
                .check(adapter);
    }

    @Test
    void should_not_depend_on_the_core() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.parley.chat.core..").check(adapter);
    }
}
