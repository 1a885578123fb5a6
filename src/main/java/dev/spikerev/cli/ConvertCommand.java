package dev.spikerev.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "convert", description = "TODO")
public final class ConvertCommand implements Callable<Integer> {
    @Override
    public Integer call() { return ExitCodes.FAILED; }
}
