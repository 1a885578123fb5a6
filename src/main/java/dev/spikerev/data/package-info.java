/**
 * Datasets, transforms and the batching {@link dev.spikerev.data.DataLoader}.
 *
 * <p>Datasets read the real on-disk formats (IDX for MNIST/Fashion-MNIST, CIFAR-10/100 binary batches, image folders,
 * N-MNIST binary event files) and return plain Java arrays ({@link dev.spikerev.data.Sample}); tensors are only made
 * by {@link dev.spikerev.data.Batch} on the consumer thread, so they attach to the caller's
 * {@link org.bytedeco.javacpp.PointerScope}. Shape legend: images {@code [C, H, W]}, event frames
 * {@code [T, C, H, W]}, batches {@code [B, C, H, W]} or {@code [B, T, C, H, W]}.
 */
package dev.spikerev.data;
