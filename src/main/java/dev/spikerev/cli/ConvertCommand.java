package dev.spikerev.cli;

import dev.spikerev.checkpoint.CheckpointFormatException;
import dev.spikerev.checkpoint.Checkpoints;
import dev.spikerev.checkpoint.PyOrderedDict;
import dev.spikerev.checkpoint.StateDicts;
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

/** {@code spikerev convert IN OUT}: extract a plain state_dict from a training checkpoint. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Extract the model state_dict from a training checkpoint and write it as a plain",
                "collections.OrderedDict file that torch.load(..., weights_only=True) and spikerev load.",
                "Without --key the first of model, state_dict, model_state_dict, net is used",
                "(or the file itself if it already is a state_dict)."})
public final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "Training checkpoint (torch.save file).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "State_dict file to write (replaced atomically).")
    Path out;

    @Option(names = "--key", paramLabel = "KEY",
            description = "Top-level key holding the weights, e.g. model, state_dict, state_dict_ema.")
    String key;

    @Option(names = "--strip-prefix", paramLabel = "PREFIX",
            description = "Remove this prefix from every key that has it, e.g. 'module.' (DataParallel).")
    String stripPrefix;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(in)) throw new UserError("no such file: " + in);
        PrintWriter o = spec.commandLine().getOut();
        try (PointerScope scope = new PointerScope()) {
            Object checkpoint = TorchFile.load(in);
            String used = key != null ? key : Checkpoints.defaultModelKey(checkpoint);
            PyOrderedDict sd;
            try {
                sd = Checkpoints.extractStateDict(checkpoint, key, stripPrefix);
            } catch (CheckpointFormatException e) {
                throw new UserError(in + ": " + e.getMessage(), e);
            }
            if (stripPrefix == null && !sd.isEmpty()
                    && sd.keySet().stream().allMatch(k -> k instanceof String s && s.startsWith("module.")))
                spec.commandLine().getErr().println("note: every key starts with 'module.' (DataParallel); "
                        + "add --strip-prefix module. to remove it");
            TorchFile.save(out, sd);
            var tensors = StateDicts.tensors(sd);
            o.printf("wrote %s: %d tensors, %,d parameters (from %s of %s)%n", out, tensors.size(),
                    StateDicts.parameterCount(tensors), used == null ? "the whole file" : "key '" + used + "'", in);
        }
        o.flush();
        return ExitCodes.OK;
    }

}
