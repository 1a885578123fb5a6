package dev.spikerev.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * N-MNIST from the original binary event files ({@code <root>/Train/<digit>/*.bin}, {@code <root>/Test/...}),
 * binned into {@code T} binary frames {@code [T, 2, 34, 34]} exactly as the MPIS-SNNs reference sees them.
 *
 * <p><b>File format</b> (Orchard et al.): 5 bytes per event, big-endian 40 bits: x (8), y (8), polarity (1),
 * timestamp in microseconds (23).
 *
 * <p><b>Pipeline</b>, reproducing the reference's preprocessed {@code 2312_3000_stable} text data (made by
 * {@code NMNIST_Converter.m} of jinyyy666/mm-bp-snn: {@code Read_Ndataset}, Orchard's {@code stabilize},
 * {@code ts_compressed = ceil(ts / 3000)}, one text line {@code channel t t ...} per channel) followed by MPIS-SNNs'
 * {@code loadNMNIST_Spiking.py} binning (spec mpis.md 11.2):
 * <ol>
 * <li>1-based {@code x+1, y+1}; saccade compensation: for {@code ts <= 105000}: {@code x -= 3.5 ts/105e3},
 *     {@code y -= 7 ts/105e3}; for {@code ts <= 210000}: {@code x -= 3.5 + 3.5 (ts-105e3)/105e3},
 *     {@code y += -7 + 7 (ts-105e3)/105e3}; later: {@code x += -7 + 7 (ts-210e3)/105e3}; round; drop events with
 *     {@code x < 1 | y < 1}, then with {@code x > 34 | y > 34}.</li>
 * <li>channel {@code (x-1)*34 + y}, plus 1156 when the polarity bit is 1; time {@code t = ceil(ts / window)},
 *     window 3000 us.</li>
 * <li>per channel, in event order: stop at the first {@code t >= T} (break, not skip), skip {@code t == 0}, else set
 *     {@code frame[t-1][c][row][col] = 1} with {@code c = polarity}, {@code row = x-1}, {@code col = y-1} (binary:
 *     duplicates collapse). So bin {@code T-1} is always empty and bin {@code k} holds
 *     {@code ts in (k*window, (k+1)*window]}.</li>
 * </ol>
 * Note the reference's spatial order: rows index x and columns index y (the transpose of the usual image layout).
 * The model then crops rows/cols 1..32 ({@link Transforms#crop(int, int, int, int)}). The reference's own text files
 * can be binned with {@link #binText(String, int)}.
 */
public final class NMnist implements Dataset {
    /** Sensor width/height. */
    public static final int SIZE = 34;
    /** Default time window of the reference preprocessing (microseconds per time step). */
    public static final int WINDOW_US = 3000;

    private final List<Path> files;
    private final int[] labels;
    private final int steps;
    private final int windowUs;
    private final boolean stabilize;

    private NMnist(List<Path> files, int[] labels, int steps, int windowUs, boolean stabilize) {
        if (steps < 1) throw new IllegalArgumentException("T must be >= 1, found " + steps);
        this.files = files;
        this.labels = labels;
        this.steps = steps;
        this.windowUs = windowUs;
        this.stabilize = stabilize;
    }

    /** {@code <root>/Train} or {@code <root>/Test}, {@code T} steps, 3000 us window, stabilised. */
    public static NMnist load(Path root, boolean train, int steps) throws IOException {
        return load(root, train, steps, WINDOW_US, true);
    }

    /** Like {@link #load(Path, boolean, int)} with an explicit window and stabilisation switch. */
    public static NMnist load(Path root, boolean train, int steps, int windowUs, boolean stabilize) throws IOException {
        Path dir = root.resolve(train ? "Train" : "Test");
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": not a directory (expected N-MNIST Train/Test)");
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int d = 0; d <= 9; d++) {
            Path cd = dir.resolve(Integer.toString(d));
            if (!Files.isDirectory(cd)) throw new IOException(cd + ": missing digit directory");
            try (Stream<Path> s = Files.list(cd)) {
                for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList()) {
                    files.add(f);
                    labels.add(d);
                }
            }
        }
        return new NMnist(files, labels.stream().mapToInt(Integer::intValue).toArray(), steps, windowUs, stabilize);
    }

    /** Explicit files and labels. */
    public static NMnist fromFiles(List<Path> files, int[] labels, int steps, int windowUs, boolean stabilize) {
        if (files.size() != labels.length) throw new IllegalArgumentException(files.size() + " files, "
                + labels.length + " labels");
        return new NMnist(List.copyOf(files), labels.clone(), steps, windowUs, stabilize);
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public Sample get(int i) {
        Path f = files.get(i);
        try {
            byte[] raw = Files.readAllBytes(f);
            return Sample.ofFloats(bin(channelTimes(decode(raw, f), windowUs, stabilize), steps), labels[i],
                    steps, 2, SIZE, SIZE);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    @Override
    public int numClasses() {
        return 10;
    }

    /** One raw event: 0-based {@code x, y}, polarity bit {@code p} (0/1), timestamp {@code ts} in microseconds. */
    public record Event(int x, int y, int p, int ts) {}

    /** Decodes a binary event file; {@code name} is used in errors. */
    public static List<Event> decode(byte[] raw, Path name) throws IOException {
        if (raw.length % 5 != 0) {
            throw new IOException(name + ": " + raw.length + " bytes is not a whole number of 5-byte N-MNIST events"
                    + " (truncated?)");
        }
        List<Event> ev = new ArrayList<>(raw.length / 5);
        for (int o = 0; o < raw.length; o += 5) {
            int b2 = raw[o + 2] & 0xff;
            int ts = ((b2 & 0x7f) << 16) | ((raw[o + 3] & 0xff) << 8) | (raw[o + 4] & 0xff);
            ev.add(new Event(raw[o] & 0xff, raw[o + 1] & 0xff, b2 >> 7, ts));
        }
        return ev;
    }

    /** Encodes events in the binary format (inverse of {@link #decode}). */
    public static byte[] encode(List<Event> events) {
        byte[] out = new byte[events.size() * 5];
        int o = 0;
        for (Event e : events) {
            if (e.ts < 0 || e.ts >= (1 << 23)) throw new IllegalArgumentException("timestamp " + e.ts + " needs > 23 bits");
            out[o] = (byte) e.x;
            out[o + 1] = (byte) e.y;
            out[o + 2] = (byte) ((e.p << 7) | (e.ts >>> 16));
            out[o + 3] = (byte) (e.ts >>> 8);
            out[o + 4] = (byte) e.ts;
            o += 5;
        }
        return out;
    }

    /**
     * Steps 1-2 of the pipeline: the reference converter's per-channel time lists, indexed by 0-based channel
     * {@code 0..2311} (each in event order; {@code null} for silent channels).
     */
    public static int[][] channelTimes(List<Event> events, int windowUs, boolean stabilize) {
        int[] count = new int[2 * SIZE * SIZE];
        int[] ch = new int[events.size()];
        int[] tc = new int[events.size()];
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            double x = e.x + 1, y = e.y + 1, ts = e.ts;
            if (stabilize) {
                if (ts <= 105e3) {
                    x = x - 3.5 * ts / 105e3;
                    y = y - 7 * ts / 105e3;
                } else if (ts <= 210e3) {
                    x = x - 3.5 - 3.5 * (ts - 105e3) / 105e3;
                    y = y - 7 + 7 * (ts - 105e3) / 105e3;
                } else {
                    x = x - 7 + 7 * (ts - 210e3) / 105e3;
                }
                x = Math.round(x); // equals MATLAB round (half away from zero) for x >= 0; x < 1 is dropped anyway
                y = Math.round(y);
            }
            ch[i] = -1;
            if (x < 1 || y < 1 || x > SIZE || y > SIZE) continue;
            int c = ((int) x - 1) * SIZE + (int) y - 1 + (e.p == 1 ? SIZE * SIZE : 0);
            ch[i] = c;
            tc[i] = (int) ((e.ts + (long) windowUs - 1) / windowUs);
            count[c]++;
        }
        int[][] out = new int[2 * SIZE * SIZE][];
        int[] fill = new int[out.length];
        for (int i = 0; i < events.size(); i++) {
            int c = ch[i];
            if (c < 0) continue;
            if (out[c] == null) out[c] = new int[count[c]];
            out[c][fill[c]++] = tc[i];
        }
        return out;
    }

    /** Step 3: MPIS binning of per-channel times into {@code [T, 2, 34, 34]} float frames. */
    public static float[] bin(int[][] channelTimes, int steps) {
        float[] f = new float[steps * 2 * SIZE * SIZE];
        for (int c = 0; c < channelTimes.length; c++) {
            if (channelTimes[c] != null) binLine(f, c, channelTimes[c], steps);
        }
        return f;
    }

    /** One reference text line: 0-based channel {@code c} with times {@code ts} (break at t >= T, skip t <= 0). */
    private static void binLine(float[] f, int c, int[] ts, int steps) {
        int plane = SIZE * SIZE;
        int pol = c >= plane ? 1 : 0;
        int p = c - pol * plane; // = row * 34 + col
        for (int t : ts) {
            if (t >= steps) break;
            if (t <= 0) continue;
            f[((t - 1) * 2 + pol) * plane + p] = 1f;
        }
    }

    /** Bins one reference text sample ({@code pos t1 t2 ...} per line, pos 1-based) into {@code [T, 2, 34, 34]}. */
    public static float[] binText(String text, int steps) {
        float[] f = new float[steps * 2 * SIZE * SIZE];
        for (String line : text.split("\n")) {
            String[] tok = line.trim().split("\\s+");
            if (tok.length == 0 || tok[0].isEmpty() || tok[0].equals("#")) continue;
            int pos = Integer.parseInt(tok[0]) - 1;
            if (pos < 0 || pos >= 2 * SIZE * SIZE) throw new IllegalArgumentException("channel " + (pos + 1)
                    + " outside 1.." + 2 * SIZE * SIZE);
            int[] ts = new int[tok.length - 1];
            for (int k = 1; k < tok.length; k++) ts[k - 1] = Integer.parseInt(tok[k]);
            binLine(f, pos, ts, steps);
        }
        return f;
    }

    /** The reference converter's text for per-channel times (tab-separated, like NMNIST_Converter.m). */
    public static String toText(int[][] channelTimes) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < channelTimes.length; c++) {
            if (channelTimes[c] == null) continue;
            sb.append(c + 1);
            for (int t : channelTimes[c]) sb.append('\t').append(t);
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Reads a reference text sample file. */
    public static float[] binTextFile(Path file, int steps) throws IOException {
        try {
            return binText(Files.readString(file, StandardCharsets.US_ASCII), steps);
        } catch (RuntimeException e) {
            throw new IOException(file + ": bad N-MNIST text sample (" + e.getMessage() + ")", e);
        }
    }
}
