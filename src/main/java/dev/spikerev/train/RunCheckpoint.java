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
import dev.spikerev.models.revsnn.RevSNNCheckpoint;
import org.bytedeco.pytorch.Tensor;

/**
 * A training run's checkpoint, in the T-RevSNN reference layout ({@code model}, {@code optimizer}, {@code max_accuracy},
 * {@code epoch}, {@code state_dict_ema}, {@code config}) plus what spikerev needs to resume exactly mid-epoch:
 * {@code spikerev: {epoch, batch, global_step, metrics...}}. Written atomically by {@link TorchFile#save}; a file that
 * fails to load is skipped by {@code --resume auto}. The {@code revsnn} family writes its scripts' layouts instead
 * ({@link dev.spikerev.models.revsnn.RevSNNCheckpoint}, same file names); {@link #resume} and {@link #weights} read
 * both, including files written by the reference scripts themselves.
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
        if (!(o instanceof Map<?, ?> m) || !(m.containsKey("model") || m.containsKey("state_dict")))
            throw new CheckpointFormatException(file + ": not a training checkpoint (no 'model' or 'state_dict' key)");
        return (Map<Object, Object>) m;
    }

    /**
     * What a resume needs, from any supported layout.
     *
     * @param nextEpoch   the epoch to continue with when {@code spikerev} has no position (files from the references)
     * @param maxAccuracy best test top-1 so far (%)
     * @param acc5AtMax   top-5 at that best (%; 0 when the layout has none)
     * @param spikerev    spikerev's resume record (epoch, batch, global_step, history...) or null
     */
    public record Resume(Map<String, Tensor> model, Map<?, ?> optimizer, Map<String, Tensor> ema, double maxAccuracy,
                         double acc5AtMax, long nextEpoch, Map<?, ?> spikerev) {}

    /** Reads a training checkpoint for {@code --resume}: the T-RevSNN layout or a RevSNN script layout. */
    public static Resume resume(Path file) {
        Map<Object, Object> ck = load(file);
        if (RevSNNCheckpoint.isLayout(ck)) {
            RevSNNCheckpoint.Contents c = RevSNNCheckpoint.parse(ck, file.toString());
            return new Resume(c.stateDict(), c.optimizer(), c.ema(), c.maxTestAcc1(),
                    Double.isNaN(c.testAcc5AtMax()) ? 0 : c.testAcc5AtMax(), c.nextEpoch(), c.spikerev());
        }
        if (!ck.containsKey("model")) throw new CheckpointFormatException(file + ": not a training checkpoint (no 'model' key)");
        Map<String, Tensor> model = StateDicts.tensors(ck.get("model"), file + " model");
        Map<String, Tensor> ema = ck.get("state_dict_ema") == null ? null : StateDicts.tensors(ck.get("state_dict_ema"), file + " state_dict_ema");
        double max = ck.get("max_accuracy") instanceof Number n ? n.doubleValue() : 0;
        long epoch = ck.get("epoch") instanceof Number n ? n.longValue() : -1;
        return new Resume(model, ck.get("optimizer") instanceof Map<?, ?> o ? o : null, ema, max, 0, epoch + 1,
                ck.get("spikerev") instanceof Map<?, ?> r ? r : null);
    }

    /**
     * The weights to evaluate from a loaded file: a bare state_dict, or a training checkpoint's {@code model} /
     * {@code state_dict} (or {@code state_dict_ema} with {@code ema}); DataParallel's {@code module.} prefix is removed.
     */
    public static LinkedHashMap<String, Tensor> weights(Object loaded, boolean ema, String where) {
        Object sd = loaded;
        if (loaded instanceof Map<?, ?> m && (m.containsKey("model") || m.containsKey("state_dict"))) {
            sd = ema ? m.get("state_dict_ema") : m.containsKey("model") ? m.get("model") : m.get("state_dict");
            if (sd == null) throw new CheckpointFormatException(where + ": no " + (ema ? "state_dict_ema" : "model") + " weights in this checkpoint");
        } else if (ema) {
            throw new CheckpointFormatException(where + ": a bare state_dict has no EMA weights (state_dict_ema)");
        }
        LinkedHashMap<String, Tensor> raw = StateDicts.tensors(sd, where);
        if (raw.isEmpty() || !raw.keySet().stream().allMatch(k -> k.startsWith("module."))) return raw;
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        raw.forEach((k, v) -> out.put(k.substring("module.".length()), v));
        return out;
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
