/**
 * MPIS-SNNs (Cao et al., ECCV 2024; reference kiritozc/MPIS-SNNs, spec {@code shared/spec/mpis.md}).
 *
 * <p>Build: {@code new MPISNet(MpisConfig.cifar(10))}, {@code MpisConfig.nmnist()}, or
 * {@code MpisConfig.fromConstructor(meta.constructor, switches)}; {@link dev.spikerev.models.mpis.MpisFamily} ("mpis")
 * for the parity harness / trainer ({@link dev.spikerev.models.mpis.MpisModel}). Port switches
 * ({@link dev.spikerev.models.mpis.MpisConfig.Options}, snake_case in YAML/meta {@code mpis_options}):
 * {@code gradient: one-step | implicit}, {@code readout: first-step | weighted-rate},
 * {@code unit_leak: reject | count}, {@code simulate_all_steps}, {@code strict_reference}, {@code broyden_eps},
 * {@code broyden_rtol}. Defaults reproduce the reference's numbers; {@code simulate_all_steps: false} (default) skips the
 * simulation steps 1..T−1 that the reference runs but its first-step read-out never reads (identical outputs, T-fold
 * less simulation; {@code true} does the reference's work, e.g. for like-for-like timing).
 *
 * <p>State dicts: {@link dev.spikerev.nn.StateDictIO} (PyTorch order, aliases listed under every path);
 * {@link dev.spikerev.models.mpis.MPISNet#namedParameters()} / {@code uniqueParameters()} give live handles (grads,
 * optimizer order). Optimizer: {@link dev.spikerev.train.SGD} via {@link dev.spikerev.models.mpis.MpisModel#sgd}.
 * Training checkpoints in the scripts' layout ({@code epoch}, {@code module.}-prefixed {@code state_dict}, {@code acc},
 * {@code best_acc}, {@code optimizer}): {@link dev.spikerev.models.mpis.MpisCheckpoint}; Python-side checks:
 * {@code tools/check_keys.py}, {@code tools/check_checkpoint_mpis.py} (reference strict load, the scripts' resume code).
 *
 * <p>Parity: {@code spikerev parity --fixture .../mpis/<case>} adds the family groups {@code equilibrium},
 * {@code state_after_one_train_forward}, {@code grads_implicit} (an implicit-mode copy of the model) and
 * {@code grads_implicit.stem_fixture_bug} (asserts the fixture harness's one-step stem gradients, see
 * {@link dev.spikerev.models.mpis.MpisModel#extraGroups}).
 *
 * <p>Memory: {@code spikerev bench memory --family mpis --model cifar-small --T 4,8,16,32} measures the bytes per image a
 * training step holds for backward, for both gradient modes (flat in T: the simulation runs without a graph) and for a
 * BPTT-unrolled copy of the same network ({@link dev.spikerev.models.mpis.MPISNet#forwardBptt}, growing linearly in T),
 * each row in a fresh JVM ({@link dev.spikerev.bench.MemoryBench#mpis}).
 */
package dev.spikerev.models.mpis;
