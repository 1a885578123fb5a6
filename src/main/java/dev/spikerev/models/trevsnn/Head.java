package dev.spikerev.models.trevsnn;

import org.bytedeco.pytorch.Tensor;

/** A classifier head reading a column's top-level state {@code c3 [B, ch3, h, w]} and giving logits {@code [B, nc]}. */
public interface Head {
    Tensor forward(Tensor c3);
}
