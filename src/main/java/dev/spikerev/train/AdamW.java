package dev.spikerev.train;

import java.util.List;
import java.util.Map;

/**
 * {@code torch.optim.AdamW}: {@link Adam} with decoupled weight decay ({@code p *= 1 - lr*wd} before the moment
 * updates); defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2, amsgrad False. Its state dict
 * carries {@code decoupled_weight_decay: True} like torch 2.13's.
 */
public final class AdamW extends Adam {
    public AdamW(List<ParamGroup> groups, Map<String, ?> options) {
        super(groups, defaultOptions(true), options);
    }
}
