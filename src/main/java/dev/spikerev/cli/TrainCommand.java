package dev.spikerev.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code spikerev train}: placeholder until the training issue lands. */
@Command(name = "train", description = "Train a model (default: small T-RevSNN on MNIST).")
public final class TrainCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("train: not implemented yet (needs a model family and the MNIST loader; see the training issue)");
        return ExitCodes.FAILED;
    }
}
