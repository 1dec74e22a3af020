package io.sparkprop.spark.checkpoint;

import io.sparkprop.spark.config.JobConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Whether a run may resume from a checkpoint written under another config. Keys that change what
 * is trained or the shape of the state (the network, the training data and how it is read and
 * split, the seed, the batch size, the optimizer) must be equal; keys that only change how long,
 * how often or where things are written are harmless; any other change is allowed but makes the
 * rest of the run differ from an uninterrupted one, and is warned about.
 */
public final class ResumeCheck {

    private static final Set<String> MUST_MATCH_PREFIXES = Set.of("model.");
    private static final Set<String> MUST_MATCH = Set.of("data.format", "data.train", "data.train-labels",
            "data.num-features", "data.label-column", "data.features-column", "data.feature-columns",
            "data.weight-column", "data.csv.header", "data.csv.delimiter", "data.bad-rows", "data.partitions",
            "data.scaling", "data.scaling.divisor", "data.validation-fraction", "train.seed", "train.batch-size",
            "train.optimizer");
    private static final Set<String> HARMLESS = Set.of("train.epochs", "train.max-job-retries", "data.validation",
            "data.validation-labels", "data.test", "data.test-labels", "train.non-finite",
            "train.non-finite.max-skips", "train.non-finite.rollback-factor");

    /** The differences, sorted by severity. */
    public record Differences(List<String> incompatible, List<String> harmless, List<String> trajectory) {
    }

    private ResumeCheck() {
    }

    public static Differences compare(JobConfig saved, JobConfig now) {
        List<String> incompatible = new ArrayList<>();
        List<String> harmless = new ArrayList<>();
        List<String> trajectory = new ArrayList<>();
        for (String key : now.values().keySet()) {
            String before = saved.get(key);
            String after = now.get(key);
            if (before.equals(after)) {
                continue;
            }
            String change = key + ": '" + before + "' -> '" + after + "'";
            if (MUST_MATCH.contains(key) || MUST_MATCH_PREFIXES.stream().anyMatch(key::startsWith)) {
                incompatible.add(change);
            } else if (HARMLESS.contains(key) || key.startsWith("checkpoint.")) {
                harmless.add(change);
            } else {
                trajectory.add(change);
            }
        }
        return new Differences(incompatible, harmless, trajectory);
    }
}
