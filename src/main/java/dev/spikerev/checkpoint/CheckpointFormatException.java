package dev.spikerev.checkpoint;

/** A checkpoint file that is damaged, hostile or not in a format spikerev reads. The message names the fault. */
public class CheckpointFormatException extends RuntimeException {
    public CheckpointFormatException(String message) { super(message); }
    public CheckpointFormatException(String message, Throwable cause) { super(message, cause); }
}
