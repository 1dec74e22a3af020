package io.sparkprop.bench.scale;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.ExchangeCosts;
import io.sparkprop.spark.train.StepTimes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Training rounds with their compute, for the cost model: sparkprop's own {@link DistributedTrainer}
 * on synthetic rows generated on the executors (no file to read, so the setup is seconds), one
 * epoch of {@code max(2k, 16)} steps (two exchanges when {@code k > 1}, 16 when {@code k = 1}),
 * each partition {@code --rows-per-step} rows a step, so the global batch grows with P (weak
 * scaling). Each configuration's epoch medians (times, and the costs the trainer's
 * listener measured) become a row of the measurement file ({@link MeasurementFile}).
 *
 * <p>Usage: {@code TrainingBench --partitions P,... --layers 784-256-128-10;... --local-steps K,...
 * --aggregation tree,reduce-scatter --rows-per-step B --executors E --out MEASUREMENTS.csv}
 */
public final class TrainingBench {

    private TrainingBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int[] partitionCounts = ints(opts.getOrDefault("partitions", "2"));
        String[] layerLists = opts.getOrDefault("layers", "784-256-128-10").split(";");
        int[] localSteps = ints(opts.getOrDefault("local-steps", "1,64"));
        String[] aggregations = opts.getOrDefault("aggregation", "tree,reduce-scatter").split(",");
        int rowsPerStep = Integer.parseInt(opts.getOrDefault("rows-per-step", "16"));
        int executors = Integer.parseInt(opts.getOrDefault("executors", "1"));
        Path out = Path.of(opts.getOrDefault("out", "measurements.csv"));
        SparkSession spark = SparkSession.builder().appName("sparkprop training bench").getOrCreate();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        try {
            for (int partitions : partitionCounts) {
                for (String layers : layerLists) {
                    int[] widths = Arrays.stream(layers.split("-")).mapToInt(Integer::parseInt).toArray();
                    for (int k : localSteps) {
                        int steps = Math.max(16, 2 * k);
                        int rowsPerPartition = rowsPerStep * steps;
                        JavaRDD<DataBlock> blocks = blocks(sc, partitions, rowsPerPartition, widths);
                        for (String aggregation : aggregations) {
                            TrainingConfig settings = TrainingConfig.from(JobConfig.defaults().withOverrides(List.of(
                                    "model.layers=" + layers.replace('-', ','), "train.optimizer=adam",
                                    "train.learning-rate=0.001", "train.epochs=1",
                                    "train.batch-size=" + rowsPerStep * partitions, "train.local-steps=" + k,
                                    "train.aggregation=" + aggregation)));
                            DistributedTrainer trainer = new DistributedTrainer(sc, settings, blocks,
                                    (long) rowsPerPartition * partitions, null);
                            List<EpochMetrics> seen = new ArrayList<>();
                            trainer.train(seen::add);
                            StepTimes.Summary t = seen.get(0).stepTimes();
                            ExchangeCosts c = t.costs();
                            int slots = settings.optimization().newOptimizer(settings.spec()).state().slots().length;
                            RoundConfig config = new RoundConfig(aggregation.equals("tree") ? ExchangeKind.TREE
                                    : ExchangeKind.REDUCE_SCATTER, false, partitions, executors, 1,
                                    settings.spec().paramCount(), k, slots, rowsPerStep,
                                    settings.exchange().aggregationDepth(),
                                    // bench-scale's workers all run on the driver's host and share its cores.
                                    Runtime.getRuntime().availableProcessors());
                            Measurement m = new Measurement(config, t.totalMs(), t.computeMs(), t.exchangeMs(),
                                    t.broadcastMs(), t.updateMs(), (int) Math.round(orZero(c.stages())),
                                    Math.round(orZero(c.tasks())), Math.round(orZero(c.driverInBytes())),
                                    Math.round(orZero(c.broadcastBytes())), Math.round(orZero(c.shuffleWriteBytes())),
                                    Math.round(orZero(c.shuffleReadBytes())));
                            List<Measurement> all = new ArrayList<>(Files.exists(out) ? MeasurementFile.read(out)
                                    : List.of());
                            all.add(m);
                            MeasurementFile.write(out, all);
                            System.out.println(String.format(Locale.ROOT, "P=%d %s k=%d %s: %s", partitions, layers,
                                    k, aggregation, t));
                        }
                        blocks.unpersist(true);
                    }
                }
            }
        } finally {
            spark.stop();
        }
    }

    private static double orZero(double v) {
        if (Double.isNaN(v)) {
            throw new IllegalStateException("The trainer's listener did not measure an exchange figure");
        }
        return v;
    }

    /** P cached blocks of {@code rows} rows each: features uniform in [-1, 1), a random one-hot class. */
    private static JavaRDD<DataBlock> blocks(JavaSparkContext sc, int partitions, int rows, int[] widths) {
        List<Integer> ids = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            ids.add(p);
        }
        int in = widths[0];
        int out = widths[widths.length - 1];
        JavaRDD<DataBlock> blocks = sc.parallelize(ids, partitions).map(p -> {
            SplitMix64 random = new SplitMix64(1000 + p);
            double[] x = new double[rows * in];
            double[] y = new double[rows * out];
            for (int i = 0; i < x.length; i++) {
                x[i] = 2 * random.nextDouble() - 1;
            }
            for (int r = 0; r < rows; r++) {
                y[r * out + (int) (random.nextDouble() * out)] = 1;
            }
            return new DataBlock(rows, in, out, x, y, null);
        }).persist(StorageLevel.MEMORY_AND_DISK());
        blocks.count();
        return blocks;
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
