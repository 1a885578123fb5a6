package dev.spikerev.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "inspect", description = "TODO")
public final class InspectCommand implements Callable<Integer> {
    @Override
    public Integer call() { return ExitCodes.FAILED; }
}
