package dev.spikerev.train;

import static dev.spikerev.train.ReferenceScriptArgs.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spikerev.train.ReferenceScriptArgs.Args;
import dev.spikerev.train.ReferenceScriptArgs.Script;
import java.util.List;
import java.util.Locale;

/** The RevSNN scripts' arguments (train_resnet_origin.py, timm train.py, the DVS train.py / train_resnet.py) mapped to spikerev's config tree; see {@link ReferenceScriptArgs}. */
final class RevSNNScriptArgs {
    private RevSNNScriptArgs() {}

    static void revsnn(Script s, Args a, ObjectNode out) {
        out.put("family", "revsnn");
        ObjectNode model = out.putObject("model");
        String name = a.str("model");
        ObjectNode data = out.putObject("data");
        ObjectNode opt = out.putObject("optimizer");
        ObjectNode sch = out.putObject("schedule");
        ObjectNode tr = out.putObject("train");
        tr.put("label_smoothing", 0.0);
        data.put("download", false);
        if (s.origin()) {
            switch (name) {
                case "revs_resnet21": model.set("layers", ints(1, 1, 1, 1)); break;
                case "revs_resnet37": model.set("layers", ints(1, 2, 3, 2)); break;
                case "revs_resnet109": model.set("layers", ints(2, 4, 16, 4)); break;
                default: throw a.bad("model", "one of revs_resnet21, revs_resnet37, revs_resnet109 for train_resnet_origin.py");
            }
            model.put("cls", "RevSResNet");
            model.set("planes", ints(64, 128, 256, 448));
            model.put("num_classes", 100); // never passed by the script: CIFAR-10 runs build 100 classes too (spec Q3)
            model.put("T", a.integer("T"));
            boolean c100 = s == Script.RESNET_ORIGIN_C100;
            data.put("dataset", c100 ? "cifar100" : "cifar10");
            data.put("root", a.str("data_path"));
            data.put("batch_size", a.integer("batch_size"));
            data.put("eval_batch_size", a.integer("batch_size"));
            data.put("workers", a.integer("workers"));
            data.put("random_crop", 4);
            data.put("hflip", true);
            data.set("mean", nums(0.4914, 0.4822, 0.4465));
            data.set("std", nums(0.557, 0.549, 0.5534)); // spec Q5
            boolean adam = a.bool("adam");
            opt.put("name", adam ? "adam" : "sgd");
            opt.put("lr", a.num("lr"));
            opt.put("weight_decay", a.num("weight_decay"));
            opt.put("momentum", a.num("momentum"));
            sch.put("name", "multistep");
            sch.set("milestones", ints(c100 ? new int[]{60, 120, 160} : new int[]{100, 150}));
            sch.put("gamma", 0.1);
            tr.put("epochs", a.integer("epochs"));
            tr.put("seed", c100 ? 2023 : 2020);
            String dir = a.str("output_dir") + "/" + name + "_b" + a.integer("batch_size") + "_lr" + py(a.num("lr")) + "_T" + a.integer("T");
            if (a.bool("zero_init_residual")) dir += "_zi";
            if (a.num("weight_decay") != 0) dir += "_wd" + py(a.num("weight_decay"));
            tr.put("out", dir + "_steplr" + (adam ? "_adam" : "_sgd"));
        } else if (s.dvs()) {
            boolean g = s.gesture();
            if (name.equals("revs_resnet24")) {
                model.put("cls", "RevSResNet");
                model.set("layers", ints(1, 2, 2));
                model.set("planes", ints(16, 32, 48));
                model.put("num_classes", a.integer("num_classes"));
            } else if (name.equals("RevSpikingformer")) {
                model.put("cls", "rev_vit_snn");
                model.put("embed_dims", 256);
                model.put("num_heads", 16);
                model.put("depths", 2);
                model.put("mlp_ratios", 4);
                model.put("num_classes", g ? 11 : 10); // the factory's; the script does not pass --num-classes to it
            } else {
                throw a.bad("model", "revs_resnet24 or RevSpikingformer for the DVS scripts");
            }
            model.put("dvs", true);
            model.put("T", a.integer("T"));
            data.put("dataset", g ? "dvs128-gesture" : "cifar10-dvs");
            data.put("root", a.str("data_path"));
            data.put("batch_size", a.integer("batch_size"));
            data.put("eval_batch_size", a.integer("batch_size"));
            data.put("workers", a.integer("workers"));
            data.put("hflip", true);
            data.put("mixup", a.num("mixup"));
            data.put("cutmix", a.num("cutmix"));
            timmOptimizer(a, opt, tr);
            timmSchedule(a, sch, tr);
            tr.put("label_smoothing", a.num("smoothing"));
            tr.put("seed", 2021);
            String dir = a.str("output_dir") + "/" + name + "_b" + a.integer("batch_size") + "_T" + a.integer("T");
            if (a.num("weight_decay") != 0) dir += "_wd" + py(a.num("weight_decay"));
            dir += a.str("opt").equals("adamw") ? "_adamw" : "_sgd";
            if (!a.str("connect_f").isEmpty()) dir += "_cnf_" + a.str("connect_f");
            tr.put("out", dir + "/lr" + py(a.num("lr")));
        } else {
            if (!name.equals("RevSpikingformer")) throw a.bad("model", "RevSpikingformer for the CIFAR train.py");
            for (String k : List.of("dim", "num_heads", "depths", "mlp_ratio", "img_size"))
                if (a.isNull(k)) throw new ConfigException(a.where() + ": key '" + k + "' is required (the reference's "
                        + "configs/revsformer_*.yml set dim, num_heads, depths, mlp_ratio, img_size; the model has no usable default)");
            if (a.integer("img_size") != 32) throw a.bad("img_size", "32 (CIFAR images)");
            if (a.integer("time_step") != 4)
                throw a.bad("time_step", "4: train.py does not pass it to the model, whose T is always 4");
            String ds = a.str("dataset");
            boolean c100 = ds.startsWith("torch/cifar100");
            if (!c100 && !ds.equals("torch/cifar10")) throw a.bad("dataset", "torch/cifar10 or torch/cifar100");
            model.put("cls", "rev_vit_snn");
            model.put("arch", name);
            model.put("embed_dims", a.integer("dim"));
            model.put("num_heads", a.integer("num_heads"));
            model.put("depths", a.integer("depths"));
            double ratio = a.num("mlp_ratio");
            if (ratio == Math.rint(ratio)) model.put("mlp_ratios", (int) ratio);
            else model.put("mlp_ratios", ratio);
            model.put("num_classes", a.isNull("num_classes") ? (c100 ? 100 : 10) : a.integer("num_classes"));
            model.put("T", 4);
            data.put("dataset", c100 ? "cifar100" : "cifar10");
            data.put("root", a.str("data_dir"));
            data.put("batch_size", a.integer("batch_size"));
            data.put("eval_batch_size", a.integer("val_batch_size"));
            data.put("workers", a.integer("workers"));
            if (!a.nums("scale").equals(List.of(1.0, 1.0)) || !a.nums("ratio").equals(List.of(1.0, 1.0)))
                throw new ConfigException(a.where() + ": keys 'scale' / 'ratio' must be [1.0, 1.0] (resize only, as the reference's "
                        + "configs), found " + a.v().get("scale") + " / " + a.v().get("ratio") + ": RandomResizedCrop is not in spikerev");
            if (a.isNull("crop_pct") || a.num("crop_pct") != 1.0)
                throw a.bad("crop_pct", "1.0 (eval without resize + center crop, as the reference's configs)");
            double hflip = a.num("hflip");
            if (hflip != 0 && hflip != 0.5) throw a.bad("hflip", "0.0 or 0.5");
            data.put("hflip", hflip == 0.5);
            data.set("mean", a.isNull("mean") ? nums(0.485, 0.456, 0.406) : listOf(a.nums("mean")));
            data.set("std", a.isNull("std") ? nums(0.229, 0.224, 0.225) : listOf(a.nums("std")));
            data.put("auto_augment", a.str("aa"));
            data.put("color_jitter", a.isNull("aa") ? a.num("color_jitter") : 0.0); // timm: colour jitter only without auto-augment
            data.put("reprob", a.num("reprob"));
            data.put("mixup", a.num("mixup"));
            data.put("cutmix", a.num("cutmix"));
            timmOptimizer(a, opt, tr);
            timmSchedule(a, sch, tr);
            if (!a.isNull("clip_grad")) {
                switch (a.str("clip_mode")) {
                    case "norm": tr.put("clip_grad_norm", a.num("clip_grad")); break;
                    case "agc": tr.put("clip_grad", a.num("clip_grad")); break;
                    default: throw a.bad("clip_mode", "norm or agc");
                }
            }
            tr.put("label_smoothing", a.num("smoothing"));
            tr.put("ema", a.bool("model_ema"));
            tr.put("ema_decay", a.num("model_ema_decay"));
            tr.put("seed", a.integer("seed"));
            String base = a.str("output").isEmpty() ? "./output/train" : a.str("output");
            tr.put("out", base + "/" + (a.str("experiment").isEmpty() ? name + "-32" : a.str("experiment")));
        }
        tr.put("resume", a.str("resume"));
    }

    /** timm {@code create_optimizer(args, model)}: opt name, lr, weight_decay, momentum, opt_eps, opt_betas. */
    private static void timmOptimizer(Args a, ObjectNode opt, ObjectNode tr) {
        String o = a.str("opt").toLowerCase(Locale.ROOT);
        switch (o) {
            case "adamw": case "adam": case "lamb": opt.put("name", o); break;
            case "sgd": case "nesterov": opt.put("name", "sgd"); opt.put("nesterov", true); break;  // timm: 'sgd' is Nesterov SGD
            case "momentum": opt.put("name", "sgd"); opt.put("nesterov", false); break;
            default: throw a.bad("opt", "one of adamw, adam, lamb, sgd, nesterov, momentum");
        }
        opt.put("lr", a.num("lr"));
        opt.put("weight_decay", a.num("weight_decay"));
        opt.put("momentum", a.num("momentum"));
        if (!a.isNull("opt_eps")) opt.put("eps", a.num("opt_eps"));
        if (!a.isNull("opt_betas")) {
            JsonNode b = a.v().get("opt_betas");
            if (!b.isArray() || b.size() != 2) throw a.bad("opt_betas", "two numbers [beta1, beta2]");
            opt.set("betas", listOf(a.nums("opt_betas")));
        }
    }

    /** timm {@code create_scheduler(args, optimizer)} with sched cosine: per-epoch cosine, warmup, cooldown. */
    private static void timmSchedule(Args a, ObjectNode sch, ObjectNode tr) {
        if (!a.str("sched").equals("cosine")) throw a.bad("sched", "cosine (the recipes' scheduler; timm's others are not in spikerev)");
        sch.put("name", "timm-cosine");
        sch.put("warmup_epochs", a.integer("warmup_epochs"));
        sch.put("warmup_lr", a.num("warmup_lr"));
        sch.put("min_lr", a.num("min_lr"));
        sch.put("cooldown_epochs", a.integer("cooldown_epochs"));
        sch.put("gamma", a.num("decay_rate"));
        tr.put("epochs", a.integer("epochs") + a.integer("cooldown_epochs")); // timm: num_epochs = epochs + cooldown
    }
}
