package dev.spikerev.cli;

import dev.spikerev.checkpoint.CheckpointInspector;
import dev.spikerev.checkpoint.TorchFile;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spikerev inspect FILE}: the nested structure of any torch.save file. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show the nested structure of a PyTorch checkpoint (torch.save file): keys, dtypes, shapes,",
                "and the number of tensors and parameters under every container, with totals.",
                "Python objects such as argparse.Namespace or yacs CfgNode are shown, never executed."})
public final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "A .pth/.pt file written by torch.save or spikerev.")
    Path file;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "3",
            description = "Levels of nesting to expand (default: ${DEFAULT-VALUE}; 1 = top-level keys only).")
    int depth;

    @Option(names = "--json", description = "Print JSON instead of the indented tree.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(file)) throw new UserError("no such file: " + file);
        if (depth < 0) throw new UserError("--depth must be >= 0, got " + depth);
        PrintWriter out = spec.commandLine().getOut();
        try (PointerScope scope = new PointerScope()) {
            Object value = TorchFile.load(file);
            if (json) {
                out.print(CheckpointInspector.json(value, depth));
            } else {
                out.println(file);
                out.print(CheckpointInspector.text(value, depth));
            }
        }
        out.flush();
        return ExitCodes.OK;
    }
}
