package dev.spikerev.train;

import dev.spikerev.checkpoint.CheckpointFormatException;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;

/**
 * A training run's checkpoint, in the T-RevSNN reference layout ({@code model}, {@code optimizer}, {@code max_accuracy},
 * {@code epoch}, {@code state_dict_ema}, {@code config}) plus what spikerev needs to resume exactly mid-epoch:
 * {@code spikerev: {epoch, batch, global_step, metrics...}}. Written atomically by {@link TorchFile#save}; a file that
 * fails to load is skipped by {@code --resume auto}.
 * <ul>
 *   <li>{@code last.pth}: newest state, written every {@code checkpoint_every_steps} and at every epoch end;</li>
 *   <li>{@code ckpt_epoch_E.pth}: at the end of epoch E (the reference's name);</li>
 *   <li>{@code best.pth}: the epoch end with the best test accuracy so far.</li>
 * </ul>
 */
public final class RunCheckpoint {
    private RunCheckpoint() {}

    private static final Pattern EPOCH_FILE = Pattern.compile("ckpt_epoch_(\\d+)\\.pth");

    /** Writes a checkpoint atomically. */
    public static void save(Path file, Map<String, Tensor> model, Map<Object, Object> optimizer, Map<String, Tensor> ema,
                            double maxAccuracy, int epoch, Map<String, Object> config, Map<String, Object> resume) {
        LinkedHashMap<Object, Object> ck = new LinkedHashMap<>();
        ck.put("model", StateDicts.ordered(model));
        ck.put("optimizer", optimizer);
        ck.put("max_accuracy", maxAccuracy);
        ck.put("epoch", (long) epoch);
        // without EMA the key is left out, not None: the reference's load_checkpoint would load_state_dict(None)
        if (ema != null) ck.put("state_dict_ema", StateDicts.ordered(ema));
        ck.put("config", config);
        ck.put("spikerev", resume);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TorchFile.save(file, ck);
    }

    /** Loads and checks the layout; throws {@link CheckpointFormatException} naming the file when it is not one of ours. */
    @SuppressWarnings("unchecked")
    public static Map<Object, Object> load(Path file) {
        Object o = TorchFile.load(file);
        if (!(o instanceof Map<?, ?> m) || !m.containsKey("model"))
            throw new CheckpointFormatException(file + ": not a training checkpoint (no 'model' key)");
        return (Map<Object, Object>) m;
    }

    /** Candidates for {@code --resume auto}, newest first: last.pth, then ckpt_epoch_E.pth by E descending. */
    public static List<Path> candidates(Path dir) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        if (Files.isRegularFile(dir.resolve("last.pth"))) out.add(dir.resolve("last.pth"));
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> EPOCH_FILE.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparingInt((Path p) -> epochOf(p)).reversed())
                    .forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static int epochOf(Path p) {
        Matcher m = EPOCH_FILE.matcher(p.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }
}
