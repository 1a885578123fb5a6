package dev.spikerev.cli;

import dev.spikerev.checkpoint.CheckpointFormatException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Root command: {@code spikerev <command> ...}. */
@Command(name = "spikerev", mixinStandardHelpOptions = true, version = "spikerev 0.1.0",
        description = "Memory-efficient spiking neural networks (T-RevSNN, RevSNN, MPIS-SNNs) on libtorch.",
        subcommands = {InspectCommand.class, ConvertCommand.class, ParityCommand.class, BenchCommand.class, TrainCommand.class, EvalCommand.class, EnergyCommand.class,
                CommandLine.HelpCommand.class})
public final class SpikeRev implements Callable<Integer> {

    @CommandLine.Option(names = "--stacktrace", scope = CommandLine.ScopeType.INHERIT,
            description = "Print the full stack trace of an error.")
    boolean stacktrace;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return ExitCodes.OK;
    }

    /** Builds the fully wired command line; tests call this with their own writers. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new SpikeRev());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean trace = parsed.matchedOption("--stacktrace") != null
                    || parsed.subcommands().stream().anyMatch(p -> p.matchedOption("--stacktrace") != null);
            for (CommandLine.ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null)
                if (p.matchedOption("--stacktrace") != null) trace = true;
            PrintWriter e = cmd.getErr();
            if (ex instanceof java.io.UncheckedIOException u && u.getCause() != null) ex = u.getCause(); // a data or checkpoint file
            boolean user = ex instanceof UserError || ex instanceof CheckpointFormatException
                    || ex instanceof IllegalArgumentException || ex instanceof java.io.IOException;
            e.println("error: " + oneLine(ex));
            if (trace) ex.printStackTrace(e);
            e.flush();
            return user ? ExitCodes.INVALID_INPUT : ExitCodes.INTERNAL;
        });
        cl.setExitCodeExceptionMapper(t -> ExitCodes.INVALID_INPUT);
        return cl;
    }

    /** The first line of a message; native (c10) messages carry a C++ backtrace after the first line. */
    static String oneLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) m = t.getClass().getSimpleName();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    public static void main(String[] args) {
        dev.spikerev.tensor.Natives.configureAllocator(); // before any JavaCPP class loads
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int rc = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(rc);
    }
}
