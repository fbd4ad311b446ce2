package dev.parley.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdleStreamsTest {
    @TempDir
    Path dir;

    @Test
    void should_write_what_each_stream_adds_class_by_class_the_largest_first() throws Exception {
        // given two class histograms as jcmd writes them, before and with 100 streams open
        Path before = Files.writeString(dir.resolve("before.txt"), """
                12345:
                 num     #instances         #bytes  class name (module)
                -------------------------------------------------------
                   1:          1000         100000  [B (java.base@25.0.3)
                   2:            10            800  java.lang.VirtualThread (java.base@25.0.3)
                Total          1010         100800
                """);
        Path open = Files.writeString(dir.resolve("open.txt"), """
                12345:
                 num     #instances         #bytes  class name (module)
                -------------------------------------------------------
                   1:           100         460000  jdk.internal.vm.StackChunk (java.base@25.0.3)
                   2:          3500         220000  [B (java.base@25.0.3)
                   3:           110          8800  java.lang.VirtualThread (java.base@25.0.3)
                Total          3710         688800
                """);

        // when
        Path out = dir.resolve("per-stream.txt");
        IdleStreams.perStream(before, open, 100, out);

        // then each class's growth over the number of streams, the largest first
        List<String> lines = Files.readAllLines(out);
        assertThat(lines.get(0)).contains("per stream, 100 streams");
        assertThat(lines.subList(1, lines.size())).containsExactly(
                "        1.00       4600.0  jdk.internal.vm.StackChunk",
                "       25.00       1200.0  [B",
                "        1.00         80.0  java.lang.VirtualThread");
    }
}
