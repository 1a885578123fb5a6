package dev.spikerev.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the real command line (all handlers wired) and captures its output. */
record CliRun(int rc, String out, String err) {
    static CliRun of(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int rc = SpikeRev.commandLine(new PrintWriter(o, true), new PrintWriter(e, true)).execute(args);
        return new CliRun(rc, o.toString(), e.toString());
    }
}
