package dev.spikerev.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * PNG line charts (plain java.awt, headless) of {@code bench memory} rows: held MiB per image against the row axis
 * (subnets, depth or T), one line per variant, one panel per axis present. The y axis starts at 0 so that a flat
 * reversible / implicit line reads as flat next to a growing plain / BPTT one.
 */
public final class MemoryPlot {
    private MemoryPlot() {}

    private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189)};

    /** Writes the chart of {@code rows} to {@code file}; {@code title} goes on top. */
    public static void write(Path file, List<MemoryBench.Row> rows, String title) {
        if (rows.isEmpty()) throw new IllegalArgumentException("bench memory --plot: no rows to plot");
        System.setProperty("java.awt.headless", "true");
        Set<String> axes = new LinkedHashSet<>(), variants = new LinkedHashSet<>();
        for (MemoryBench.Row r : rows) {
            axes.add(r.axis());
            variants.add(r.variant());
        }
        int left = 80, right = 30, top = 50, pw = 560, ph = 300, gap = 70, legend = 24 * variants.size() + 10;
        int w = left + pw + right, h = top + axes.size() * (ph + gap) + legend;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 24);
        List<String> vs = new ArrayList<>(variants);
        int y0 = top;
        for (String axis : axes) {
            panel(g, left, y0, pw, ph, axis, rows.stream().filter(r -> r.axis().equals(axis)).toList(), vs);
            y0 += ph + gap;
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setStroke(new BasicStroke(2f));
        for (int i = 0; i < vs.size(); i++) {
            int ly = y0 - gap + 40 + 24 * i;
            g.setColor(COLORS[i % COLORS.length]);
            g.drawLine(left, ly, left + 30, ly);
            g.fillOval(left + 12, ly - 3, 6, 6);
            g.setColor(Color.BLACK);
            g.drawString(vs.get(i), left + 40, ly + 4);
        }
        g.dispose();
        dev.spikerev.train.Plots.writePng(img, file);
    }

    private static void panel(Graphics2D g, int x0, int y0, int pw, int ph, String axis, List<MemoryBench.Row> rows, List<String> vs) {
        double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY, minY = 0, maxY = 0;
        for (MemoryBench.Row r : rows) {
            minX = Math.min(minX, r.value());
            maxX = Math.max(maxX, r.value());
            minY = Math.min(minY, r.heldPerImage() / 1048576.0); // RSS deltas can read below 0 (noise)
            maxY = Math.max(maxY, r.heldPerImage() / 1048576.0);
        }
        if (!(maxX > minX)) { minX -= 1; maxX += 1; }
        maxY = maxY > 0 ? maxY * 1.08 : 1;
        minY *= 1.08;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.BLACK);
        g.drawString("held MiB per image vs " + axis, x0, y0 - 8);
        g.drawRect(x0, y0, pw, ph);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i <= 5; i++) {
            int y = y0 + ph - ph * i / 5;
            g.setColor(new Color(230, 230, 230));
            g.drawLine(x0 + 1, y, x0 + pw - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.3g", minY + (maxY - minY) * i / 5), 8, y + 4);
        }
        Set<Long> ticks = new java.util.TreeSet<>();
        for (MemoryBench.Row r : rows) ticks.add(r.value());
        double range = maxX - minX, lo = minY, span = maxY - minY;
        for (long t : ticks) {
            int x = x0 + (int) Math.round(pw * (t - minX) / range);
            g.drawLine(x, y0 + ph, x, y0 + ph + 4);
            g.drawString(Long.toString(t), x - 6, y0 + ph + 17);
        }
        g.drawString(axis, x0 + pw / 2 - 10, y0 + ph + 34);
        g.setStroke(new BasicStroke(2f));
        for (int v = 0; v < vs.size(); v++) {
            String variant = vs.get(v);
            List<MemoryBench.Row> line = rows.stream().filter(r -> r.variant().equals(variant))
                    .sorted(java.util.Comparator.comparingLong(MemoryBench.Row::value)).toList();
            g.setColor(COLORS[v % COLORS.length]);
            int px = -1, py = -1;
            for (MemoryBench.Row r : line) {
                int x = x0 + (int) Math.round(pw * (r.value() - minX) / range);
                int y = y0 + ph - (int) Math.round(ph * (r.heldPerImage() / 1048576.0 - lo) / span);
                g.fillOval(x - 3, y - 3, 6, 6);
                if (px >= 0) g.drawLine(px, py, x, y);
                px = x;
                py = y;
            }
        }
        g.setStroke(new BasicStroke(1f));
    }
}
