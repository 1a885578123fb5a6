/**
 * BN-free reference models: {@link dev.spikerev.models.baseline.SpikingCNN} (family {@code baseline}), a small
 * spiking CNN whose training maths does not depend on how a batch is split, so data-parallel runs can be checked
 * against single-process runs exactly (BatchNorm statistics would differ per shard).
 */
package dev.spikerev.models.baseline;
