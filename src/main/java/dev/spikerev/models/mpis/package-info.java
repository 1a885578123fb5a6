/**
 * MPIS-SNNs (Cao et al., ECCV 2024; reference kiritozc/MPIS-SNNs, spec {@code shared/spec/mpis.md}).
 *
 * <p>Build: {@code new MPISNet(MpisConfig.cifar(10))}, {@code MpisConfig.nmnist()}, or
 * {@code MpisConfig.fromConstructor(meta.constructor, switches)}; {@link dev.spikerev.models.mpis.MpisFamily} ("mpis")
 * for the parity harness / trainer ({@link dev.spikerev.models.mpis.MpisModel}). Port switches
 * ({@link dev.spikerev.models.mpis.MpisConfig.Options}, snake_case in YAML/meta {@code mpis_options}):
 * {@code gradient: one-step | implicit}, {@code readout: first-step | weighted-rate},
 * {@code unit_leak: reject | count}, {@code simulate_all_steps}, {@code strict_reference}, {@code broyden_eps},
 * {@code broyden_rtol}. Defaults reproduce the reference.
 *
 * <p>State dicts: {@link dev.spikerev.nn.StateDictIO} (PyTorch order, aliases listed under every path);
 * {@link dev.spikerev.models.mpis.MPISNet#namedParameters()} / {@code uniqueParameters()} give live handles (grads,
 * optimizer order). Optimizer: {@link dev.spikerev.train.SGD} via {@link dev.spikerev.models.mpis.MpisModel#sgd}.
 */
package dev.spikerev.models.mpis;
