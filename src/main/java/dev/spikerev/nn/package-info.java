/**
 * Module base classes and PyTorch-compatible state_dict handling ({@link dev.spikerev.nn.StateDictIO},
 * {@link dev.spikerev.nn.SpikeModule}, {@link dev.spikerev.nn.SpikeList}).
 */
package dev.spikerev.nn;
