package dev.spikerev.models.revsnn;

import java.nio.file.Path;

/** Where the RevSNN reference clone is for tests in other packages (null: absent, those tests skip). */
public final class RevSNNCheckpointTestAccess {
    private RevSNNCheckpointTestAccess() {}

    public static Path refDir() { return RevSNNCheckpointTest.refDir(); }
}
