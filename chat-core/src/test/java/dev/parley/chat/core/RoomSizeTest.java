package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Rooms stay small: no main-code class of the core, adapter-http or adapter-openai-compat (one top-level class per file)
 * is over 500 lines, and the facade under 300; a class that grows past that is split before anything is added.
 */
class RoomSizeTest {
    static final int MAX_LINES = 500;
    static final int MAX_FACADE_LINES = 300;
    /** The module directories whose main code is held to the limit, relative to chat-core (where this test runs). */
    static final List<String> MODULES = List.of(".", "../adapter-http", "../adapter-openai-compat");

    @Test
    void should_keep_every_main_class_of_the_core_and_the_http_adapter_under_500_lines() throws IOException {
        Map<String, Long> tooLong = new TreeMap<>();
        for (String module : MODULES) {
            Path root = Path.of(module, "src", "main", "java");
            assertThat(root).isDirectory();
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    long lines = lines(file);
                    if (lines > MAX_LINES) {
                        tooLong.put(file.toString(), lines);
                    }
                }
            }
        }
        assertThat(tooLong).as("classes over %d lines", MAX_LINES).isEmpty();
    }

    @Test
    void should_keep_the_facade_thin() throws IOException {
        assertThat(lines(Path.of("src/main/java/dev/parley/chat/core/ChatService.java"))).isLessThan(MAX_FACADE_LINES);
    }

    private static long lines(Path file) throws IOException {
        try (Stream<String> lines = Files.lines(file)) {
            return lines.count();
        }
    }
}
