package dev.spikerev.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * DVS events and their integration into frames, as SpikingJelly does it for {@code data_type='frame'}
 * ({@code spikingjelly.datasets.utils.integrate_events_by_fixed_frames_number}), plus the raw CIFAR10-DVS reader.
 *
 * <p><b>Integration</b> into {@code T} frames {@code [T, 2, H, W]} of event counts: split {@code number} gives frame
 * {@code i} the events {@code [i*(N/T), (i+1)*(N/T))} (integer division) and the last frame everything from
 * {@code (T-1)*(N/T)} to {@code N}; split {@code time} cuts {@code [t0, t_last]} into {@code T} spans of
 * {@code dt = (t_last - t0) / T} and gives frame {@code i} the index range from the first to the last event whose
 * timestamp is in {@code [t0 + i dt, t0 + (i+1) dt)}, the last frame again reaching {@code N}. Channel 1 holds events of
 * polarity {@code p != 0}, channel 0 the rest; pixel {@code [y][x]}.
 *
 * <p>Where SpikingJelly fails or silently folds bad data (an event outside the sensor wraps into the neighbouring row
 * in its {@code bincount}), spikerev stops with an error naming the file.
 */
public final class EventFrames {
    private EventFrames() {}

    /** Events in file order: timestamps (us), coordinates, polarity. */
    public record Events(long[] t, int[] x, int[] y, int[] p) {
        public Events {
            if (x.length != t.length || y.length != t.length || p.length != t.length)
                throw new IllegalArgumentException("event fields differ in length: t " + t.length + ", x " + x.length
                        + ", y " + y.length + ", p " + p.length);
        }

        public int size() { return t.length; }
    }

    /** SpikingJelly's {@code events_np} file: an {@code .npz} with 1-d arrays {@code t, x, y, p}. */
    public static Events readNpz(Path file) throws IOException {
        var all = Npy.readNpz(file);
        for (String k : new String[]{"t", "x", "y", "p"})
            if (!all.containsKey(k)) throw new IOException(file + ": not an events file: no '" + k + "' array (found " + all.keySet() + ")");
        long[] t = all.get("t").toLongs();
        int[] x = ints(all.get("x"), file, "x"), y = ints(all.get("y"), file, "y"), p = ints(all.get("p"), file, "p");
        if (x.length != t.length || y.length != t.length || p.length != t.length)
            throw new IOException(file + ": arrays t, x, y, p differ in length (" + t.length + ", " + x.length + ", "
                    + y.length + ", " + p.length + ")");
        return new Events(t, x, y, p);
    }

    private static int[] ints(Npy.Array a, Path file, String key) throws IOException {
        long[] v = a.toLongs();
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] < Integer.MIN_VALUE || v[i] > Integer.MAX_VALUE) throw new IOException(file + ": " + key + "[" + i + "] = " + v[i] + " out of range");
            out[i] = (int) v[i];
        }
        return out;
    }

    /**
     * A CIFAR10-DVS {@code .aedat} file (AEDAT 2.0: {@code #} header lines, then big-endian 32-bit address/timestamp
     * pairs), decoded as SpikingJelly's {@code cifar10_dvs} does: {@code x_raw = (addr & 0xFE) >> 1},
     * {@code y_raw = (addr & 0x7F00) >> 8}, {@code p_raw = addr & 1}; events {@code x = 127 - y_raw},
     * {@code y = 127 - x_raw}, {@code p = 1 - p_raw}.
     */
    public static Events readCifar10DvsAedat(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int pos = 0;
        while (pos < b.length && b[pos] == '#') { // header lines: '#' ... '\n'
            int nl = pos;
            while (nl < b.length && b[nl] != '\n') nl++;
            pos = nl + 1;
        }
        int bytes = Math.max(0, b.length - pos);
        if (bytes % 8 != 0)
            throw new IOException(file + ": malformed AEDAT 2.0 event stream (" + bytes + " bytes after the header, not a multiple of 8)");
        int n = bytes / 8;
        ByteBuffer bb = ByteBuffer.wrap(b, pos, bytes).slice().order(ByteOrder.BIG_ENDIAN);
        long[] t = new long[n];
        int[] x = new int[n], y = new int[n], p = new int[n];
        for (int i = 0; i < n; i++) {
            int addr = bb.getInt(8 * i);
            t[i] = bb.getInt(8 * i + 4) & 0xffffffffL;
            int xr = (addr & 0xFE) >>> 1, yr = (addr & 0x7F00) >>> 8;
            x[i] = 127 - yr;
            y[i] = 127 - xr;
            p[i] = 1 - (addr & 1);
        }
        return new Events(t, x, y, p);
    }

    /** How the events are cut into frames: SpikingJelly's {@code split_by}. */
    public enum SplitBy {
        NUMBER, TIME;

        public static SplitBy parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "number" -> NUMBER;
                case "time" -> TIME;
                default -> throw new IllegalArgumentException("split_by must be 'number' or 'time', found '" + s + "'");
            };
        }

        public String key() { return name().toLowerCase(Locale.ROOT); }
    }

    /** {@code [T, 2, H, W]} event-count frames (C order); {@code source} names the events in error messages. */
    public static float[] integrate(Events e, int frames, SplitBy split, int h, int w, String source) {
        if (frames < 1) throw new IllegalArgumentException("frames must be >= 1, found " + frames);
        int n = e.size();
        int[] jl = new int[frames], jr = new int[frames];
        if (split == SplitBy.NUMBER) {
            int di = n / frames;
            for (int i = 0; i < frames; i++) { jl[i] = i * di; jr[i] = jl[i] + di; }
        } else {
            if (n == 0) throw new IllegalArgumentException(source + ": no events to split by time");
            long t0 = e.t()[0], dt = (e.t()[n - 1] - t0) / frames;
            for (int i = 0; i < frames; i++) {
                long tl = dt * i + t0, tr = tl + dt;
                int first = -1, last = -1;
                for (int j = 0; j < n; j++) {
                    long tj = e.t()[j];
                    if (tj >= tl && tj < tr) { if (first < 0) first = j; last = j; }
                }
                if (first < 0)
                    throw new IllegalArgumentException(source + ": split_by time leaves frame " + i + " of " + frames
                            + " without events (timestamps [" + tl + ", " + tr + ")); SpikingJelly fails on this file too");
                jl[i] = first;
                jr[i] = last + 1;
            }
        }
        jr[frames - 1] = n;
        int plane = h * w;
        float[] out = new float[frames * 2 * plane];
        for (int i = 0; i < frames; i++) {
            int base = i * 2 * plane;
            for (int j = jl[i]; j < jr[i]; j++) {
                int x = e.x()[j], y = e.y()[j];
                if (x < 0 || x >= w || y < 0 || y >= h)
                    throw new IllegalArgumentException(source + ": event " + j + " at (x " + x + ", y " + y + ") is outside the "
                            + w + "x" + h + " sensor");
                out[base + (e.p()[j] != 0 ? plane : 0) + y * w + x] += 1f;
            }
        }
        return out;
    }
}
