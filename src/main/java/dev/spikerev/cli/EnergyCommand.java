package dev.spikerev.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spikerev.bench.Energy;
import dev.spikerev.bench.EnergyPlot;
import dev.spikerev.data.Batch;
import dev.spikerev.data.DataLoader;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.tensor.Natives;
import dev.spikerev.train.ConfigLoader;
import dev.spikerev.train.DataSources;
import dev.spikerev.train.TrainConfig;
import dev.spikerev.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code spikerev energy --config FILE --checkpoint PATH [--data DIR]}: per-layer firing rates, MACs, synaptic
 * operations and energy (45 nm: E_MAC 4.6 pJ, E_AC 0.9 pJ) of a trained model on real test images; table, JSON and a
 * PNG bar chart.
 */
@Command(name = "energy", mixinStandardHelpOptions = true,
        description = {"Per-layer input firing rates, MACs and synaptic operations (SOPs) of a model on real test data, and",
                "its energy per image with the standard 45 nm figures (E_MAC 4.6 pJ for layers fed by real values, e.g.",
                "the encoding layer; E_AC 0.9 pJ per SOP for layers fed by spikes). Table + --json + PNG bar chart."})
public final class EnergyCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML config of the model and dataset (default: " + TrainCommand.DEFAULT_CONFIG + ").")
    Path config;
    @Option(names = "--checkpoint", required = true, paramLabel = "PATH", description = "Training checkpoint or plain state_dict.")
    Path checkpoint;
    @Option(names = "--ema", description = "Use the EMA weights (state_dict_ema).")
    boolean ema;
    @Option(names = "--data", paramLabel = "DIR", description = "Dataset folder (overrides data.root).")
    Path data;
    @Option(names = "--images", defaultValue = "1000", description = "Test images to run (0 = the whole test set; default: ${DEFAULT-VALUE}).")
    int images;
    @Option(names = "--e-mac", defaultValue = "4.6", paramLabel = "PJ", description = "Energy per MAC in pJ (default: ${DEFAULT-VALUE}).")
    double eMac;
    @Option(names = "--e-ac", defaultValue = "0.9", paramLabel = "PJ", description = "Energy per accumulate (SOP) in pJ (default: ${DEFAULT-VALUE}).")
    double eAc;
    @Option(names = "--json", paramLabel = "FILE", description = "Write the report as JSON.")
    Path json;
    @Option(names = "--plot", paramLabel = "FILE", description = "PNG bar chart (default: energy.png next to the checkpoint).")
    Path plot;
    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        if (images < 0) throw new UserError("--images must be >= 0, found " + images);
        if (!(eMac >= 0) || !(eAc >= 0)) throw new UserError("--e-mac and --e-ac must be >= 0 pJ");
        List<String> sets = new ArrayList<>(overrides);
        if (data != null) sets.add("data.root=" + data);
        if (data != null) sets.add("data.download=false");
        TrainConfig cfg = ConfigLoader.load(config != null ? config : Path.of(TrainCommand.DEFAULT_CONFIG), sets);
        if (!Files.isRegularFile(checkpoint)) throw new UserError("--checkpoint: file not found: " + checkpoint);
        Natives.setThreads(cfg.train.threads);
        PrintStream out = System.out;
        FamilyModel model = new Trainer(cfg, out, false).buildModel();
        EvalCommand.loadWeights(model, checkpoint, ema);
        DataSources ds = DataSources.of(cfg.data, model.timeSteps());
        DataLoader test = DataLoader.builder(ds.test).batchSize(cfg.data.evalBatchSize).shuffle(false)
                .workers(cfg.data.workers).transform(ds.testTransform).build();
        long limit = images == 0 ? Long.MAX_VALUE : images;
        long correct = 0;
        model.module().train(false);
        Map<String, Object> report;
        List<Energy.Layer> layers;
        try (Energy meter = new Energy(model.module(), eMac, eAc)) {
            try (DataLoader.Epoch it = test.epoch(0)) {
            while (it.hasNext() && meter.images() < limit) {
                try (PointerScope scope = new PointerScope(); Batch b = it.next(); NoGradGuard ng = new NoGradGuard()) {
                    Tensor x = b.input(), y = b.target();
                    long n = x.size(0);
                    if (meter.images() + n > limit) {
                        n = limit - meter.images();
                        x = x.narrow(0, 0, n);
                        y = y.narrow(0, 0, n);
                    }
                    Tensor logits = model.predict(x);
                    meter.addImages(n);
                    correct += logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false).eq(y).sum().item_long();
                }
            }
            }
            if (meter.images() == 0) throw new UserError("the test set of " + cfg.data.dataset + " is empty");
            out.print(meter.table());
            out.printf("top-1 accuracy on these %d images: %.2f%%%n", meter.images(), 100.0 * correct / meter.images());
            report = meter.report();
            report.put("accuracy", 100.0 * correct / meter.images());
            report.put("family", cfg.family);
            report.put("dataset", cfg.data.dataset);
            report.put("checkpoint", checkpoint.toString());
            layers = meter.layers();
            Path png = plot != null ? plot : siblingOf(checkpoint, "energy.png");
            EnergyPlot.write(png, layers, eMac, eAc, meter.images(), String.format("%s on %s: %.4g mJ per image (%d images)",
                    cfg.family, cfg.data.dataset, meter.totalMjPerImage(), meter.images()));
            out.println("plot: " + png);
        }
        if (json != null) {
            Path parent = json.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), report);
            out.println("wrote " + json);
        }
        return ExitCodes.OK;
    }

    private static Path siblingOf(Path file, String name) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of(name) : parent.resolve(name);
    }
}
