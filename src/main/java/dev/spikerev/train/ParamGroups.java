package dev.spikerev.train;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Weight-decay grouping rules of the references. Input: {@code named_parameters()} as an insertion-ordered map
 * (name → parameter). Like Python's {@code named_parameters()}, a tensor seen twice (shared weights) is kept only
 * under its first name, and parameters with {@code requires_grad() == false} are skipped.
 */
public final class ParamGroups {
    private ParamGroups() {}

    /** A single group with every (unique, trainable) parameter: {@code torch.optim.X(model.parameters())}. */
    public static List<ParamGroup> all(Map<String, Tensor> namedParams) {
        List<Tensor> ps = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : unique(namedParams, false)) ps.add(e.getValue());
        return List.of(ParamGroup.of(ps));
    }

    /**
     * timm {@code param_groups_weight_decay(model, weight_decay, no_weight_decay_list)} (timm 1.0.x; same grouping as
     * 0.6.12 used by RevSNN): a param gets no decay if {@code ndim <= 1}, its name ends with {@code .bias}, or it
     * matches an entry of {@code noWeightDecayList} (fnmatch wildcards {@code *}, {@code ?}).
     * Returns {@code [{no_decay, weight_decay: 0.0}, {decay, weight_decay: wd}]}, omitting an empty group; with
     * {@code weightDecay == 0} every param goes to the no-decay group.
     */
    public static List<ParamGroup> timmWeightDecay(Map<String, Tensor> namedParams, double weightDecay,
                                                   Collection<String> noWeightDecayList) {
        List<Tensor> decay = new ArrayList<>(), noDecay = new ArrayList<>();
        boolean noWd = weightDecay == 0;
        for (Map.Entry<String, Tensor> e : unique(namedParams, true)) {
            String name = e.getKey();
            Tensor p = e.getValue();
            if (noWd || p.dim() <= 1 || name.endsWith(".bias") || matchesAny(name, noWeightDecayList)) noDecay.add(p);
            else decay.add(p);
        }
        List<ParamGroup> groups = new ArrayList<>();
        if (!noDecay.isEmpty()) groups.add(ParamGroup.of(noDecay, Map.of("weight_decay", 0.0)));
        if (!decay.isEmpty()) groups.add(ParamGroup.of(decay, Map.of("weight_decay", weightDecay)));
        return groups;
    }

    /**
     * T-RevSNN (RevCol) {@code optimizer.set_weight_decay(model, skip_list, skip_keywords)}: returns
     * {@code [{has_decay} (optimizer default weight decay), {no_decay, weight_decay: 0.0}]}, both always present
     * (even when empty). No decay if {@code ndim == 1}, the name ends with {@code .bias}, is in {@code skipList}
     * or contains one of {@code skipKeywords}. The names {@code linear_eval.weight/bias} are skipped entirely.
     * Note: 4-d {@code [1,C,1,1]} alphas/gammas and {@code [O,1,1,1]} gains land in the decayed group.
     */
    public static List<ParamGroup> revcolWeightDecay(Map<String, Tensor> namedParams, Collection<String> skipList,
                                                     Collection<String> skipKeywords) {
        List<Tensor> decay = new ArrayList<>(), noDecay = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : unique(namedParams, true)) {
            String name = e.getKey();
            if (name.equals("linear_eval.weight") || name.equals("linear_eval.bias")) continue;
            Tensor p = e.getValue();
            boolean kw = false;
            for (String k : skipKeywords) kw |= name.contains(k);
            if (p.dim() == 1 || name.endsWith(".bias") || skipList.contains(name) || kw) noDecay.add(p);
            else decay.add(p);
        }
        return List.of(ParamGroup.of(decay), ParamGroup.of(noDecay, Map.of("weight_decay", 0.0)));
    }

    private static List<Map.Entry<String, Tensor>> unique(Map<String, Tensor> namedParams, boolean trainableOnly) {
        List<Map.Entry<String, Tensor>> out = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (Map.Entry<String, Tensor> e : namedParams.entrySet()) {
            if (!seen.add(Optimizer.implAddress(e.getValue()))) continue;
            if (trainableOnly && !e.getValue().requires_grad()) continue;
            out.add(e);
        }
        return out;
    }

    /** Python {@code fnmatch.fnmatch} for {@code *}, {@code ?} and {@code [...]} (case-sensitive, as on POSIX). */
    static boolean matchesAny(String name, Collection<String> patterns) {
        for (String pat : patterns) if (globToRegex(pat).matcher(name).matches()) return true;
        return false;
    }

    private static Pattern globToRegex(String glob) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> sb.append(".*");
                case '?' -> sb.append('.');
                case '[' -> {
                    int j = glob.indexOf(']', i + 1);
                    if (j < 0) sb.append("\\[");
                    else {
                        String body = glob.substring(i + 1, j);
                        if (body.startsWith("!")) body = "^" + body.substring(1);
                        sb.append('[').append(body.replace("\\", "\\\\")).append(']');
                        i = j;
                    }
                }
                default -> sb.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(sb.toString(), Pattern.DOTALL);
    }
}
