package dev.spikerev.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spikerev.bench.MemoryBench;
import dev.spikerev.bench.MemoryPlot;
import dev.spikerev.bench.MemoryProbe;
import dev.spikerev.tensor.Natives;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spikerev bench ...}: memory ({@link Memory}) and speed ({@link BenchSpeed}) benchmarks. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks: memory and speed of a training step.",
        subcommands = {BenchCommand.Memory.class, BenchSpeed.class})
public final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return ExitCodes.OK;
    }

    @Command(name = "memory", mixinStandardHelpOptions = true,
            description = {"Bytes a training step keeps for backward, per image: reversible vs plain (BPTT) networks (t-revsnn),",
                    "or MPIS one-step / implicit gradients vs a BPTT-unrolled copy over the number of time steps T (mpis).",
                    "Measured as host RSS deltas (run through ./spikerev, which sets MALLOC_MMAP_THRESHOLD_)."})
    static final class Memory implements Callable<Integer> {
        @Option(names = "--family", defaultValue = "t-revsnn", description = "Model family (default: ${DEFAULT-VALUE}).")
        String family;
        @Option(names = "--model", description = {"t-revsnn: tiny (default), small or c0,c1,c2,c3; revsnn: revsresnet (default) or revsformer;",
                "mpis: cifar-small (default), cifar10, cifar100, nmnist-small, nmnist."})
        String model;
        @Option(names = "--img", description = "Input height/width (default: 64 t-revsnn, 32 revsnn).")
        Integer img;
        @Option(names = "--depths", split = ",", defaultValue = "21,37",
                description = "revsnn depth axis: revsresnet variants 21,37,109; revsformer block counts (default: 21,37 / 1,2,4).")
        int[] depths;
        @Option(names = "--depth-t", defaultValue = "4", description = "revsnn: T of the depth axis (default: ${DEFAULT-VALUE}).")
        int depthT;
        @Option(names = "--t", split = ",", defaultValue = "1,2,4", description = "revsnn T axis (default: ${DEFAULT-VALUE}).")
        int[] ts;
        @Option(names = "--t-depth", description = "revsnn: depth of the T axis (default: 21 revsresnet, 2 revsformer).")
        Integer tDepth;
        @Option(names = "--embed", defaultValue = "384", description = "revsformer embed dims (default: ${DEFAULT-VALUE}).")
        int embed;
        @Option(names = "--heads", defaultValue = "12", description = "revsformer heads (default: ${DEFAULT-VALUE}).")
        int heads;
        @Option(names = "--batch", defaultValue = "8", description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--subnets", split = ",", defaultValue = "4,8", description = "t-revsnn column counts (default: ${DEFAULT-VALUE}).")
        int[] subnets;
        @Option(names = "--kernel", defaultValue = "3") int kernel;
        @Option(names = "--classes", description = "Classes (default: 1000 t-revsnn; revsnn 100 revsresnet, 10 revsformer).") Integer classes;
        @Option(names = "--reps", defaultValue = "3", description = "Measured steps per row, minimum taken (default: ${DEFAULT-VALUE}).")
        int reps;
        @Option(names = "--threads", defaultValue = "2") int threads;
        @Option(names = "--T", split = ",", defaultValue = "4,8,16,32", description = "mpis: time steps (default: ${DEFAULT-VALUE}).")
        int[] timeSteps;
        @Option(names = "--gradient", split = ",", defaultValue = "one-step,implicit",
                description = "mpis: gradient modes to measure: one-step, implicit (default: ${DEFAULT-VALUE}).")
        List<String> gradients;
        @Option(names = "--bptt-max-T", defaultValue = "32",
                description = "mpis: also measure the BPTT-unrolled network for T up to this (0: none; default: ${DEFAULT-VALUE}).")
        int bpttMaxT;
        @Option(names = "--in-process", description = "mpis: measure every row in this JVM instead of a fresh child JVM per row "
                + "(faster; later rows can under-count because freed memory is reused without growing RSS).")
        boolean inProcess;
        @Option(names = "--json", paramLabel = "FILE", description = {"Also write the rows as JSON: {\"family\", \"rows\": [{\"variant\": "
                + "reversible|plain|bptt|reference|implicit, \"subnets\"|\"depth\"|\"T\": n, \"bytes_per_image\", ...}]}",
                "(mpis: reference = the reference's one-step gradient)."})
        Path json;
        @Option(names = "--plot", paramLabel = "FILE.png", description = "Also draw held memory per image vs subnets / depth / T per variant (PNG).")
        Path plot;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Natives.setThreads(threads);
            PrintWriter out = spec.commandLine().getOut();
            if (!MemoryProbe.mmapThresholdSet())
                out.println("warning: MALLOC_MMAP_THRESHOLD_ is not set; RSS deltas will under-count freed memory (run via ./spikerev)");
            List<MemoryBench.Row> rows;
            switch (family) {
                case "t-revsnn":
                    rows = MemoryBench.trevsnn(model == null ? "tiny" : model, img == null ? 64 : img, batch, subnets, kernel,
                            classes == null ? 1000 : classes, reps);
                    break;
                case "revsnn": {
                    String m = model == null ? "revsresnet" : model;
                    if (!m.equals("revsresnet") && !m.equals("revsformer"))
                        throw new UserError("bench memory --family revsnn: --model must be revsresnet or revsformer, found '" + m + "'");
                    boolean resnet = m.equals("revsresnet");
                    int[] ds = resnet || hasOption("--depths") ? depths : new int[]{1, 2, 4};
                    rows = MemoryBench.revsnn(m, img == null ? 32 : img, batch, ds, depthT, ts,
                            tDepth != null ? tDepth : resnet ? 21 : 2, embed, heads, classes, reps);
                    break;
                }
                case "mpis": return mpis(out);
                default: throw new UserError("bench memory: unknown family '" + family + "' (available: t-revsnn, revsnn, mpis)");
            }
            out.printf("%-11s %-9s %6s %16s %16s%n", "variant", "axis", "value", "held MiB/img", "peak MiB/img");
            for (MemoryBench.Row r : rows)
                out.printf("%-11s %-9s %6d %16.3f %16.3f%n", r.variant(), r.axis(), r.value(), r.heldPerImage() / 1048576.0, r.peakPerImage() / 1048576.0);
            if (family.equals("revsnn")) summarizeRatios(rows, out);
            else summarize(rows, out);
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("family", family);
            doc.put("model", model == null ? (family.equals("t-revsnn") ? "tiny" : "revsresnet") : model);
            doc.put("batch", batch);
            write(doc, rows, out);
            return ExitCodes.OK;
        }

        /** {@code --json} (the rows under {@code doc}'s fields) and {@code --plot}. */
        private void write(Map<String, Object> doc, List<MemoryBench.Row> rows, PrintWriter out) throws IOException {
            if (json != null) {
                List<Map<String, Object>> list = new ArrayList<>();
                for (MemoryBench.Row r : rows) list.add(jsonRow(r));
                doc.put("rows", list);
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
                out.println("wrote " + json);
            }
            if (plot != null) {
                try {
                    MemoryPlot.write(plot, rows, String.format("%s %s, batch %d: memory kept for backward", family, doc.get("model"), batch));
                } catch (java.io.UncheckedIOException e) {
                    throw new UserError("bench memory --plot: cannot write " + plot + " (" + e.getCause() + ")");
                }
                out.println("wrote " + plot);
            }
            out.flush();
        }

        /**
         * One JSON row: {@code variant} (mpis one-step rows are {@code reference}: the gradient the reference computes,
         * with {@code gradient} naming it), the axis ({@code subnets}, {@code depth} or {@code T}) with its value,
         * {@code batch}, held and peak bytes per image.
         */
        static Map<String, Object> jsonRow(MemoryBench.Row r) {
            Map<String, Object> m = new LinkedHashMap<>();
            boolean mpisGrad = r.variant().equals("one-step") || r.variant().equals("implicit");
            m.put("variant", r.variant().equals("one-step") ? "reference" : r.variant());
            if (mpisGrad) m.put("gradient", r.variant());
            m.put(r.axis(), r.value());
            m.put("batch", r.batch());
            m.put("bytes_per_image", Math.round(r.heldPerImage()));
            m.put("peak_bytes_per_image", Math.round(r.peakPerImage()));
            return m;
        }

        private boolean hasOption(String name) {
            return spec.commandLine().getParseResult().hasMatchedOption(name);
        }

        /** For every (axis, value) measured both ways: plain/reversible held bytes per image. */
        static void summarizeRatios(List<MemoryBench.Row> rows, PrintWriter out) {
            for (MemoryBench.Row r : rows) {
                if (!r.variant().equals("reversible")) continue;
                for (MemoryBench.Row p : rows) {
                    if (p.variant().equals("plain") && p.axis().equals(r.axis()) && p.value() == r.value())
                        out.printf("%s=%d: plain/reversible held %.2fx (%.2f vs %.2f MiB/img), peak %.2fx%n", r.axis(), r.value(),
                                p.heldPerImage() / r.heldPerImage(), p.heldPerImage() / 1048576.0, r.heldPerImage() / 1048576.0,
                                p.peakPerImage() / r.peakPerImage());
                }
            }
        }

        /** {@code --family mpis}: rows per (variant, T), a flatness summary, optional JSON. */
        private Integer mpis(PrintWriter out) throws IOException {
            String m = model == null ? "cifar-small" : model;
            if (!MemoryBench.MPIS_MODELS.contains(m))
                throw new UserError("bench memory: --model for mpis must be one of " + MemoryBench.MPIS_MODELS + ", found '" + m + "'");
            for (String g : gradients)
                if (!g.equals("one-step") && !g.equals("implicit"))
                    throw new UserError("bench memory: --gradient takes one-step and/or implicit (BPTT rows: --bptt-max-T), found '" + g + "'");
            for (int t : timeSteps) if (t < 1) throw new UserError("bench memory: --T values must be >= 1, found " + t);
            if (batch < 1) throw new UserError("bench memory: --batch must be >= 1, found " + batch);
            out.printf("mpis %s, batch %d, T %s, %s%n", m, batch, java.util.Arrays.toString(timeSteps),
                    inProcess ? "all rows in this JVM" : "one fresh JVM per row");
            out.flush();
            List<MemoryBench.Row> rows = MemoryBench.mpis(m, batch, timeSteps, gradients, bpttMaxT, reps, threads, !inProcess, out);
            out.printf("%-9s %4s %16s %16s%n", "variant", "T", "held MiB/img", "peak MiB/img");
            for (MemoryBench.Row r : rows)
                out.printf("%-9s %4d %16.3f %16.3f%n", r.variant(), r.value(), r.heldPerImage() / 1048576.0, r.peakPerImage() / 1048576.0);
            summarizeMpis(rows, out);
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("family", "mpis");
            doc.put("model", m);
            doc.put("batch", batch);
            doc.put("child_jvm_per_row", !inProcess);
            write(doc, rows, out);
            return ExitCodes.OK;
        }

        /** Per variant: held bytes/image at the smallest and largest T and the change (flat = within ±5 %). */
        static void summarizeMpis(List<MemoryBench.Row> rows, PrintWriter out) {
            for (String v : List.of("one-step", "implicit", "bptt")) {
                List<MemoryBench.Row> rs = rows.stream().filter(r -> r.variant().equals(v)).toList();
                if (rs.size() < 2) continue;
                MemoryBench.Row a = rs.stream().min(java.util.Comparator.comparingLong(MemoryBench.Row::value)).get();
                MemoryBench.Row b = rs.stream().max(java.util.Comparator.comparingLong(MemoryBench.Row::value)).get();
                double change = (b.heldPerImage() - a.heldPerImage()) / a.heldPerImage();
                double perStep = (b.heldPerImage() - a.heldPerImage()) / (b.value() - a.value());
                out.printf("%-9s T %d -> %d: held %.3f -> %.3f MiB/img (%+.1f%%, %+.4f MiB/img per step): %s%n", v, a.value(), b.value(),
                        a.heldPerImage() / 1048576.0, b.heldPerImage() / 1048576.0, 100 * change, perStep / 1048576.0,
                        Math.abs(change) <= 0.05 ? "flat in T (within 5%)" : change > 0 ? "grows with T" : "shrinks with T");
            }
        }

        /** Growth per added unit (reversible vs plain) and the ratio at the largest value. */
        static void summarize(List<MemoryBench.Row> rows, PrintWriter out) {
            List<MemoryBench.Row> rev = rows.stream().filter(r -> !r.variant().equals("plain")).toList();
            List<MemoryBench.Row> plain = rows.stream().filter(r -> r.variant().equals("plain")).toList();
            if (rev.size() < 2 || plain.size() < 2) return;
            MemoryBench.Row r0 = rev.get(0), r1 = rev.get(rev.size() - 1), p0 = plain.get(0), p1 = plain.get(plain.size() - 1);
            double units = r1.value() - r0.value();
            double revGrowth = (r1.heldPerImage() - r0.heldPerImage()) / units;
            double plainGrowth = (p1.heldPerImage() - p0.heldPerImage()) / units;
            out.printf("growth per added %s: %s %.3f MiB/img, plain %.3f MiB/img -> %.1f%% of plain%n", r0.axis(), r0.variant(),
                    revGrowth / 1048576.0, plainGrowth / 1048576.0, 100.0 * revGrowth / plainGrowth);
            out.printf("%s/plain held ratio at %s=%d: %.3f%n", r1.variant(), r1.axis(), r1.value(), r1.heldPerImage() / p1.heldPerImage());
        }
    }
}
