package dev.parley.chat.core;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package rules of the hexagon that Maven's dependency rules cannot see: they run on every
 * {@code dev.parley} class on the test class path (chat-ports, chat-core and the adapters it is
 * tested with).
 */
class HexagonArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.parley");
    }

    @Test
    void should_find_the_classes_of_every_layer() {
        org.assertj.core.api.Assertions.assertThat(classes.stream().map(c -> c.getPackageName()).distinct())
                .contains("dev.parley.chat.model", "dev.parley.chat.port.in", "dev.parley.chat.port.out",
                        "dev.parley.chat.core", "dev.parley.adapter.inmemory");
    }

    @Test
    void should_catch_a_core_class_that_uses_an_adapter() {
        // given the core's test classes, which use the in-memory adapter on purpose
        JavaClasses withTests = new ClassFileImporter().importPackages("dev.parley.chat.core");

        // when / then
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> noClasses().that().resideInAPackage("dev.parley.chat.core..")
                        .should().dependOnClassesThat(resideInAPackage("dev.parley.adapter.."))
                        .check(withTests))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("ChatHarness");
    }

    @Test
    void model_depends_on_nothing_of_parley_but_itself() {
        noClasses().that().resideInAPackage("dev.parley.chat.model..")
                .should().dependOnClassesThat(resideInAPackage("dev.parley..").and(not(resideInAPackage("dev.parley.chat.model.."))))
                .check(classes);
    }

    @Test
    void ports_do_not_depend_on_the_core_or_adapters() {
        noClasses().that().resideInAPackage("dev.parley.chat.port..")
                .should().dependOnClassesThat(resideInAnyPackage("dev.parley.chat.core..", "dev.parley.adapter.."))
                .check(classes);
    }

    @Test
    void core_does_not_depend_on_adapters() {
        noClasses().that().resideInAPackage("dev.parley.chat.core..")
                .should().dependOnClassesThat(resideInAPackage("dev.parley.adapter.."))
                .check(classes);
    }

    @Test
    void adapters_do_not_depend_on_the_core() {
        noClasses().that().resideInAPackage("dev.parley.adapter..")
                .should().dependOnClassesThat(resideInAPackage("dev.parley.chat.core.."))
                .check(classes);
    }
}
