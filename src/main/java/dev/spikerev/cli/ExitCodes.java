package dev.spikerev.cli;

/** Named process exit codes shared by every command. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The command ran but its check failed (e.g. parity mismatch). */
    public static final int FAILED = 1;
    /** Bad input: flag, config, checkpoint or dataset file. */
    public static final int INVALID_INPUT = 2;
    /** An unexpected internal error (a bug). */
    public static final int INTERNAL = 3;

    private ExitCodes() {}
}
