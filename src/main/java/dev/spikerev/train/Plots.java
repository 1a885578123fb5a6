package dev.spikerev.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Line charts (PNG, plain java.awt, headless) of a run's loss and accuracy curves per epoch. */
public final class Plots {
    private Plots() {}

    /** Writes {@code loss.png} and {@code accuracy.png} into {@code dir}; returns their paths. */
    public static List<Path> write(Path dir, List<Map<String, Object>> rows) {
        System.setProperty("java.awt.headless", "true");
        List<Path> out = new ArrayList<>();
        out.add(chart(dir.resolve("loss.png"), "loss per epoch", rows, new String[]{"train_loss", "test_loss"}));
        out.add(chart(dir.resolve("accuracy.png"), "accuracy per epoch (%)", rows, new String[]{"train_acc", "test_acc", "test_acc_ema"}));
        return out;
    }

    /**
     * {@link #write}, but a machine that cannot draw (a headless JRE without its font libraries, e.g. no libfreetype /
     * libharfbuzz) does not stop the training run: returns why the plots were not written (warned once on {@code log},
     * the metrics files stay the record), or null when they were.
     */
    public static String tryWrite(Path dir, List<Map<String, Object>> rows, String previousError, java.io.PrintStream log) {
        try {
            write(dir, rows);
            return null;
        } catch (LinkageError | java.awt.AWTError | RuntimeException e) {
            String why = e.getClass().getSimpleName() + ": " + e.getMessage();
            if (previousError == null) log.println("warning: plots not written (" + why + "); metrics.csv/json are");
            return why;
        }
    }

    static Path chart(Path file, String title, List<Map<String, Object>> rows, String[] series) {
        int w = 720, h = 440, left = 70, right = 170, top = 40, bottom = 50;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double minY = Double.POSITIVE_INFINITY, maxY = Double.NEGATIVE_INFINITY, minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY;
        for (Map<String, Object> r : rows) {
            double x = num(r.get("epoch"));
            minX = Math.min(minX, x);
            maxX = Math.max(maxX, x);
            for (String s : series) {
                double y = num(r.get(s));
                if (!Double.isNaN(y)) { minY = Math.min(minY, y); maxY = Math.max(maxY, y); }
            }
        }
        if (!(maxY > minY)) { maxY = (Double.isFinite(maxY) ? maxY : 1) + 0.5; minY = maxY - 1; }
        if (!(maxX > minX)) { maxX = (Double.isFinite(maxX) ? maxX : 1) + 0.5; minX = maxX - 1; }
        double pad = (maxY - minY) * 0.05;
        minY -= pad;
        maxY += pad;
        int pw = w - left - right, ph = h - top - bottom;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(left, top, pw, ph);
        for (int i = 0; i <= 5; i++) {
            double v = minY + (maxY - minY) * i / 5;
            int y = top + ph - (int) Math.round(ph * i / 5.0);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(left + 1, y, left + pw - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.3g", v), 8, y + 4);
        }
        g.drawString("epoch", left + pw / 2 - 15, h - 12);
        for (int i = 0; i <= Math.min(10, (int) (maxX - minX)); i++) {
            double v = minX + (maxX - minX) * i / Math.max(1, Math.min(10, (int) (maxX - minX)));
            int x = left + (int) Math.round(pw * (v - minX) / (maxX - minX));
            g.drawString(String.format("%.0f", v), x - 4, top + ph + 16);
        }
        Color[] colors = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44)};
        g.setStroke(new BasicStroke(2f));
        int legend = 0;
        for (int s = 0; s < series.length; s++) {
            int px = -1, py = -1;
            boolean any = false;
            g.setColor(colors[s % colors.length]);
            for (Map<String, Object> r : rows) {
                double y = num(r.get(series[s]));
                if (Double.isNaN(y)) continue;
                any = true;
                int x = left + (int) Math.round(pw * (num(r.get("epoch")) - minX) / (maxX - minX));
                int yy = top + ph - (int) Math.round(ph * (y - minY) / (maxY - minY));
                g.fillOval(x - 3, yy - 3, 6, 6);
                if (px >= 0) g.drawLine(px, py, x, yy);
                px = x;
                py = yy;
            }
            if (any) {
                int ly = top + 10 + 20 * legend++;
                g.drawLine(left + pw + 15, ly, left + pw + 40, ly);
                g.setColor(Color.BLACK);
                g.drawString(series[s], left + pw + 46, ly + 4);
            }
        }
        g.dispose();
        writePng(img, file);
        return file;
    }

    /** Writes {@code img} as PNG to {@code file} atomically (temp file in the same folder, then rename). */
    public static void writePng(BufferedImage img, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, "." + file.getFileName(), ".png.tmp");
            ImageIO.write(img, "png", tmp.toFile());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        }
    }

    static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
