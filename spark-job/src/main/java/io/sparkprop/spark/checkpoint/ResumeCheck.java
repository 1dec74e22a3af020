package io.sparkprop.spark.checkpoint;

import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.JobConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a run may resume from a checkpoint written under another config, by each key's
 * {@link io.sparkprop.spark.config.ConfigKey.Resume} rule as {@link ConfigSchema} declares it. Keys that change what
 * is trained or the shape of the state (the network, the training data and how it is read and
 * split, the seed, the batch size, the optimizer) must be equal; keys that only change how long,
 * how often or where things are written are harmless; any other change is allowed but makes the
 * rest of the run differ from an uninterrupted one, and is warned about.
 */
public final class ResumeCheck {

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
            switch (ConfigSchema.resumeRule(ConfigSchema.key(key), now)) {
                case MUST_MATCH -> incompatible.add(change);
                case HARMLESS -> harmless.add(change);
                case TRAJECTORY -> trajectory.add(change);
                default -> throw new AssertionError(key);
            }
        }
        return new Differences(incompatible, harmless, trajectory);
    }
}
