package dev.spikerev.checkpoint;

/**
 * Resource bounds of the checkpoint reader. Every allocation driven by file content is checked
 * against one of these before it happens, so a hostile file ends in a
 * {@link CheckpointFormatException} instead of an OOM or a hang. The defaults are far above any real
 * state_dict (a 1000-layer model's {@code data.pkl} is a few MB).
 *
 * @param maxPickleBytes    largest {@code data.pkl}
 * @param maxZipEntries     most records in the zip
 * @param maxCentralDirectoryBytes largest zip central directory
 * @param maxDeflatedBytes  total uncompressed bytes of DEFLATED records (torch.save never compresses;
 *                          only re-zipped files have them, and they are where zip bombs live)
 * @param maxStack          most values on the unpickler stack
 * @param maxMemo           most memo entries
 * @param maxNesting        deepest nesting of containers in the loaded value
 * @param maxTupleNesting   deepest nesting of tuples (they can be dict keys, whose equality recurses)
 * @param maxTensors        most tensors in one file
 * @param maxDims           most dimensions of one tensor
 */
public record Limits(long maxPickleBytes, int maxZipEntries, long maxCentralDirectoryBytes, long maxDeflatedBytes,
                     int maxStack, int maxMemo, int maxNesting, int maxTupleNesting, int maxTensors, int maxDims) {

    public static final Limits DEFAULT = new Limits(
            64L << 20, 1_000_000, 256L << 20, 1L << 30,
            1 << 20, 1 << 22, 1000, 100, 1 << 20, 64);
}
