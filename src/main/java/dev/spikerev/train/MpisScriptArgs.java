package dev.spikerev.train;

import static dev.spikerev.train.ReferenceScriptArgs.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spikerev.train.ReferenceScriptArgs.Args;
import dev.spikerev.train.ReferenceScriptArgs.Script;
import java.util.Locale;

/** The MPIS-SNNs scripts' arguments (static_data.py, neuro_data.py) mapped to spikerev's config tree; see {@link ReferenceScriptArgs}. */
final class MpisScriptArgs {
    private MpisScriptArgs() {}

    static void mpis(Script s, Args a, ObjectNode out) {
        out.put("family", "mpis");
        boolean neuro = s == Script.MPIS_NEURO;
        ObjectNode model = out.putObject("model");
        ObjectNode data = out.putObject("data");
        String ds = a.str("dataset").toLowerCase(Locale.ROOT);
        int classes;
        if (neuro) {
            classes = 10;
            model.put("kind", "neuro");
            model.put("c_in", 2);
            model.put("c_hidden", 32);
            model.put("c_s1", 32);
            model.put("c_s2", 64);
            model.put("h_hidden", 8);
            model.put("w_hidden", 8);
            data.put("dataset", "nmnist");
        } else {
            if (!ds.equals("cifar10") && !ds.equals("cifar100")) throw a.bad("dataset", "cifar10 or cifar100 for static_data.py");
            classes = ds.equals("cifar10") ? 10 : 100;
            model.put("kind", "static");
            model.put("c_in", 3);
            model.put("c_hidden", 128);
            model.put("c_s1", 256);
            model.put("c_s2", 512);
            model.put("c_s3", 1024);
            model.put("h_hidden", 4);
            model.put("w_hidden", 4);
            data.put("dataset", ds);
            // the script normalises with these, crops with padding 4 and flips; it trains on the *test* split (spec Q8):
            // spikerev uses the real training split
            data.put("random_crop", 4);
            data.put("hflip", true);
            data.set("mean", nums(0.4914, 0.4822, 0.4465));
            data.set("std", nums(0.2023, 0.1994, 0.2010));
        }
        model.put("num_classes", classes);
        model.put("kernel_size_x", 3);
        model.put("stride_x", 2);
        model.put("padding_x", 1);
        model.put("pooling_x", false);
        model.put("kernel_size_s", 3);
        model.put("dropout", a.num("drop"));
        model.put("threshold", 30);
        model.put("time_step", a.integer("time_step"));
        model.put("vth", a.num("vth"));
        model.put("leaky", a.num("leaky"));
        model.put("solver", "broy");
        data.put("root", a.str("path"));
        data.put("download", false);
        data.put("batch_size", a.integer("train_batch"));
        data.put("eval_batch_size", a.integer("test_batch"));
        data.put("workers", a.integer("workers"));
        ObjectNode opt = out.putObject("optimizer");
        boolean sgd = a.str("optimizer").equals("SGD");
        opt.put("name", sgd ? "sgd" : "adam"); // the scripts: anything but 'SGD' is Adam(betas 0.9, 0.999)
        opt.put("lr", a.num("lr"));
        opt.put("momentum", a.num("momentum"));
        opt.put("weight_decay", a.num("weight_decay"));
        ObjectNode sch = out.putObject("schedule");
        sch.put("name", "multistep");
        JsonNode ms = a.v().get("schedule");
        ArrayNode milestones = sch.putArray("milestones");
        if (ms.isNumber()) milestones.add(ms.asInt());
        else if (ms.isArray()) for (JsonNode m : ms) milestones.add(m.asInt());
        else throw a.bad("schedule", "a list of epochs");
        sch.put("gamma", a.num("gamma"));
        sch.put("warmup_iters", a.integer("warmup"));
        ObjectNode tr = out.putObject("train");
        tr.put("epochs", a.integer("epochs"));
        tr.put("label_smoothing", 0.0);
        if (!a.isNull("manualSeed")) tr.put("seed", a.integer("manualSeed")); // static_data.py without it: random upstream
        tr.put("out", a.str("checkpoint"));
        tr.put("resume", a.str("resume"));
    }
}
