package dev.spikerev.models.mpis;

/** How an {@link SNNConv}'s BatchNorm normalises in one call. */
enum BnMode {
    /** As the module's mode: training = batch statistics + running-stat update (momentum 0.1), eval = running stats. */
    MODULE,
    /** Running statistics, no update, whatever the module mode (the reference's {@code set_bn_mode_s('eval')}). */
    EVAL
}
