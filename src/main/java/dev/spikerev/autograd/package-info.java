/**
 * Custom gradients from Java without custom autograd nodes: surrogate spikes ({@link dev.spikerev.autograd.Surrogate},
 * {@link dev.spikerev.autograd.SurrogateSpike}), straight-through estimators
 * ({@link dev.spikerev.autograd.StraightThrough}) and the reversible-block engine
 * ({@link dev.spikerev.autograd.ReversibleSequence}, {@link dev.spikerev.autograd.ReversibleBlock},
 * {@link dev.spikerev.autograd.AdditiveCoupling}).
 */
package dev.spikerev.autograd;
