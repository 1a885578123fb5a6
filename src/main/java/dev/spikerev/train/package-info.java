/**
 * Optimization pieces of the training loop, matching PyTorch / timm numerics and state_dict layouts.
 *
 * <ul>
 *   <li>{@link dev.spikerev.train.Optimizer} with {@link dev.spikerev.train.ParamGroup}s: hand-written tensor updates
 *       under a {@code NoGradGuard}; implementations {@link dev.spikerev.train.Lamb} (timm),
 *       {@link dev.spikerev.train.Adam}/{@link dev.spikerev.train.AdamW} and {@link dev.spikerev.train.SGD} (torch.optim).
 *       {@code stateDict()} / {@code loadStateDict()} speak Python's {@code optimizer.state_dict()} layout as plain Java maps.</li>
 *   <li>{@link dev.spikerev.train.ParamGroups}: weight-decay grouping rules of timm and of the references.</li>
 *   <li>{@link dev.spikerev.train.LrSchedule}: pure functions from step/epoch to learning rate.</li>
 *   <li>{@link dev.spikerev.train.ModelEma}: timm ModelEma over {@code Map<String, Tensor>} state views.</li>
 *   <li>{@link dev.spikerev.train.Losses} and {@link dev.spikerev.train.GradClip}.</li>
 * </ul>
 *
 * <p>Native memory: every {@code step()} runs inside its own {@code PointerScope}; persistent state tensors are
 * {@code retainReference()}d and released by {@code close()}.
 */
package dev.spikerev.train;
