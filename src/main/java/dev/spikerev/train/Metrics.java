package dev.spikerev.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Per-epoch metrics of a run: {@code metrics.csv} and {@code metrics.json} in the run folder, rewritten atomically. */
public final class Metrics {
    /** Column order of metrics.csv. */
    public static final List<String> COLUMNS = List.of("epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
            "test_acc_ema", "epoch_seconds", "images_per_second");

    private final List<Map<String, Object>> rows = new ArrayList<>();

    public List<Map<String, Object>> rows() { return rows; }

    public void add(Map<String, Object> row) { rows.add(new LinkedHashMap<>(row)); }

    /** Rebuilds from a checkpoint's saved history (list of maps). */
    @SuppressWarnings("unchecked")
    public static Metrics fromHistory(Object history) {
        Metrics m = new Metrics();
        if (history instanceof List<?> l) for (Object o : l) if (o instanceof Map<?, ?> r) m.add((Map<String, Object>) r);
        return m;
    }

    public void write(Path dir) {
        StringBuilder csv = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (Map<String, Object> r : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : COLUMNS) {
                Object v = r.get(c);
                cells.add(v == null ? "" : v instanceof Double d ? String.format("%.6g", d) : String.valueOf(v));
            }
            csv.append(String.join(",", cells)).append('\n');
        }
        try {
            Files.createDirectories(dir);
            atomic(dir.resolve("metrics.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
            atomic(dir.resolve("metrics.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(rows));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void atomic(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
