package io.sparkprop.spark.checkpoint;

import io.sparkprop.core.io.Model;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.TrainingState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop's checkpoints in a {@link CheckpointStore}, for the command line and the
 * estimators alike: each state is written with its model, the run's config and the fingerprint of
 * its training data, and reloaded only when the fingerprint matches.
 */
public final class CheckpointSink implements DistributedTrainer.Checkpoints {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointSink.class);

    private final CheckpointStore store;
    private final TrainingConfig settings;
    private final String config;
    private final String fingerprint;
    private final Map<String, double[]> arrays;
    private final Map<String, String> metadata;

    /**
     * @param fingerprint what identifies the training data (sources, rows, partitions, …)
     * @param arrays      extra arrays for each checkpoint's model (a standardization, say)
     * @param metadata    each checkpoint's model metadata
     */
    public CheckpointSink(CheckpointStore store, TrainingConfig settings, String fingerprint,
                          Map<String, double[]> arrays, Map<String, String> metadata) {
        this.store = store;
        this.settings = settings;
        this.config = settings.text().render();
        this.fingerprint = fingerprint;
        this.arrays = arrays;
        this.metadata = metadata;
    }

    @Override
    public void save(TrainingState state) {
        // A run that lost its claim on the directory stops, whatever checkpoint.on-failure says.
        store.checkClaim();
        Model model = new Model(settings.spec(), state.params(), arrays, metadata);
        try {
            String uri = store.write(new CheckpointStore.Checkpoint(state, model, config, fingerprint));
            LOG.info("Checkpoint at global step {} written to {}", state.globalStep(), uri);
        } catch (IOException | RuntimeException e) {
            // One line: the file and the cause (in the store's message), and what is left to resume from.
            String message = "Checkpoint at global step " + state.globalStep() + " failed: "
                    + WriteFailure.reason(e).lines().findFirst().orElse("") + "; its temporary files are removed and "
                    + store.newestValid();
            if (settings.checkpoints().failureIsFatal()) {
                throw new IllegalStateException(message + " (checkpoint.on-failure=fail)", e);
            }
            LOG.warn("{} (checkpoint.on-failure=warn: training goes on)", message);
        }
    }

    @Override
    public Optional<TrainingState> latest() {
        try {
            return store.loadNewest().map(c -> {
                if (!c.fingerprint().equals(fingerprint)) {
                    throw new IllegalStateException("The newest checkpoint in " + store.uri()
                            + " belongs to other training data");
                }
                return c.state();
            });
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read checkpoints from " + store.uri() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Refuses to resume from {@code checkpoint} when it was written for an incompatible config or
     * for other data, in that order, so that a changed key that must match (which can also change
     * the data's layout, as {@code data.partitions} and {@code data.chunk-bytes} do) is named as
     * the reason; logs the settings that changed harmlessly or change the trajectory.
     * {@link #checkConfig} then {@link #checkData}.
     *
     * @param how what to do instead, for the message ("Use a new --run-dir to train afresh.")
     */
    public static void checkResumable(CheckpointStore.Checkpoint checkpoint, JobConfig config, String fingerprint,
                                      CheckpointStore store, Configuration hadoopConf, String how) {
        checkConfig(checkpoint, config, store, hadoopConf, how);
        checkData(checkpoint, fingerprint, store, how);
    }

    /**
     * Refuses to resume from {@code checkpoint} under a config that differs in a key whose resume
     * rule is {@code MUST_MATCH}, naming each such key with both values; logs the settings that
     * changed harmlessly or change the trajectory. Needs no data: the command line calls it before
     * loading any.
     *
     * <p>{@code config}'s paths are qualified ({@link JobConfig#withQualifiedPaths}), and so are the
     * checkpoint's under {@code hadoopConf} before they are compared: a checkpoint written before runs
     * recorded qualified paths holds a {@code --set} or Spark conf path as it was given, which resolves
     * as it did then (from the same working directory), so the same file named relatively or
     * absolutely is no change.
     */
    public static void checkConfig(CheckpointStore.Checkpoint checkpoint, JobConfig config, CheckpointStore store,
                                   Configuration hadoopConf, String how) {
        ResumeCheck.Differences diff = ResumeCheck.compare(JobConfig.parse(checkpoint.config(), "checkpoint config")
                .withQualifiedPaths(hadoopConf), config);
        if (!diff.incompatible().isEmpty()) {
            throw new IllegalArgumentException("Cannot resume from " + store.uri() + " with an incompatible config: "
                    + String.join("; ", diff.incompatible()) + ". " + how);
        }
        for (String change : diff.harmless()) {
            LOG.info("Resuming with a changed setting: {}", change);
        }
        for (String change : diff.trajectory()) {
            LOG.warn("Resuming with a changed setting that makes the rest of the run differ from an uninterrupted one:"
                    + " {}", change);
        }
    }

    /** Refuses to resume from {@code checkpoint} when it was written for other training data (its fingerprint). */
    public static void checkData(CheckpointStore.Checkpoint checkpoint, String fingerprint, CheckpointStore store,
                                 String how) {
        if (!checkpoint.fingerprint().equals(fingerprint)) {
            throw new IllegalArgumentException("Cannot resume from " + store.uri() + ": it was written for other"
                    + " training data or another partition count. " + how + "\nCheckpoint:\n"
                    + checkpoint.fingerprint() + "Now:\n" + fingerprint);
        }
    }
}
