package dev.parley.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The figures of one run: one row per figure, with the goal it is held against. Printed as a
 * Markdown table and written to {@code results.md} and {@code results.json} in the results folder,
 * after every scenario (so a run cut short keeps what it measured).
 */
public final class Report {
    private final List<Row> rows = new ArrayList<>();
    private final Path dir;
    private final String conditions;

    /** One figure. {@code met} is null when the figure has no goal. */
    public record Row(String section, String figure, String value, String goal, Boolean met, String note) {}

    public Report(Path dir, String conditions) {
        this.dir = dir;
        this.conditions = conditions;
    }

    public synchronized void add(String section, String figure, String value, String goal, Boolean met, String note) {
        Row row = new Row(section, figure, value, goal == null ? "" : goal, met, note == null ? "" : note);
        rows.add(row);
        System.out.println("  " + section + " | " + figure + " | " + value + (goal == null ? "" : " | goal " + goal
                + " | " + status(met)) + (row.note().isEmpty() ? "" : " | " + row.note()));
        save();
    }

    public void add(String section, String figure, String value) {
        add(section, figure, value, null, null, null);
    }

    public synchronized void skipped(String section, String figure, String why) {
        add(section, figure, "not measured", null, null, why);
    }

    public synchronized List<Row> rows() {
        return List.copyOf(rows);
    }

    public synchronized String markdown() {
        StringBuilder md = new StringBuilder();
        md.append(conditions).append("\n\n");
        md.append("| # | figure | value | goal | status | note |\n|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append("| ").append(r.section()).append(" | ").append(r.figure()).append(" | ").append(r.value())
                    .append(" | ").append(r.goal()).append(" | ").append(r.met() == null ? "" : status(r.met()))
                    .append(" | ").append(r.note()).append(" |\n");
        }
        return md.toString();
    }

    private static String status(Boolean met) {
        return met == null ? "" : met ? "met" : "NOT met";
    }

    private void save() {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("results.md"), markdown());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("results.json").toFile(), rows);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A duration in microseconds, readable: {@code 412 µs}, {@code 3.41 ms}, {@code 1.20 s}. */
    public static String micros(double us) {
        if (us < 1_000) {
            return String.format(Locale.ROOT, "%.0f µs", us);
        }
        if (us < 1_000_000) {
            return String.format(Locale.ROOT, "%.2f ms", us / 1_000);
        }
        return String.format(Locale.ROOT, "%.2f s", us / 1_000_000);
    }

    public static String num(double value, String unit) {
        return String.format(Locale.ROOT, value >= 100 ? "%,.0f %s" : "%.2f %s", value, unit).trim();
    }

    public static String ratio(double value) {
        return String.format(Locale.ROOT, "%.2fx", value);
    }

    public static String mib(double bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (1024 * 1024));
    }

    public static String kib(double bytes) {
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024);
    }
}
