package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.spark.config.JobSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous data-parallel mini-batch training on Spark: the driver's loop.
 *
 * <p>Each step: broadcast the current flat weights; every partition computes the gradient sum of
 * its share of the global batch ({@link StepFunction}); the sums are combined by
 * {@link OrderedTreeAggregate} (a deterministic treeAggregate); the driver divides once (with L2),
 * checks that loss and gradient are finite, clips, applies the optimizer at the schedule's rate and
 * destroys the broadcast. Optimizer state never leaves the driver. After each epoch the validation
 * blocks are evaluated with the broadcast weights.
 *
 * <p>With one partition this is exactly {@link io.sparkprop.core.LocalTrainer}; with any partition
 * count, the same seed, data and partitions give bit-identical weights.
 */
public final class DistributedTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);

    /** The trained weights and the per-epoch history. */
    public record Result(double[] params, List<EpochMetrics> history) {
    }

    private final JavaSparkContext sc;
    private final JobSettings settings;
    private final NetworkSpec spec;
    private final Network network;
    private final JavaRDD<DataBlock> train;
    private final long trainRows;
    private final JavaRDD<DataBlock> validation;
    private final int stepsPerEpoch;

    /**
     * @param train      cached training blocks, one per partition
     * @param trainRows  their total row count
     * @param validation cached validation blocks, or {@code null}
     */
    public DistributedTrainer(JavaSparkContext sc, JobSettings settings, JavaRDD<DataBlock> train, long trainRows,
                              JavaRDD<DataBlock> validation) {
        this.sc = sc;
        this.settings = settings;
        this.spec = settings.spec();
        this.network = new Network(spec);
        this.train = train;
        this.trainRows = trainRows;
        this.validation = validation;
        this.stepsPerEpoch = EpochPlan.stepsPerEpoch(trainRows, settings.batchSize());
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Trains from the seeded initial weights; {@code onEpoch} sees each epoch's metrics as they come. */
    public Result train(Consumer<EpochMetrics> onEpoch) {
        return train(WeightInit.initialize(spec, settings.seed()), onEpoch);
    }

    /** Trains from {@code initialParams} (not modified). */
    public Result train(double[] initialParams, Consumer<EpochMetrics> onEpoch) {
        if (initialParams.length != spec.paramCount()) {
            throw new IllegalArgumentException("Network " + spec + " expects " + spec.paramCount()
                    + " parameters but got " + initialParams.length);
        }
        double[] params = initialParams.clone();
        double[] grad = new double[spec.paramCount()];
        Optimizer optimizer = settings.newOptimizer();
        LearningRateSchedule schedule = settings.schedule(stepsPerEpoch);
        int epochs = settings.epochs();
        LOG.info("Training {} ({} parameters) on {} rows in {} partitions: {} epochs of {} steps, batch {}, {}, {}",
                spec, spec.paramCount(), trainRows, train.getNumPartitions(), epochs, stepsPerEpoch,
                settings.batchSize(), optimizer, schedule);
        List<EpochMetrics> history = new ArrayList<>();
        long start = System.nanoTime();
        long globalStep = 0;
        for (int epoch = 0; epoch < epochs; epoch++) {
            long epochStart = System.nanoTime();
            double objectiveSum = 0.0;
            double weightSum = 0.0;
            for (int step = 0; step < stepsPerEpoch; step++) {
                sc.setJobDescription(String.format(Locale.ROOT, "epoch %d/%d · step %d/%d", epoch + 1, epochs, step + 1,
                        stepsPerEpoch));
                GradientAccumulator total = gradient(params, epoch, step, globalStep);
                if (!(total.weightSum() > 0.0)) {
                    globalStep++;
                    continue; // every row of this batch has weight 0
                }
                double objective = total.mean(network, params, settings.l2(), grad);
                double norm = GradientClipping.globalNorm(grad);
                if (!Double.isFinite(objective) || !Double.isFinite(norm)) {
                    throw new IllegalStateException(String.format(Locale.ROOT,
                            "Non-finite %s at epoch %d step %d (global step %d): objective %s, gradient norm %s;"
                                    + " lower train.learning-rate or set train.clip-norm",
                            Double.isFinite(objective) ? "gradient" : "loss", epoch + 1, step + 1, globalStep,
                            objective, norm));
                }
                if (settings.clipNorm() > 0.0) {
                    GradientClipping.clipByGlobalNorm(grad, settings.clipNorm());
                }
                optimizer.step(params, grad, schedule.rate(globalStep));
                globalStep++;
                objectiveSum += objective * total.weightSum();
                weightSum += total.weightSum();
            }
            double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
            EvalSums val = validation == null ? null : evaluate(validation, params, "epoch " + (epoch + 1) + "/" + epochs
                    + " · validation");
            boolean classification = spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY || spec.loss() == Loss.BINARY_CROSS_ENTROPY;
            EpochMetrics metrics = new EpochMetrics(epoch, globalStep, objectiveSum / weightSum,
                    val == null ? Double.NaN : val.meanLoss(),
                    val == null || !classification ? Double.NaN : val.accuracy(),
                    val == null || classification ? Double.NaN : val.rmse(),
                    val == null || classification ? Double.NaN : val.mae(),
                    trainRows / epochSeconds, epochSeconds, (System.nanoTime() - start) / 1e9);
            history.add(metrics);
            onEpoch.accept(metrics);
        }
        sc.setJobDescription(null);
        return new Result(params, Collections.unmodifiableList(history));
    }

    /**
     * The summed gradient of step {@code step} of epoch {@code epoch} over all partitions, under
     * {@code params}: one Spark job. Public for tests and tools that compare it with the core.
     */
    public GradientAccumulator gradient(double[] params, int epoch, int step, long globalStep) {
        Broadcast<double[]> weights = sc.broadcast(params);
        try {
            JavaRDD<GradientAccumulator> partials = train.mapPartitionsWithIndex(
                    new StepFunction(weights, spec, settings.seed(), epoch, step, stepsPerEpoch, globalStep), true);
            return OrderedTreeAggregate.aggregate(partials, GradientAccumulator::merge, settings.aggregationDepth());
        } finally {
            weights.destroy(false);
        }
    }

    /** Validation (or any) metrics of {@code blocks} under {@code params}: one Spark job. */
    public EvalSums evaluate(JavaRDD<DataBlock> blocks, double[] params, String description) {
        return evaluate(sc, spec, blocks, params, description);
    }

    /** Metrics of {@code blocks} under {@code params} for network {@code spec}, merged in partition order. */
    public static EvalSums evaluate(JavaSparkContext sc, NetworkSpec spec, JavaRDD<DataBlock> blocks, double[] params,
                                    String description) {
        sc.setJobDescription(description);
        Broadcast<double[]> weights = sc.broadcast(params);
        try {
            List<EvalSums> parts = blocks.mapPartitions(it -> {
                EvalSums sums = new EvalSums();
                while (it.hasNext()) {
                    sums.add(spec, weights.value(), it.next());
                }
                return List.of(sums).iterator();
            }, true).collect();
            EvalSums total = new EvalSums();
            for (EvalSums part : parts) {
                total.merge(part);
            }
            return total;
        } finally {
            weights.destroy(false);
        }
    }
}
