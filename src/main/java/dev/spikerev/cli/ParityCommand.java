package dev.spikerev.cli;

import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import dev.spikerev.train.Parity;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code spikerev parity --fixture DIR}: numerical parity against a golden fixture of a Python reference. */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = {"Compare a model family against a golden fixture directory (meta.json, model.pth, io.pt, checkpoint.pth).",
                "Prints one line per compared group and 'parity: P/N passed'; exit 0 only when all pass."})
public final class ParityCommand implements Callable<Integer> {
    @Option(names = "--fixture", required = true, paramLabel = "DIR", description = "Fixture directory.")
    Path fixture;

    @Option(names = "--write-checkpoint", paramLabel = "OUT",
            description = "Write the model's state_dict after the fixture's optimizer steps (Python-loadable).")
    Path writeCheckpoint;

    @Option(names = "--threads", defaultValue = "2", description = "libtorch threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--device", paramLabel = "cpu|cuda:N", defaultValue = "cpu",
            description = "Run the model on this device (cpu, cuda = cuda:0, cuda:N; default: ${DEFAULT-VALUE}); comparisons read back to the CPU.")
    String device;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        Devices.Spec dev = Devices.require(device, "--device");
        if (!Files.isDirectory(fixture)) throw new UserError("--fixture: not a directory: " + fixture);
        Natives.setThreads(threads);
        if (dev.isCuda()) Devices.strictFloat32(); // the fixtures are float32: no TF32 convolutions/matmuls
        PrintWriter out = spec.commandLine().getOut();
        List<Parity.Line> lines = Parity.run(fixture, out, writeCheckpoint, dev.isCuda() ? dev.device() : null);
        return !lines.isEmpty() && lines.stream().allMatch(Parity.Line::pass) ? ExitCodes.OK : ExitCodes.FAILED;
    }
}
