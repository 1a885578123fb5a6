package dev.spikerev.bench;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/** PNG bar charts (plain java.awt, headless) of the firing rate and the energy of every layer. */
public final class EnergyPlot {
    private EnergyPlot() {}

    public static void write(Path file, List<Energy.Layer> layers, double eMac, double eAc, long images, String title) {
        System.setProperty("java.awt.headless", "true");
        int n = Math.max(1, layers.size());
        int left = 80, right = 30, top = 50, panel = 220, gap = 60, labels = 200;
        int bar = Math.max(6, Math.min(28, 1400 / n));
        int w = Math.max(720, left + right + n * bar);
        int h = top + 2 * panel + gap + labels;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 24);
        double[] rate = new double[n], energy = new double[n];
        boolean[] dense = new boolean[n];
        for (int i = 0; i < layers.size(); i++) {
            Energy.Layer l = layers.get(i);
            rate[i] = Double.isNaN(l.firingRate()) ? 0 : l.firingRate();
            energy[i] = images == 0 ? 0 : l.energyPj(eMac, eAc) / images * 1e-6; // uJ per image
            dense[i] = !"AC".equals(l.kind());
        }
        panel(g, left, top, n * bar, panel, bar, rate, dense, "input firing rate (spike-valued calls)", "%.2f");
        panel(g, left, top + panel + gap, n * bar, panel, bar, energy, dense, "energy per image (uJ); orange: MAC layers", "%.3g");
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.min(11, Math.max(7, bar - 2))));
        g.setColor(Color.BLACK);
        int base = top + 2 * panel + gap + 6;
        for (int i = 0; i < layers.size(); i++) {
            AffineTransform old = g.getTransform();
            g.translate(left + i * bar + bar / 2 + 3, base);
            g.rotate(Math.PI / 2);
            String s = layers.get(i).name;
            g.drawString(s.length() > 34 ? "…" + s.substring(s.length() - 33) : s, 0, 0);
            g.setTransform(old);
        }
        g.dispose();
        dev.spikerev.train.Plots.writePng(img, file);
    }

    private static void panel(Graphics2D g, int x0, int y0, int pw, int ph, int bar, double[] v, boolean[] dense,
                              String title, String fmt) {
        double max = 0;
        for (double d : v) max = Math.max(max, d);
        if (!(max > 0)) max = 1;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(title, x0, y0 - 6);
        g.drawRect(x0, y0, pw, ph);
        for (int i = 0; i <= 4; i++) {
            int y = y0 + ph - ph * i / 4;
            g.setColor(new Color(230, 230, 230));
            g.drawLine(x0 + 1, y, x0 + pw - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format(fmt, max * i / 4), 6, y + 4);
        }
        for (int i = 0; i < v.length; i++) {
            int bh = (int) Math.round(ph * v[i] / max);
            g.setColor(dense[i] ? new Color(255, 127, 14) : new Color(31, 119, 180));
            g.fillRect(x0 + i * bar + 1, y0 + ph - bh, Math.max(1, bar - 2), bh);
        }
    }
}
