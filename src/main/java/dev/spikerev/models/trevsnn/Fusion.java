package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * Input of level k of a column: {@code down(c_down)} from the level below in the same column, plus (not in the
 * first column, not at level 3) {@code up(c_up)} from the level above in the previous column.
 * <pre>
 * level | down                               | up (not first column)
 * 0     | identity                           | UpSampling(ch1 -&gt; ch0)
 * 1     | DownSampling(ch0 -&gt; ch1, k3 s2 p1)  | UpSampling(ch2 -&gt; ch1)
 * 2     | DownSampling(ch1 -&gt; ch2, k3 s2 p1)  | DownSampling(ch3 -&gt; ch2, k1 s1 p0)
 * 3     | DownSampling(ch2 -&gt; ch3, k1 s1 p0)  | none
 * </pre>
 */
public class Fusion extends SpikeModule {
    final int level;
    final boolean firstCol;
    final DownSampling down; // null = identity
    final DownSampling up;   // null when absent

    public Fusion(int level, long[] ch, boolean firstCol) {
        super();
        this.level = level;
        this.firstCol = firstCol;
        switch (level) {
            case 0: down = null; break;
            case 1: case 2: down = register_module("down", new DownSampling(ch[level - 1], ch[level], 3, 2, 1)); break;
            default: down = register_module("down", new DownSampling(ch[2], ch[3], 1, 1, 0));
        }
        if (!firstCol && level != 3) {
            up = level == 2
                    ? register_module("up", new DownSampling(ch[3], ch[2], 1, 1, 0))
                    : register_module("up", new UpSampling(ch[level + 1], ch[level]));
        } else {
            up = null;
        }
    }

    public Tensor forward(Tensor cDown, Tensor cUp) {
        Tensor d = down == null ? cDown : down.forward(cDown);
        if (firstCol || level == 3) return d;
        Tensor u = up.forward(cUp);
        Tensor out = u.add(d);
        u.close();
        if (d != cDown) d.close();
        return out;
    }
}
