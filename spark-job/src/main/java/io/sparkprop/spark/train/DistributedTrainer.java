package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.StepRule;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.WeightLayout;
import io.sparkprop.core.WindowPlan;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.OptimizerState;
import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
 * {@link OrderedTreeAggregate} (a deterministic treeAggregate) or, on many executors, by
 * {@link ReduceScatter} in the same order ({@code train.aggregation}: the same bits; in float32 on
 * the wire with {@code train.exchange-precision}, {@link WireArrays}); the driver applies the core's
 * {@link StepRule} to them (divide once with L2, check that loss and gradient are finite, clip,
 * step the optimizer at the schedule's rate) and destroys the broadcast. Optimizer state never
 * leaves the driver. After each epoch the validation blocks are evaluated with the broadcast
 * weights ({@link EvaluationSums} per partition, merged in partition order).
 *
 * <p>With {@code train.local-steps = k > 1} (local SGD) an exchange covers k steps instead: the
 * weights and the optimizer state are broadcast, every partition takes the k steps on its own
 * rows ({@link RoundFunction}: the core's {@link io.sparkprop.core.LocalRound}, under the same
 * {@link StepRule}), and the driver averages the partitions' weights and optimizer state,
 * weighted by their rows' total weight. The optimizer state is averaged too, as Deeplearning4j's
 * parameter averaging does, so momentum and Adam's moments carry over rounds; nothing but the
 * driver's copy persists between rounds, so checkpoints and retries work as in synchronous mode.
 *
 * <p>With one partition this is exactly {@link io.sparkprop.core.LocalTrainer} (for any k); with any
 * partition count, the same seed, data, partitions and k give bit-identical weights.
 *
 * <p>With sparse input ({@code data.sparse = true}) the tasks and the driver's loop hold the first
 * layer feature-major ({@link WeightLayout#IN_OUT}: a feature's weights are one row), which computes
 * the same bits as the model's layout; {@code train.sparse-update = lazy} then updates only the rows
 * a step touches ({@link io.sparkprop.core.SparseUpdate}). Everything that leaves the trainer
 * (results, checkpoints, {@link #gradient}) and everything it is given (start states,
 * {@link #evaluate}'s weights) is in the model's layout, {@link WeightLayout#OUT_IN}.
 *
 * <p>Every exchange is measured ({@link StepTimes}): its phase times and the driver's CPU time, and,
 * through an {@link ExchangeListener} registered on the SparkContext while {@link #train} runs, the
 * bytes into and out of the driver, shuffle bytes, stages, tasks and the tasks' time split. The
 * exchange's jobs carry its id in the local property {@code sparkprop.exchange}; at each epoch's end
 * the trainer waits (boundedly) for the listener bus to deliver their events, and the epoch's
 * {@link EpochMetrics} holds the medians ({@link ExchangeCosts}).
 */
public final class DistributedTrainer {

    /** The local property {@code SparkContext.setJobDescription} sets; a user's is restored after our jobs. */
    private static final String JOB_DESCRIPTION = "spark.job.description";
    /**
     * How long an epoch's end waits for the listener bus to deliver the events of its exchanges
     * (usually there already: the validation job runs in between); the figures of those still
     * missing are then left out.
     */
    private static final long EVENTS_TIMEOUT_MILLIS = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);

    /**
     * Test hook: a Spark conf key (or JVM system property) {@code STEP:MILLIS}; after the exchange
     * (a synchronous step or a local-SGD round) that runs global step {@code STEP}, the driver
     * sleeps {@code MILLIS} ms before going on, so that the executors sit idle between two
     * exchanges and dynamic allocation can remove them ({@code scripts/cluster-test-elastic}).
     * Nothing else changes: the next exchange runs the same tasks on whatever executors there are.
     */
    static final String PAUSE_AFTER_STEP = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX + "pauseAfterStep";

    /** Rows per forward pass of evaluation; the loss sums depend on it (their rounding), so it is fixed. */
    private static final int EVALUATION_CHUNK = 512;

    /**
     * The trained weights and the per-epoch history. With early stopping the weights are the best
     * epoch's, {@code bestEpoch} says which (0-based; -1 without early stopping) and
     * {@code stoppedEarly} whether training ended before the last epoch.
     */
    public record Result(double[] params, List<EpochMetrics> history, int bestEpoch, boolean stoppedEarly) {

        public Result(double[] params, List<EpochMetrics> history) {
            this(params, history, -1, false);
        }
    }

    private final JavaSparkContext sc;
    private final TrainingConfig settings;
    /** The model's spec: the layout of every array the trainer is given or returns. */
    private final NetworkSpec spec;
    /** The spec the tasks and the loop compute with: {@link #spec}, its first layer IN_OUT for sparse input. */
    private final NetworkSpec trainingSpec;
    /** The network the driver needs: the objective's L2 term and validation (double, no dropout). */
    private final Network network;
    /** The network the tasks train: the config's precision and dropout. */
    private final Network trainingNetwork;
    private final JavaRDD<DataBlock> train;
    private final long trainRows;
    private final JavaRDD<DataBlock> validation;
    /** {@code train.shuffle = window}: the training chunks' layout; null for one block per partition. */
    private final Chunked chunked;
    /** With {@link #chunked}: per partition, its non-empty chunks' ids and their rows, fixed for the run. */
    private final int[][] chunkIds;
    private final int[][] chunkRows;
    private final int stepsPerEpoch;
    /** {@code train.aggregation} resolved for this cluster and network: tree or reduce-scatter. */
    private final TrainingConfig.Aggregation aggregation;
    private final StepTimes stepTimes = new StepTimes();
    private long lastBroadcastNanos;
    private long lastJobNanos;
    /** While {@link #train} runs: the listener that adds up each exchange's Spark events; null otherwise. */
    private ExchangeListener exchanges;
    /** The running exchange's id ({@link ExchangeListener#open}); 0 outside an exchange. */
    private long exchange;
    /** The driver's process CPU time when the running exchange began ({@link StepTimes#processCpuNanos}). */
    private long exchangeCpuStart;

    /**
     * @param train      cached training blocks, one per partition
     * @param trainRows  their total row count
     * @param validation cached validation blocks, or {@code null}
     */
    public DistributedTrainer(JavaSparkContext sc, TrainingConfig settings, JavaRDD<DataBlock> train, long trainRows,
                              JavaRDD<DataBlock> validation) {
        this(sc, settings, train, trainRows, validation, null);
    }

    /**
     * Which training partition each cached chunk belongs to, for {@code train.shuffle = window}
     * ({@code docs/out-of-core.md}).
     *
     * @param partitionStarts {@code (P + 1)}: partition {@code p}'s chunks are the chunk RDD's
     *                        partitions {@code [partitionStarts[p], partitionStarts[p + 1])}
     * @param chunkRows       {@code (Σ C_p)}: each chunk's rows (0 for a chunk the hold-out emptied)
     */
    public record Chunked(int[] partitionStarts, int[] chunkRows) implements java.io.Serializable {

        public Chunked {
            if (partitionStarts.length < 2 || partitionStarts[0] != 0
                    || partitionStarts[partitionStarts.length - 1] != chunkRows.length) {
                throw new IllegalArgumentException("Partition starts " + java.util.Arrays.toString(partitionStarts)
                        + " do not cover " + chunkRows.length + " chunks");
            }
        }

        /** {@code P}. */
        public int partitions() {
            return partitionStarts.length - 1;
        }

        /** Partition {@code p}'s non-empty chunks' ids, in chunk order; the trainer keeps them ({@code chunkIds}). */
        int[] ids(int p) {
            return java.util.stream.IntStream.range(partitionStarts[p], partitionStarts[p + 1])
                    .filter(g -> chunkRows[g] > 0).toArray();
        }

        /** Partition {@code p}'s non-empty chunks' row counts, in chunk order. */
        int[] rows(int p) {
            return java.util.Arrays.stream(ids(p)).map(g -> chunkRows[g]).toArray();
        }
    }

    /**
     * @param train      cached training blocks, one per partition; or, with {@code chunked}, one per chunk
     * @param trainRows  their total row count
     * @param validation cached validation blocks (or chunks), or {@code null}
     * @param chunked    {@code train.shuffle = window}: the chunks' layout; null for one block per partition
     * @throws IllegalArgumentException when {@code chunked} is given and does not match
     *                                  {@code train}'s partitions or {@code train.shuffle}
     */
    public DistributedTrainer(JavaSparkContext sc, TrainingConfig settings, JavaRDD<DataBlock> train, long trainRows,
                              JavaRDD<DataBlock> validation, Chunked chunked) {
        this.sc = sc;
        this.settings = settings;
        this.spec = settings.spec();
        this.trainingSpec = spec.withFirstLayerLayout(settings.data().sparse() ? WeightLayout.IN_OUT
                : WeightLayout.OUT_IN);
        this.network = new Network(trainingSpec);
        this.trainingNetwork = new Network(trainingSpec, settings.optimization().precision(),
                settings.model().dropout());
        this.train = train;
        this.trainRows = trainRows;
        this.validation = validation;
        boolean window = settings.exchange().shuffle() == TrainingConfig.Shuffle.WINDOW;
        if (window != (chunked != null)) {
            throw new IllegalArgumentException(window ? "train.shuffle = window needs the training data as chunks"
                    : "Chunked training data needs train.shuffle = window");
        }
        if (chunked != null && chunked.chunkRows().length != train.getNumPartitions()) {
            throw new IllegalArgumentException("The layout counts " + chunked.chunkRows().length + " chunks but the"
                    + " training RDD has " + train.getNumPartitions() + " partitions");
        }
        this.chunked = chunked;
        int partitions = chunked == null ? 0 : chunked.partitions();
        this.chunkIds = new int[partitions][];
        this.chunkRows = new int[partitions][];
        for (int p = 0; p < partitions; p++) {
            chunkIds[p] = chunked.ids(p);
            chunkRows[p] = chunked.rows(p);
        }
        this.stepsPerEpoch = EpochPlan.stepsPerEpoch(trainRows, settings.optimization().batchSize());
        this.aggregation = resolve(settings.exchange().aggregation(), sc.isLocal(), partitions(),
                settings.exchange().aggregationDepth(), resultBytes(settings),
                settings.optimization().sparseUpdate() == io.sparkprop.core.SparseUpdate.LAZY);
    }

    /** Results under this many bytes go through the tree under {@code train.aggregation = auto}. */
    static final long AUTO_MIN_RESULT_BYTES = 1L << 20;

    /**
     * {@code train.aggregation = auto}'s choice: the tree in local mode (the driver is the
     * executor: no network to save, and a shuffle would add disk writes), while the tree brings the
     * driver at most 2 results, for results under {@value #AUTO_MIN_RESULT_BYTES} bytes, and for
     * lazy updates (their results hold the touched rows, merged row-sparse up the tree; the
     * reduce-scatter cuts its slices from the dense form, the whole model's size); the
     * reduce-scatter otherwise. Both give the same bits, so this may depend on the cluster.
     *
     * @param resultBytes one partition's result: {@code 8N} for a gradient, {@code 8N(1 + slots)} for
     *                    a local-SGD round
     * @param lazy        {@code train.sparse-update = lazy}
     */
    static TrainingConfig.Aggregation resolve(TrainingConfig.Aggregation configured, boolean local, int partitions,
                                              int depth, long resultBytes, boolean lazy) {
        if (configured != TrainingConfig.Aggregation.AUTO) {
            return configured;
        }
        boolean scatter = !local && !lazy && OrderedTreeAggregate.driverResults(partitions, depth) > 2
                && resultBytes >= AUTO_MIN_RESULT_BYTES;
        return scatter ? TrainingConfig.Aggregation.REDUCE_SCATTER : TrainingConfig.Aggregation.TREE;
    }

    /**
     * One partition's result in bytes: the gradient sums ({@code 8N}), or a local-SGD round's
     * weights and optimizer state ({@code 8N(1 + slots)}: the optimizer's own count of state
     * arrays, Adam's two moments, momentum's velocity, SGD's none); 4 bytes a value instead of 8
     * with {@code train.exchange-precision = float32}.
     */
    public static long resultBytes(TrainingConfig settings) {
        NetworkSpec spec = settings.spec();
        int slots = settings.exchange().localSteps() > 1 ? settings.optimization().optimizerFactory(spec).slots() : 0;
        int bytes = settings.exchange().wirePrecision() == io.sparkprop.core.Precision.FLOAT32 ? 4 : 8;
        return (long) bytes * spec.paramCount() * (1 + slots);
    }

    /** How this trainer sums the partitions' results: tree or reduce-scatter, {@code train.aggregation} resolved. */
    public TrainingConfig.Aggregation aggregation() {
        return aggregation;
    }

    /**
     * {@code f} on every partition of {@code input}, the results summed by {@link #aggregation}:
     * the same bits either way.
     */
    private <T, U extends Wire<U>> U exchange(JavaRDD<T> input, OrderedTreeAggregate.PartitionFunction<T, U> f,
                                              ReduceScatter.Slicing<U> slicing, OrderedTreeAggregate.Merge<U> merge) {
        int depth = settings.exchange().aggregationDepth();
        OrderedTreeAggregate.PartitionFunction<T, U> shipped = float32Wire() ? compacted(f) : f;
        U total = aggregation == TrainingConfig.Aggregation.REDUCE_SCATTER
                ? ReduceScatter.aggregate(input, shipped, slicing, merge, depth,
                        ReduceScatter.slices(input.getNumPartitions(), sc.defaultParallelism()))
                : OrderedTreeAggregate.aggregate(input, shipped, merge, depth);
        return total.expand();
    }

    /** {@code f} whose result is rounded to float before it leaves the task; static, so it captures no trainer. */
    private static <T, U extends Wire<U>> OrderedTreeAggregate.PartitionFunction<T, U> compacted(
            OrderedTreeAggregate.PartitionFunction<T, U> f) {
        return (partition, rows) -> f.apply(partition, rows).compact();
    }

    /**
     * Broadcasts an exchange's {@code values} (weights, then optimizer slots) in the wire format,
     * and tells the running exchange's listener which broadcast is its weights.
     */
    private Broadcast<WireArrays> broadcast(double[][] values) {
        Broadcast<WireArrays> broadcast = sc.broadcast(WireArrays.of(values, float32Wire()));
        if (exchanges != null) {
            exchanges.broadcast(exchange, broadcast.id());
        }
        return broadcast;
    }

    /** {@code train.exchange-precision = float32}: exchanges ship floats. */
    private boolean float32Wire() {
        return settings.exchange().wirePrecision() == io.sparkprop.core.Precision.FLOAT32;
    }

    /** A partition's result that can travel in float32 ({@link TimedGradient}, {@link RoundResult}). */
    interface Wire<U> {
        /** Rounds the result's arrays to float for the wire; returns this. */
        U compact();

        /** Widens them back to double (exact); a no-op unless compact; returns this. */
        U expand();
    }

    /**
     * Window mode's log line (chunks, rows a chunk, rows a window) and a warning when a window
     * holds fewer than 10 of a partition's step slices ({@code docs/out-of-core.md}, "How to
     * choose"): its rows are then used up within a few steps, and consecutive batches come from
     * few chunks.
     */
    private void logWindows(int partitions) {
        int window = settings.exchange().shuffleBuffer();
        int chunks = 0;
        int largestChunk = 0;
        long largestWindow = 0;
        int largestSlice = 0;
        boolean small = false;
        for (int p = 0; p < partitions; p++) {
            int[] rows = chunkRows[p];
            long n = java.util.Arrays.stream(rows).asLongStream().sum();
            int biggest = java.util.Arrays.stream(rows).max().orElse(0);
            int slice = EpochPlan.maxSlice((int) n, stepsPerEpoch);
            chunks += rows.length;
            largestChunk = Math.max(largestChunk, biggest);
            largestWindow = Math.max(largestWindow, Math.min(n, (long) window * biggest));
            largestSlice = Math.max(largestSlice, slice);
            // Too small: a window that is not the whole partition and holds fewer than 10 slices.
            small |= (long) window * biggest < n && (long) window * biggest < 10L * slice;
        }
        LOG.info("Sample order: train.shuffle = window over {} chunks of up to {} rows; a shuffle buffer of {} chunks"
                        + " (windows of up to {} rows, decoded one per partition on its executor:"
                        + " docs/out-of-core.md, \"Memory per executor\")", chunks, largestChunk, window, largestWindow);
        if (small) {
            LOG.warn("A window holds at most {} rows, fewer than 10 of a partition's {}-row step slices: its rows are"
                            + " used up within a few steps. Raise train.shuffle-buffer ({}) or data.chunk-bytes ({}).",
                    largestWindow, largestSlice, window, settings.data().chunkBytes());
        }
    }

    /** {@code P}: the training partitions (with chunks, not the chunk RDD's partitions). */
    public int partitions() {
        return chunked == null ? train.getNumPartitions() : chunked.partitions();
    }

    /**
     * The input of steps {@code [firstStep, firstStep + steps)} of {@code epoch} in window mode: a
     * {@link ChunkRoundRDD} whose partition {@code p} depends on the chunks of the windows its
     * positions overlap ({@link WindowPlan#windowChunks}).
     */
    private JavaRDD<ChunkRoundRDD.ChunkReader> chunkInput(int epoch, int firstStep, int steps) {
        int partitions = chunked.partitions();
        int[][] dependsOn = new int[partitions][];
        long seed = settings.optimization().seed();
        int window = settings.exchange().shuffleBuffer();
        for (int p = 0; p < partitions; p++) {
            WindowPlan plan = WindowPlan.of(seed, epoch, p, chunkRows[p], window);
            int from = EpochPlan.sliceStart(firstStep, plan.rows(), stepsPerEpoch);
            int to = EpochPlan.sliceStart(firstStep + steps, plan.rows(), stepsPerEpoch);
            int[] local = plan.windowChunks(from, to);
            dependsOn[p] = new int[local.length];
            for (int i = 0; i < local.length; i++) {
                dependsOn[p][i] = chunkIds[p][local[i]];
            }
        }
        return new ChunkRoundRDD(train.rdd(), chunkIds, chunkRows, dependsOn).toJavaRDD();
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** The classes this package ships between JVMs, for {@link io.sparkprop.spark.SparkpropKryoRegistrator}. */
    public static List<Class<?>> kryoClasses() {
        return List.of(TimedGradient.class, RoundResult.class, WireArrays.class, float[].class, float[][].class);
    }

    /** Where the time of this trainer's steps went (all steps so far, of every call to train). */
    public StepTimes stepTimes() {
        return stepTimes;
    }

    /** Sees the loop's position after every synchronous step or local-SGD round. */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param step         steps of {@code epoch} done so far (1 to {@code stepsPerEpoch})
         * @param epochSeconds seconds since the epoch (or its resumed part) began
         */
        void step(int epoch, int epochs, int step, int stepsPerEpoch, double epochSeconds);
    }

    private Progress progress = (epoch, epochs, step, steps, seconds) -> { };

    /** Installs {@code progress}, called after every step or round of later {@link #train} calls. */
    public void setProgress(Progress progress) {
        this.progress = java.util.Objects.requireNonNull(progress);
    }

    /** Where a run keeps its checkpoints, as the loop sees it. */
    public interface Checkpoints {
        /**
         * Persists {@code state}. Its weights and optimizer slots are the loop's own arrays, laid out
         * in the model's layout for the call only (a wide model's state is gigabytes, and a copy of it
         * would not fit beside it): read them during the call, and copy what is kept after it.
         */
        void save(TrainingState state);

        /** The newest saved state, reloaded into arrays of its own (the loop takes them), or empty when none was saved. */
        Optional<TrainingState> latest();
    }

    /** No checkpoints: rollback starts again from the initial state. */
    public static final Checkpoints NO_CHECKPOINTS = new Checkpoints() {
        @Override
        public void save(TrainingState state) {
        }

        @Override
        public Optional<TrainingState> latest() {
            return Optional.empty();
        }
    };

    /** Trains from the seeded initial weights; {@code onEpoch} sees each epoch's metrics as they come. */
    public Result train(Consumer<EpochMetrics> onEpoch) {
        return train(initialState(), NO_CHECKPOINTS, onEpoch);
    }

    /** The state before the first step: the seeded initial weights and a fresh optimizer. */
    public TrainingState initialState() {
        return initialState(initialParams());
    }

    /** The seeded initial weights ({@code train.seed}), in the model's layout: a new array each call. */
    public double[] initialParams() {
        return WeightInit.initialize(spec, settings.optimization().seed());
    }

    /**
     * The state before the first step from {@code params} (kept, not copied) and a fresh optimizer
     * (its zero slots themselves, not copies of them: a wide model's Adam state is gigabytes).
     */
    public TrainingState initialState(double[] params) {
        Optimizer fresh = settings.optimization().newOptimizer(settings.spec());
        return new TrainingState(0, 0, 0, params, new OptimizerState(fresh.kind(), fresh.steps(), fresh.slots()), 0, 0,
                1.0, 0, 0, 0, List.of(), new double[0]);
    }

    /**
     * Trains from {@code start} (a fresh or a resumed state, not modified: the loop works on a copy)
     * to the end of the last epoch; {@link #train(TrainingState, Supplier, Checkpoints, Consumer)}.
     */
    public Result train(TrainingState start, Checkpoints checkpoints, Consumer<EpochMetrics> onEpoch) {
        return train(start.copy(), start::copy, checkpoints, onEpoch);
    }

    /**
     * Trains from {@code start} to the end of the last epoch, checkpointing every {@code
     * checkpoint.every-steps} steps and at each epoch's end. Resuming from a checkpoint continues
     * bit-exactly where the saved run was. The Spark job description the caller had set is restored
     * at the end, as it is after {@link #evaluate}.
     *
     * <p>The loop TAKES {@code start}'s arrays (weights, optimizer slots): it lays them out in place
     * and updates them, so the caller must not use {@code start} afterwards. No second copy of a
     * wide model's state is made (a 2^20 x 64 model's weights and Adam moments are 1.6 GB).
     *
     * @param origin gives the run's start again, in arrays of its own, for a rollback before any
     *               checkpoint was written ({@code train.non-finite = rollback}); not called otherwise
     */
    public Result train(TrainingState start, Supplier<TrainingState> origin, Checkpoints checkpoints,
                        Consumer<EpochMetrics> onEpoch) {
        String description = sc.getLocalProperty(JOB_DESCRIPTION);
        String exchangeProperty = sc.getLocalProperty(ExchangeListener.PROPERTY);
        ExchangeListener listener = new ExchangeListener();
        sc.sc().addSparkListener(listener);
        exchanges = listener;
        try {
            return trainFrom(start, origin, checkpoints, onEpoch);
        } finally {
            rowShipping.drop();
            // The lazy rounds' working sets in this JVM (the driver's, which are the executors' in
            // local mode) are not needed after the run; a cluster's executors drop theirs under
            // memory pressure (softly held) or with the application.
            ExecutorCache.clearWorkingSets();
            exchanges = null;
            exchange = 0;
            sc.sc().removeSparkListener(listener);
            sc.setLocalProperty(ExchangeListener.PROPERTY, exchangeProperty);
            sc.setJobDescription(description);
        }
    }

    private Result trainFrom(TrainingState start, Supplier<TrainingState> origin, Checkpoints checkpoints,
                             Consumer<EpochMetrics> onEpoch) {
        int epochs = settings.optimization().epochs();
        Optimizer optimizer = settings.optimization().newOptimizer(settings.spec());
        LearningRateSchedule schedule = settings.optimization().schedule(stepsPerEpoch);
        LOG.info("Training {}{} ({} parameters) on {} rows in {} partitions: {} {} of {} steps, batch {}, {}, {}, {}{}",
                spec, trainingNetwork.dropout().isActive() ? " with " + trainingNetwork.dropout() : "",
                spec.paramCount(), trainRows, partitions(), epochs, epochs == 1 ? "epoch" : "epochs", stepsPerEpoch,
                settings.optimization().batchSize(), settings.exchange().localSteps() == 1 ? "synchronous SGD"
                        : "local SGD (" + settings.exchange().localSteps() + " local steps per exchange)", optimizer, schedule,
                start.globalStep() > 0
                        ? String.format(Locale.ROOT, "; resuming at epoch %d step %d (global step %d)", start.epoch() + 1,
                        start.step() + 1, start.globalStep()) : "");
        int partitions = partitions();
        LOG.info("Summing the partitions' results by {} (train.aggregation = {}; each result {}{} MiB on the wire,"
                        + " depth {})", aggregation == TrainingConfig.Aggregation.TREE ? "a partition-ordered tree"
                        : "a reduce-scatter over " + ReduceScatter.slices(partitions, sc.defaultParallelism())
                        + " parameter slices (one per task slot, at most one per partition)",
                settings.exchange().aggregation().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                settings.optimization().sparseUpdate() == io.sparkprop.core.SparseUpdate.LAZY
                        ? "the touched rows of up to " : "",
                String.format(Locale.ROOT, "%.1f", resultBytes(settings) / 1048576.0),
                settings.exchange().aggregationDepth());
        if (chunked != null) {
            logWindows(partitions);
        }
        if (settings.exchange().localSteps() > 1 && settings.optimization().batchSize() < 16L * partitions) {
            LOG.warn("Local SGD with train.batch-size {} over {} partitions: each local step sees about {} rows;"
                    + " raise train.batch-size to at least {} (16 rows per partition) for useful local steps",
                    settings.optimization().batchSize(), partitions, Math.max(1, settings.optimization().batchSize() / partitions), 16 * partitions);
        }
        EarlyStopping early = EarlyStopping.of(settings.stopping());
        if (early != null && early.metric() != EarlyStopping.Metric.TRAIN_LOSS && validation == null) {
            throw new IllegalArgumentException("train.early-stopping.metric=" + early.metric().key() + " needs"
                    + " validation data: set data.validation or data.validation-fraction");
        }
        Loop loop = new Loop(start, origin, optimizer, early);
        StepRule rule = new StepRule(network, settings.optimization().l2(), settings.optimization().clipNorm(),
                settings.optimization().sparseUpdate());
        int everySteps = settings.checkpoints().everySteps();
        int localSteps = settings.exchange().localSteps();
        boolean stoppedEarly = early != null && early.shouldStop();
        long[] pause = pauseAfterStep();
        while (loop.epoch < epochs && !stoppedEarly) {
            long epochStart = System.nanoTime();
            int epochFirstStep = stepTimes.count();
            int firstStepOfThisCall = loop.step; // > 0 when resumed mid-epoch
            boolean rolledBack = false;
            while (loop.step < stepsPerEpoch) {
                int k = Math.min(localSteps, stepsPerEpoch - loop.step);
                sc.setJobDescription(String.format(Locale.ROOT, k == 1 ? "epoch %d/%d · step %d/%d"
                                : "epoch %d/%d · steps %d-%d/%d (local SGD)", loop.epoch + 1, epochs, loop.step + 1,
                        k == 1 ? stepsPerEpoch : loop.step + k, stepsPerEpoch));
                long before = loop.globalStep;
                exchange = exchanges.open();
                sc.setLocalProperty(ExchangeListener.PROPERTY, Long.toString(exchange));
                exchangeCpuStart = StepTimes.processCpuNanos();
                boolean ok = localSteps == 1 ? synchronousStep(loop, optimizer, schedule, rule)
                        : localRound(loop, k, optimizer, schedule);
                sc.setLocalProperty(ExchangeListener.PROPERTY, null);
                exchange = 0;
                if (!ok && handleNonFinite(loop, loop.nonFiniteWhat, checkpoints)) {
                    rolledBack = true;
                    break;
                }
                loop.step += k;
                loop.globalStep = before + k;
                progress.step(loop.epoch, epochs, loop.step, stepsPerEpoch, (System.nanoTime() - epochStart) / 1e9);
                if (everySteps > 0 && before / everySteps != loop.globalStep / everySteps
                        && loop.step < stepsPerEpoch) {
                    requireFiniteWeights(loop, checkpoints);
                    loop.rollbacks = 0;
                    loop.save(checkpoints);
                }
                if (pause != null && before <= pause[0] && pause[0] < loop.globalStep) {
                    LOG.info("Test hook {}: pausing {} ms after global step {}", PAUSE_AFTER_STEP, pause[1], pause[0]);
                    sleep(pause[1]);
                }
            }
            if (rolledBack) {
                continue;
            }
            double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
            requireFiniteWeights(loop, checkpoints);
            double trainLoss = loop.objectiveSum / loop.weightSum;
            requireFiniteLoss(loop, "training", trainLoss, checkpoints);
            EvaluationSums val = validation == null ? null : evaluate(sc, trainingSpec, validation, loop.params,
                    "epoch " + (loop.epoch + 1) + "/" + epochs + " · validation");
            if (val != null) {
                requireFiniteLoss(loop, "validation", val.meanLoss(), checkpoints);
            }
            attachExchangeFigures(epochFirstStep);
            boolean classification = spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY || spec.loss() == Loss.BINARY_CROSS_ENTROPY;
            EpochMetrics metrics = new EpochMetrics(loop.epoch, loop.globalStep, trainLoss,
                    val == null ? Double.NaN : val.meanLoss(),
                    val == null || !classification ? Double.NaN : val.accuracy(),
                    val == null || classification ? Double.NaN : val.rmse(),
                    val == null || classification ? Double.NaN : val.mae(),
                    trainRows * ((double) (stepsPerEpoch - firstStepOfThisCall) / stepsPerEpoch) / epochSeconds,
                    epochSeconds, loop.elapsed(), stepTimes.summarySince(epochFirstStep));
            loop.stateHistory.add(metrics);
            loop.history.add(metrics);
            if (early != null && early.observe(metrics)) {
                loop.bestParams = loop.modelCopy(loop.params);
            }
            onEpoch.accept(metrics);
            LOG.info("Epoch {} step times, {}", loop.epoch + 1, metrics.stepTimes());
            loop.epoch++;
            loop.step = 0;
            loop.objectiveSum = 0;
            loop.weightSum = 0;
            loop.rollbacks = 0;
            loop.save(checkpoints);
            if (early != null && early.shouldStop() && loop.epoch < epochs) {
                stoppedEarly = true;
                int since = loop.epoch - 1 - early.bestEpoch();
                LOG.info("Early stopping after epoch {}: {} has not improved on epoch {}'s {} for {} {}", loop.epoch,
                        early.metric().key(), early.bestEpoch() + 1, early.best(), since, since == 1 ? "epoch" : "epochs");
            }
        }
        if (early != null && loop.bestParams.length > 0) {
            LOG.info("Keeping the weights of epoch {}, the best by {} ({})", early.bestEpoch() + 1, early.metric().key(),
                    early.best());
            return new Result(loop.bestParams, Collections.unmodifiableList(loop.history), early.bestEpoch(),
                    stoppedEarly);
        }
        trainingSpec.relayoutInPlace(loop.params, spec); // the loop is done with its arrays
        return new Result(loop.params, Collections.unmodifiableList(loop.history));
    }

    /** {@code values} (parameters, or an optimizer slot) in the model's layout, from the training layout; may be {@code values}. */
    private double[] toModel(double[] values) {
        return trainingSpec.relayout(values, spec);
    }

    /** {@code values} in the training layout, from the model's; may be {@code values}. */
    private double[] toTraining(double[] values) {
        return spec.relayout(values, trainingSpec);
    }

    /** The {@link #PAUSE_AFTER_STEP} test hook's {@code {step, millis}}, or null when it is not set. */
    private long[] pauseAfterStep() {
        String value = System.getProperty(PAUSE_AFTER_STEP, sc.getConf().get(PAUSE_AFTER_STEP, ""));
        if (value.isEmpty()) {
            return null;
        }
        String[] parts = value.split(":");
        if (parts.length == 2 && parts[0].strip().matches("\\d{1,18}") && parts[1].strip().matches("\\d{1,18}")) {
            return new long[] {Long.parseLong(parts[0].strip()), Long.parseLong(parts[1].strip())};
        }
        throw new IllegalArgumentException("Expected " + PAUSE_AFTER_STEP + " = STEP:MILLIS but got '" + value + "'");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted in the " + PAUSE_AFTER_STEP + " test hook's pause", e);
        }
    }

    /**
     * Gives the exchanges recorded from {@code from} on the figures of their Spark events, once the
     * listener bus has delivered them (at most {@link #EVENTS_TIMEOUT_MILLIS}), then forgets them in
     * the listener. A figure whose events did not arrive is left out of the epoch's medians.
     */
    private void attachExchangeFigures(int from) {
        long[] ids = stepTimes.exchangesSince(from);
        if (!exchanges.await(ids, EVENTS_TIMEOUT_MILLIS)) {
            LOG.warn("Spark's listener bus did not deliver the events of every exchange within {} ms: the epoch's"
                    + " per-exchange bytes, stages and tasks leave those exchanges out", EVENTS_TIMEOUT_MILLIS);
        }
        stepTimes.attach(from, exchanges::figures);
        exchanges.clear();
    }

    /** Records the exchange that just ended: its phases and the driver's CPU time since it began. */
    private void recordExchange(long broadcastNanos, long jobNanos, long computeNanos, long updateNanos) {
        long cpu = StepTimes.processCpuNanos();
        stepTimes.record(exchange, broadcastNanos, jobNanos, computeNanos, updateNanos,
                cpu < 0 || exchangeCpuStart < 0 ? -1 : cpu - exchangeCpuStart);
    }

    /**
     * One synchronous step at the loop's position: the global batch's gradient from every
     * partition, then the driver's update ({@code rule} on the merged sums). Returns false, with
     * {@code loop.nonFiniteWhat} set, when the loss or gradient is not finite (nothing is updated).
     * A batch whose rows all have weight 0 changes nothing. Advances nothing: the caller does.
     */
    private boolean synchronousStep(Loop loop, Optimizer optimizer, LearningRateSchedule schedule, StepRule rule) {
        boolean pull = settings.optimization().sparseUpdate() == io.sparkprop.core.SparseUpdate.LAZY
                && rowShipping.pulls();
        TimedGradient timed = timedGradient(loop.params, loop.epoch, loop.step, loop.globalStep, pull);
        long updateStart = System.nanoTime();
        GradientAccumulator total = timed.isRowSparse() ? lazySums.of(timed) : timed.gradient;
        switch (rule.apply(total, loop.params, optimizer, loop.learningRateScale * schedule.rate(loop.globalStep))) {
            case NOTHING_TO_LEARN -> {
                return true; // every row of this batch has weight 0
            }
            case NON_FINITE -> {
                loop.nonFiniteWhat = String.format(Locale.ROOT, "Non-finite %s at epoch %d step %d (global step %d):"
                                + " objective %s, gradient norm %s", rule.nonFiniteQuantity(), loop.epoch + 1,
                        loop.step + 1, loop.globalStep, rule.objective(), rule.gradientNorm());
                return false;
            }
            case APPLIED -> {
                loop.consecutiveSkips = 0;
                recordExchange(lastBroadcastNanos, lastJobNanos, timed.computeNanos, System.nanoTime() - updateStart);
                loop.objectiveSum += rule.objective() * total.weightSum();
                loop.weightSum += total.weightSum();
                return true;
            }
            default -> throw new AssertionError();
        }
    }

    /**
     * One local-SGD round of {@code k} steps at the loop's position ({@link RoundFunction} on every
     * partition), then the weights and optimizer state become the partitions' averages weighted by
     * their rows' total weight. Returns false, with {@code loop.nonFiniteWhat} set, when any
     * partition met a non-finite loss or gradient (nothing is updated).
     */
    private boolean localRound(Loop loop, int k, Optimizer optimizer, LearningRateSchedule schedule) {
        boolean lazy = settings.optimization().sparseUpdate() == io.sparkprop.core.SparseUpdate.LAZY;
        // A lazy round reads the optimizer's own arrays (the broadcast serializes them now, and the
        // round's change is added to them in place afterwards); a dense one copies them.
        OptimizerState state = lazy ? new OptimizerState(optimizer.kind(), optimizer.steps(), optimizer.slots())
                : optimizer.state();
        double[][] values = new double[1 + state.slots().length][];
        values[0] = loop.params;
        System.arraycopy(state.slots(), 0, values, 1, state.slots().length);
        double[] rates = new double[k];
        for (int j = 0; j < k; j++) {
            rates[j] = loop.learningRateScale * schedule.rate(loop.globalStep + j);
        }
        long start = System.nanoTime();
        // Dense: everything. Lazy over cached blocks: a pull of the rows the round uses; over chunks
        // (whose rows cannot be named ahead): the long-lived base and this round's rows changed since it.
        boolean pull = lazy && rowShipping.pulls();
        Broadcast<WireArrays> broadcast = !lazy ? broadcast(values) : pull ? null : rowShipping.base(values);
        Broadcast<io.sparkprop.core.IndexedRows> update = !lazy ? null
                : pull ? rowShipping.pull(values, loop.epoch, loop.step) : rowShipping.update(values);
        long broadcastDone = System.nanoTime();
        RoundResult round;
        try {
            TrainingConfig.Optimization optimization = settings.optimization();
            round = chunked == null
                    ? exchange(train, new RoundFunction<>(broadcast, trainingNetwork,
                            optimization.optimizerFactory(trainingSpec), state.kind(), state.steps(),
                            optimization.seed(), loop.epoch, loop.step, stepsPerEpoch, loop.globalStep, rates,
                            optimization.l2(), trainRows, optimization.clipNorm(), PartitionRows.BLOCKS,
                            optimization.sparseUpdate(), update), RoundResult.SLICING, RoundResult::merge)
                    : exchange(chunkInput(loop.epoch, loop.step, k), new RoundFunction<>(broadcast,
                            trainingNetwork, optimization.optimizerFactory(trainingSpec), state.kind(),
                            state.steps(), optimization.seed(), loop.epoch, loop.step, stepsPerEpoch, loop.globalStep,
                            rates, optimization.l2(), trainRows, optimization.clipNorm(),
                            new PartitionRows.Windows(settings.exchange().shuffleBuffer()),
                            optimization.sparseUpdate(), update), RoundResult.SLICING, RoundResult::merge);
        } finally {
            if (update != null) {
                update.destroy(false);
            } else {
                broadcast.destroy(false);
            }
        }
        if (lazy) {
            // The round's rows may change in the driver's arrays: the next update holds them (a round
            // the driver does not apply leaves them as they were, and shipping them costs little).
            rowShipping.changed(round.touched);
        }
        long updateStart = System.nanoTime();
        if (round.nonFinite != null) {
            loop.nonFiniteWhat = round.nonFinite;
            return false;
        }
        if (!(round.weightSum > 0.0)) {
            return true; // every row of the round has weight 0
        }
        if (lazy) {
            if (!applyLazyRound(loop, k, optimizer, state, values, round)) {
                return false;
            }
            recordExchange(broadcastDone - start, updateStart - broadcastDone, round.computeNanos,
                    System.nanoTime() - updateStart);
            return true;
        }
        double[][] average = round.average();
        double objective = round.objectiveSum / round.weightSum;
        if (!Double.isFinite(objective) || !allFinite(average)) {
            loop.nonFiniteWhat = String.format(Locale.ROOT, "Non-finite %s after the local-SGD round at epoch %d"
                            + " steps %d-%d (global steps %d-%d): mean objective %s",
                    Double.isFinite(objective) ? "weights" : "loss", loop.epoch + 1, loop.step + 1, loop.step + k,
                    loop.globalStep, loop.globalStep + k - 1, objective);
            return false;
        }
        loop.consecutiveSkips = 0;
        loop.params = average[0];
        double[][] slots = new double[average.length - 1][];
        System.arraycopy(average, 1, slots, 0, slots.length);
        optimizer.restore(new OptimizerState(state.kind(), state.steps() + k, slots));
        recordExchange(broadcastDone - start, updateStart - broadcastDone, round.computeNanos,
                System.nanoTime() - updateStart);
        loop.objectiveSum += round.objectiveSum;
        loop.weightSum += round.weightSum;
        return true;
    }

    /**
     * The end of a lazy round: {@code start} (the loop's weights and the optimizer's own slots) plus
     * the partitions' mean change, in place, on the touched rows and the layers above; first checked
     * to be finite everywhere it lands, so that a round that is not changes nothing.
     */
    private boolean applyLazyRound(Loop loop, int k, Optimizer optimizer, OptimizerState state, double[][] start,
                                   RoundResult round) {
        double objective = round.objectiveSum / round.weightSum;
        if (!Double.isFinite(objective) || !round.meanChangeKeepsFinite(start, trainingSpec, loop.magnitude)) {
            loop.nonFiniteWhat = String.format(Locale.ROOT, "Non-finite %s after the local-SGD round at epoch %d"
                            + " steps %d-%d (global steps %d-%d): mean objective %s",
                    Double.isFinite(objective) ? "weights" : "loss", loop.epoch + 1, loop.step + 1, loop.step + k,
                    loop.globalStep, loop.globalStep + k - 1, objective);
            return false;
        }
        round.addMeanChangeTo(start, trainingSpec);
        // |start + change| <= |start| + |change|: the bound follows without a pass (unknown when the
        // change's magnitude is: one partition's result, never averaged).
        loop.magnitude = Double.isNaN(round.maxChange()) ? Double.POSITIVE_INFINITY : loop.magnitude + round.maxChange();
        optimizer.adopt(new OptimizerState(state.kind(), state.steps() + k, state.slots()));
        loop.consecutiveSkips = 0;
        loop.objectiveSum += round.objectiveSum;
        loop.weightSum += round.weightSum;
        return true;
    }

    /** The largest magnitude in {@code first} and {@code rest} (NaN when one holds NaN). */
    private static double maxAbs(double[] first, double[][] rest) {
        double max = 0.0;
        for (double v : first) {
            max = Math.max(max, Math.abs(v));
        }
        for (double[] array : rest) {
            for (double v : array) {
                max = Math.max(max, Math.abs(v));
            }
        }
        return Double.isNaN(max) ? Double.POSITIVE_INFINITY : max;
    }

    private static boolean allFinite(double[][] arrays) {
        for (double[] array : arrays) {
            for (double v : array) {
                if (!Double.isFinite(v)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * What to change after a non-finite loss, gradient or weights, in the words of the door the
     * config came from: {@code train.learning-rate} and {@code train.clip-norm} on the command line,
     * {@code stepSize} and {@code clipNorm} on the estimators (which have no non-finite policy to
     * choose), with their current values.
     */
    public static String divergenceHint(TrainingConfig settings) {
        String rate = settings.named(ConfigSchema.TRAIN_LEARNING_RATE);
        String clip = settings.named(ConfigSchema.TRAIN_CLIP_NORM);
        double clipNorm = settings.optimization().clipNorm();
        return "lower " + rate + " (" + settings.optimization().learningRate() + ")"
                + (clipNorm > 0 ? ", lower " + clip + " (" + clipNorm + ")" : ", set " + clip + " to clip the gradient")
                + (rate.equals(ConfigSchema.TRAIN_LEARNING_RATE.name())
                        ? ", or choose train.non-finite=skip or rollback" : "");
    }

    /** What a failed run leaves behind, for messages. */
    private static String intact(Checkpoints checkpoints) {
        return checkpoints == NO_CHECKPOINTS ? "" : " The last checkpoint is intact.";
    }

    /**
     * Throws unless every weight is finite. The step rule checks the loss and gradient before each
     * update, but the update itself (rate × gradient) can overflow: such weights must never be
     * checkpointed, validated or returned. Any policy stops here: there is no good update to skip
     * back to.
     */
    private void requireFiniteWeights(Loop loop, Checkpoints checkpoints) {
        for (int i = 0; i < loop.params.length; i++) {
            if (!Double.isFinite(loop.params[i])) {
                throw new IllegalStateException(String.format(Locale.ROOT, "Non-finite weights in epoch %d after its"
                                + " step %d (%d steps in all): parameter %d of %d is %s, after an update (rate x gradient)"
                                + " that overflowed; %s.%s", loop.epoch + 1, loop.step, loop.globalStep, i,
                        loop.params.length, loop.params[i], divergenceHint(settings), intact(checkpoints)));
            }
        }
    }

    /**
     * Throws unless the epoch's {@code what} ("training" or "validation") loss is finite: an epoch
     * whose every step was skipped has no training loss (0/0), a loss that overflowed has no meaning,
     * and neither may be recorded as a finished epoch.
     */
    private void requireFiniteLoss(Loop loop, String what, double loss, Checkpoints checkpoints) {
        if (Double.isFinite(loss)) {
            return;
        }
        String why = what.equals("training") && !(loop.weightSum > 0)
                ? "every step of the epoch was skipped, so it learned nothing and has no loss"
                : what.equals("training") ? "the epoch's summed loss overflowed"
                : "the weights give non-finite outputs or losses on the validation rows";
        throw new IllegalStateException(String.format(Locale.ROOT, "Non-finite %s loss %s at the end of epoch %d"
                        + " (%d steps in all): %s; %s.%s", what, loss, loop.epoch + 1, loop.globalStep, why,
                divergenceHint(settings), intact(checkpoints)));
    }

    /**
     * Applies the non-finite policy: throws for {@code fail} (and when skips or rollbacks run out),
     * returns false after a {@code skip}, true after a {@code rollback} (the loop's position and
     * weights are then the last checkpoint's, with a lower learning rate).
     */
    private boolean handleNonFinite(Loop loop, String what, Checkpoints checkpoints) {
        switch (settings.faults().nonFinite()) {
            case FAIL -> throw new IllegalStateException(what + "; " + divergenceHint(settings) + "." + intact(checkpoints));
            case SKIP -> {
                loop.consecutiveSkips++;
                if (loop.consecutiveSkips > settings.faults().maxSkips()) {
                    throw new IllegalStateException(what + "; that is " + loop.consecutiveSkips
                            + " skipped steps in a row, more than train.non-finite.max-skips=" + settings.faults().maxSkips()
                            + "; " + divergenceHint(settings) + "." + intact(checkpoints));
                }
                LOG.warn("{}; skipping the update ({} in a row)", what, loop.consecutiveSkips);
                return false;
            }
            case ROLLBACK -> {
                int rollbacks = loop.rollbacks + 1;
                if (rollbacks > settings.faults().maxSkips()) {
                    throw new IllegalStateException(what + "; that is " + rollbacks + " rollbacks without reaching a"
                            + " new checkpoint, more than train.non-finite.max-skips=" + settings.faults().maxSkips()
                            + "; " + divergenceHint(settings) + "." + intact(checkpoints));
                }
                // Without a checkpoint, back to where this run started (given initial weights, say).
                TrainingState back = checkpoints.latest().orElseGet(loop.origin);
                double scale = loop.learningRateScale * settings.faults().rollbackFactor();
                LOG.warn("{}; rolling back to global step {} and multiplying the learning rate by {} (now x{})", what,
                        back.globalStep(), settings.faults().rollbackFactor(), scale);
                loop.restore(back);
                loop.learningRateScale = scale;
                loop.rollbacks = rollbacks;
                return true;
            }
            default -> throw new AssertionError(settings.faults().nonFinite());
        }
    }

    /**
     * What lazy local-SGD rounds ship to the executors ({@code docs/sparse.md}). Over cached blocks,
     * a pull per round: the rows every partition's steps of the round use ({@link RoundColumns}, which
     * asks the executors once for many rounds) at their values at the round's start, and the layers
     * above; the driver holds nothing else between rounds. Over chunks ({@code train.shuffle =
     * window}, whose rows are known only as a step reads them): a long-lived base broadcast of the
     * weights and optimizer slots, from which each task copies the rows its round uses ({@link
     * io.sparkprop.core.WorkingSet}), and per round a small broadcast of the rows changed since the
     * base (their values at the round's start) and the layers above. A new base is made when more
     * than {@link #REBASE_FRACTION} of the rows changed since the last one (so an update never costs
     * more than half a base), and whenever the driver's arrays were replaced (a start, a resume, a
     * rollback).
     */
    private final class RowShipping {
        private Broadcast<WireArrays> base;
        private io.sparkprop.core.TouchedRows sinceBase;
        private RoundColumns columns;

        /** Whether rounds pull their rows (cached blocks) rather than read a base (chunks). */
        boolean pulls() {
            return chunked == null && !Boolean.getBoolean(LAZY_BASE_PROPERTY);
        }

        /** The pull of the round from step {@code step} of {@code epoch}: its rows as they are now, and the rest. */
        Broadcast<io.sparkprop.core.IndexedRows> pull(double[][] values, int epoch, int step) {
            if (columns == null) {
                columns = new RoundColumns(train, settings.optimization().seed(), stepsPerEpoch,
                        settings.exchange().localSteps(), trainingSpec.inputSize(),
                        settings.exchange().aggregationDepth());
            }
            return ship(columns.of(epoch, step), values);
        }

        /** Broadcasts {@code rows} of {@code values} and the layers above, in the wire's precision. */
        private Broadcast<io.sparkprop.core.IndexedRows> ship(int[] rows, double[][] values) {
            io.sparkprop.core.IndexedRows gathered = io.sparkprop.core.IndexedRows.gather(trainingSpec, rows, values);
            if (float32Wire()) {
                gathered.roundToFloat();
            }
            Broadcast<io.sparkprop.core.IndexedRows> shipped = sc.broadcast(gathered);
            if (exchanges != null) {
                exchanges.broadcast(exchange, shipped.id());
            }
            return shipped;
        }

        /** The base for a round that starts from {@code values}: the current one, or a new one. */
        Broadcast<WireArrays> base(double[][] values) {
            if (base != null && sinceBase.count() > rebaseFraction() * sinceBase.numRows()) {
                drop();
            }
            if (base == null) {
                // The broadcast serializes the arrays now; in local mode its in-memory value is the
                // driver's arrays themselves, which change only between rounds, so a row read from
                // it, unless the update holds a newer one, is still the round's start.
                base = broadcast(values);
                sinceBase = new io.sparkprop.core.TouchedRows(trainingSpec);
            }
            return base;
        }

        /** The round's update: the rows changed since the base and the layers above, as they are now. */
        Broadcast<io.sparkprop.core.IndexedRows> update(double[][] values) {
            return ship(sinceBase.rows(), values);
        }

        /** Rows a round touched: the driver's arrays may hold other values there than the base. */
        void changed(io.sparkprop.core.TouchedRows rows) {
            if (sinceBase != null && rows != null) {
                sinceBase.or(rows);
            }
        }

        /** Forgets the base: the driver's arrays were replaced, or the training ends. */
        void drop() {
            if (base != null) {
                base.destroy(false);
                base = null;
                sinceBase = null;
            }
        }
    }

    /**
     * Test hook: a JVM system property that, set to {@code true}, makes lazy rounds over cached
     * blocks read a base and updates, as rounds over chunks do, instead of pulls (they give the same bits).
     */
    static final String LAZY_BASE_PROPERTY = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX + "lazyBase";

    /** {@link RowShipping}'s re-base threshold: the fraction of the first layer's rows changed since the base. */
    static final double REBASE_FRACTION = 0.5;

    /** Test hook: a JVM system property overriding {@link #REBASE_FRACTION} (0: a new base every round). */
    static final String REBASE_FRACTION_PROPERTY = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX
            + "rebaseFraction";

    private static double rebaseFraction() {
        return io.sparkprop.spark.config.JobConfig.testHook(REBASE_FRACTION_PROPERTY, REBASE_FRACTION);
    }

    private final RowShipping rowShipping = new RowShipping();

    /** The loop's mutable position and state. */
    private final class Loop {
        /** Gives the state the run started from, for a rollback before any checkpoint. */
        final Supplier<TrainingState> origin;
        int epoch;
        int step;
        long globalStep;
        double[] params;
        double objectiveSum;
        double weightSum;
        double learningRateScale;
        int consecutiveSkips;
        int rollbacks;
        /** Why the last step or round could not be applied (a non-finite loss, gradient or weights). */
        String nonFiniteWhat;
        /**
         * Lazy local SGD: an upper bound of every weight's and optimizer slot's magnitude (measured
         * at a restore, then raised by each round's largest change), so that a round's finiteness
         * check needs no pass over the arrays while it stays far below overflow
         * ({@link RoundResult#meanChangeKeepsFinite}); infinity otherwise.
         */
        double magnitude = Double.POSITIVE_INFINITY;
        double elapsedBefore;
        long resumedAt;
        /** Early stopping: the best epoch's weights so far (empty before the first epoch ends). */
        double[] bestParams = new double[0];
        final EarlyStopping early;
        /** Every completed epoch, also those before a resumed start (history: this call's epochs only). */
        final List<EpochMetrics> stateHistory = new ArrayList<>();
        final List<EpochMetrics> history = new ArrayList<>();
        private final Optimizer optimizer;

        Loop(TrainingState start, Supplier<TrainingState> origin, Optimizer optimizer, EarlyStopping early) {
            this.optimizer = optimizer;
            this.early = early;
            this.origin = origin;
            restore(start);
        }

        /**
         * Takes {@code state} (the model's layout) into the loop: its weights and optimizer slots,
         * laid out in place for training and adopted, become the loop's arrays (no copy: the caller
         * gives {@code state} up).
         */
        void restore(TrainingState state) {
            rowShipping.drop();
            epoch = state.epoch();
            step = state.step();
            globalStep = state.globalStep();
            params = state.params();
            spec.relayoutInPlace(params, trainingSpec);
            for (double[] slot : state.optimizer().slots()) {
                spec.relayoutInPlace(slot, trainingSpec);
            }
            optimizer.adopt(state.optimizer());
            magnitude = settings.optimization().sparseUpdate() == io.sparkprop.core.SparseUpdate.LAZY
                    && settings.exchange().localSteps() > 1 ? maxAbs(params, state.optimizer().slots())
                    : Double.POSITIVE_INFINITY;
            objectiveSum = state.epochObjectiveSum();
            weightSum = state.epochWeightSum();
            learningRateScale = state.learningRateScale();
            consecutiveSkips = state.consecutiveSkips();
            rollbacks = state.rollbacks();
            elapsedBefore = state.elapsedSeconds();
            resumedAt = System.nanoTime();
            stateHistory.clear();
            stateHistory.addAll(state.history());
            bestParams = state.bestParams();
            if (early != null) {
                early.replay(state.history());
            }
            history.removeIf(m -> m.epoch() >= epoch);
        }

        double elapsed() {
            return elapsedBefore + (System.nanoTime() - resumedAt) / 1e9;
        }

        /**
         * Saves the current state: the loop's own arrays, laid out in place in the model's layout
         * for the call and back afterwards (a copy of a wide model's state would not fit beside it;
         * the lay-out is a permutation, so the arrays come back with the same bits).
         */
        void save(Checkpoints checkpoints) {
            double[][] slots = optimizer.slots();
            trainingSpec.relayoutInPlace(params, spec);
            for (double[] slot : slots) {
                trainingSpec.relayoutInPlace(slot, spec);
            }
            try {
                checkpoints.save(new TrainingState(epoch, step, globalStep, params,
                        new OptimizerState(optimizer.kind(), optimizer.steps(), slots), objectiveSum, weightSum,
                        learningRateScale, consecutiveSkips, rollbacks, elapsed(), List.copyOf(stateHistory),
                        bestParams));
            } finally {
                spec.relayoutInPlace(params, trainingSpec);
                for (double[] slot : slots) {
                    spec.relayoutInPlace(slot, trainingSpec);
                }
            }
        }

        /** A fresh array of {@code values} in the model's layout. */
        double[] modelCopy(double[] values) {
            double[] out = toModel(values);
            return out == values ? values.clone() : out;
        }
    }

    /**
     * The summed gradient of step {@code step} of epoch {@code epoch} over all partitions, under
     * {@code params}: one Spark job. Public for tests and tools that compare it with the core.
     * Parameters and gradient are in the model's layout.
     */
    public GradientAccumulator gradient(double[] params, int epoch, int step, long globalStep) {
        GradientAccumulator sums = timedGradient(toTraining(params), epoch, step, globalStep, false).expand().gradient;
        return GradientAccumulator.of(toModel(sums.gradSum()), sums.lossSum(), sums.count(), sums.weightSum());
    }

    /**
     * A synchronous lazy step's row-sparse sums as the dense accumulator the step rule reads: one
     * array of the driver's, reused, its rows of the previous step zeroed and this step's written
     * (the bits the dense sums hold there; the lazy step reads only the touched rows and the rest).
     */
    private final class LazySums {
        private double[] sums;
        private int[] written = new int[0];

        GradientAccumulator of(TimedGradient timed) {
            if (sums == null) {
                sums = new double[trainingSpec.paramCount()];
            }
            int width = trainingSpec.layer(0).numOut();
            int offset = trainingSpec.weightOffset(0);
            for (int row : written) {
                java.util.Arrays.fill(sums, offset + row * width, offset + (row + 1) * width, 0.0);
            }
            io.sparkprop.core.IndexedRows rows = timed.sparseSums();
            rows.writeTo(new double[][] {sums});
            written = timed.touchedRows().rows();
            return GradientAccumulator.of(sums, timed.lossSum(), timed.count(), timed.weightSum())
                    .withTouchedRows(timed.touchedRows());
        }
    }

    private final LazySums lazySums = new LazySums();

    /** {@link #gradient}, with the broadcast and job times kept in {@link #lastBroadcastNanos}, {@link #lastJobNanos}. */
    private TimedGradient timedGradient(double[] params, int epoch, int step, long globalStep, boolean pull) {
        long start = System.nanoTime();
        // A lazy step over cached blocks: the rows its slices use (its sums come back row-sparse).
        Broadcast<WireArrays> weights = pull ? null : broadcast(new double[][] {params});
        Broadcast<io.sparkprop.core.IndexedRows> rows = pull ? rowShipping.pull(new double[][] {params}, epoch, step)
                : null;
        long broadcastDone = System.nanoTime();
        try {
            long seed = settings.optimization().seed();
            boolean lazy = settings.optimization().sparseUpdate() == io.sparkprop.core.SparseUpdate.LAZY;
            return chunked == null
                    ? exchange(train, new StepFunction<>(weights, rows, trainingNetwork, seed, epoch, step,
                            stepsPerEpoch, globalStep, PartitionRows.BLOCKS, lazy), TimedGradient.SLICING,
                            TimedGradient::merge)
                    : exchange(chunkInput(epoch, step, 1), new StepFunction<>(weights, null, trainingNetwork, seed,
                            epoch, step, stepsPerEpoch, globalStep,
                            new PartitionRows.Windows(settings.exchange().shuffleBuffer()), lazy),
                            TimedGradient.SLICING, TimedGradient::merge);
        } finally {
            if (weights != null) {
                weights.destroy(false);
            } else {
                rows.destroy(false);
            }
            lastBroadcastNanos = broadcastDone - start;
            lastJobNanos = System.nanoTime() - broadcastDone;
        }
    }

    /**
     * The objective (mean loss plus the L2 penalty, per unit of sample weight) of {@code blocks}
     * under {@code params}, in the model's layout and TAKEN: laid out in place for training, so a
     * wide sparse model is evaluated without a copy (the trainer's check that a run trained, against
     * its starting weights). The L2 penalty is summed in the training layout's order.
     */
    public double objective(JavaRDD<DataBlock> blocks, double[] params, String description) {
        spec.relayoutInPlace(params, trainingSpec);
        EvaluationSums sums = evaluate(sc, trainingSpec, blocks, params, description);
        return (sums.meanLoss() * sums.weightSum() + trainingNetwork.l2Penalty(params, settings.optimization().l2()))
                / sums.weightSum();
    }

    /** Validation (or any) metrics of {@code blocks} under {@code params} (the model's layout): one Spark job. */
    public EvaluationSums evaluate(JavaRDD<DataBlock> blocks, double[] params, String description) {
        return evaluate(sc, spec, blocks, params, description);
    }

    /**
     * Metrics of {@code blocks} under {@code params} for network {@code spec}: each partition adds
     * its blocks to the core's {@link EvaluationSums} (in double precision, in forward passes of up
     * to {@value #EVALUATION_CHUNK} rows through a pooled workspace), and the driver merges the
     * partitions' sums in partition order, so the metrics do not depend on which task finished
     * first. Its jobs carry {@code description}; the caller's job description is restored after.
     */
    public static EvaluationSums evaluate(JavaSparkContext sc, NetworkSpec spec, JavaRDD<DataBlock> blocks,
                                          double[] params, String description) {
        String previous = sc.getLocalProperty(JOB_DESCRIPTION);
        sc.setJobDescription(description);
        Broadcast<double[]> weights = sc.broadcast(params);
        try {
            long id = weights.id();
            List<EvaluationSums> parts = blocks.mapPartitions(
                    it -> List.of(evaluatePartition(spec, weights.value(), id, it)).iterator(), true).collect();
            EvaluationSums total = new EvaluationSums(spec);
            for (EvaluationSums part : parts) {
                total.merge(part);
            }
            return total;
        } finally {
            ExecutorCache.dropLaidOut(weights.id()); // the driver's (local mode: the executors') copy
            weights.destroy(false);
            sc.setJobDescription(previous);
        }
    }

    /**
     * One partition's evaluation sums, run by a Spark task. Sparse blocks are evaluated with the
     * first layer feature-major ({@link WeightLayout#IN_OUT}, laid out once per task when the
     * first sparse block comes): the same bits as the model's layout, without a strided gather of
     * every batch's columns from a wide layer.
     */
    private static EvaluationSums evaluatePartition(NetworkSpec spec, double[] params, long id,
                                                    Iterator<DataBlock> blocks) {
        Network network = new Network(spec);
        NetworkSpec rowsSpec = spec.withFirstLayerLayout(WeightLayout.IN_OUT);
        Network rowsNetwork = new Network(rowsSpec);
        double[] rowsParams = null;
        EvaluationSums sums = new EvaluationSums(spec);
        while (blocks.hasNext()) {
            DataBlock block = blocks.next();
            if (block.rows() == 0) {
                continue;
            }
            boolean rows = block.isSparse() && spec.firstLayerLayout() == WeightLayout.OUT_IN;
            if (rows && rowsParams == null) {
                rowsParams = ExecutorCache.laidOut(id, () -> spec.relayout(params, rowsSpec));
            }
            NetworkSpec used = rows ? rowsSpec : spec;
            Workspace ws = ExecutorCache.borrow(used, Math.min(EVALUATION_CHUNK, block.rows()));
            try {
                sums.add(rows ? rowsNetwork : network, rows ? rowsParams : params, block, ws);
            } finally {
                ExecutorCache.release(ws);
            }
        }
        return sums;
    }
}
