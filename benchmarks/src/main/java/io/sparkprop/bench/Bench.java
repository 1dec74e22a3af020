package io.sparkprop.bench;

import io.sparkprop.core.Blas;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.StepTimes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code scripts/bench}: sparkprop next to Spark MLlib's {@code MultilayerPerceptronClassifier}
 * (MLPC; L-BFGS and gd) and, when Debian's python3-torch is installed, PyTorch on the same
 * machine, in one run on one Spark master. Prints a table and writes JSON.
 *
 * <p>Sections, in the order they run:
 * <ol>
 *   <li>environment: BLAS, JVM flags, {@code OPENBLAS_NUM_THREADS}, cores, master;</li>
 *   <li>sparkprop on MNIST ({@code conf/mnist.conf}, the test set as validation) for the
 *       config's own k, first, in a JVM nothing has warmed, then each other {@code --local-steps}
 *       k: time to the target test accuracy (the sum of the epochs' training seconds up to the
 *       first epoch that reaches it; data loaded and cached first, validation passes excluded),
 *       accuracy per epoch, throughput, and where a step's (or round's) time goes;</li>
 *   <li>roof: the core's step alone vs {@code dgemm} ({@link Roof}), at a local step's batch
 *       among others;</li>
 *   <li>the cost of one synchronous step: sparkprop's k = 1 medians (everything but compute)
 *       next to a bare one-double {@code treeAggregate} and MLlib's way of exchanging the same
 *       gradient ({@link SyncCost}), in the same SparkContext;</li>
 *   <li>MLPC on the same MNIST DataFrame, same layers, capped at {@code --mlpc-budget} seconds
 *       ({@link MlpcRunner});</li>
 *   <li>a synthetic dataset from {@code generate}: examples/s of sparkprop and of MLPC;</li>
 *   <li>PyTorch ({@code scripts/bench-torch.py}) when available;</li>
 *   <li>the summary, closing with the default run's {@link Ratios} (issue 18's goals).</li>
 * </ol>
 * Nothing here asserts a figure: it measures and reports.
 */
public final class Bench {

    static final String USAGE = """
            Usage: scripts/bench [options]
              --target A           test accuracy to reach on MNIST (default 0.97)
              --epochs N           sparkprop epochs per run (default 4)
              --local-steps LIST   k values to compare, comma-separated (default 1,8,32,64,128); the
                                   config's own k (the default run) always runs, first, in a cold JVM
              --partitions N       training partitions (default: Spark's default parallelism)
              --large-batch B      also a synchronous run at global batch B, learning rate scaled by
                                   sqrt(B/batch) after a 20-step warm-up (default 1024; 0 to skip)
              --mlpc-budget S      seconds of MLPC fitting per solver before giving up (default 240)
              --mlpc-solvers LIST  l-bfgs,gd (default both)
              --synthetic-rows N   rows of the synthetic dataset, 0 to skip (default 200000)
              --torch auto|on|off  the PyTorch column (default auto: when /usr/bin/python3 has torch)
              --config PATH        the sparkprop MNIST config (default conf/mnist.conf)
              --set key=value      extra sparkprop config for every MNIST run (repeatable)
              --out PATH           the JSON report (default bench-results.json)
              --quick              a short smoke run: 1 epoch, k in {1, 64}, MLPC budget 20 s, 20000 synthetic rows
            The Spark master comes from -Dspark.master (scripts/bench --master M sets it; default local[2]).
            """;

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        if (options == null) {
            System.out.println(USAGE);
            return;
        }
        SparkSession spark = Main.session("bench");
        try {
            run(spark, options);
        } finally {
            spark.stop();
        }
    }

    /** Bench options. */
    static final class Options {
        double target = 0.97;
        int epochs = 4;
        List<Integer> localSteps = List.of(1, 8, 32, 64, 128);
        int partitions;
        int largeBatch = 1024;
        double mlpcBudget = 240;
        List<String> solvers = List.of("l-bfgs", "gd");
        long syntheticRows = 200_000;
        String torch = "auto";
        String config = "conf/mnist.conf";
        final List<String> sets = new ArrayList<>();
        String out = "bench-results.json";

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help") || a.equals("help")) {
                    return null;
                }
                if (a.equals("--quick")) {
                    o.epochs = 1;
                    o.localSteps = List.of(1, 64);
                    o.largeBatch = 0;
                    o.mlpcBudget = 20;
                    o.syntheticRows = 20_000;
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value; " + USAGE);
                }
                String v = args[++i];
                switch (a) {
                    case "--target" -> o.target = Double.parseDouble(v);
                    case "--epochs" -> o.epochs = Integer.parseInt(v);
                    case "--local-steps" -> o.localSteps = List.of(v.split(",")).stream().map(String::strip)
                            .map(Integer::valueOf).collect(Collectors.toList());
                    case "--partitions" -> o.partitions = Integer.parseInt(v);
                    case "--large-batch" -> o.largeBatch = Integer.parseInt(v);
                    case "--mlpc-budget" -> o.mlpcBudget = Double.parseDouble(v);
                    case "--mlpc-solvers" -> o.solvers = List.of(v.split(","));
                    case "--synthetic-rows" -> o.syntheticRows = Long.parseLong(v);
                    case "--torch" -> o.torch = v;
                    case "--config" -> o.config = v;
                    case "--set" -> o.sets.add(v);
                    case "--out" -> o.out = v;
                    default -> throw new IllegalArgumentException("Unknown option " + a + "\n" + USAGE);
                }
            }
            if (!List.of("auto", "on", "off").contains(o.torch)) {
                throw new IllegalArgumentException("--torch must be auto, on or off but got " + o.torch);
            }
            return o;
        }
    }

    /** One sparkprop MNIST run with k local steps. */
    record SparkpropRun(String label, int localSteps, List<EpochMetrics> epochs, double target) {

        /** Training seconds up to the first epoch at or above the target, or NaN. */
        double secondsToTarget() {
            double seconds = 0;
            for (EpochMetrics m : epochs) {
                seconds += m.epochSeconds();
                if (m.valAccuracy() >= target) {
                    return seconds;
                }
            }
            return Double.NaN;
        }

        int epochsToTarget() {
            for (EpochMetrics m : epochs) {
                if (m.valAccuracy() >= target) {
                    return m.epoch() + 1;
                }
            }
            return -1;
        }

        /** Seconds per epoch after the first (which includes JIT warm-up); the first when alone. */
        double steadyEpochSeconds() {
            if (epochs.size() == 1) {
                return epochs.get(0).epochSeconds();
            }
            return epochs.subList(1, epochs.size()).stream().mapToDouble(EpochMetrics::epochSeconds).average()
                    .orElse(Double.NaN);
        }

        StepTimes.Summary lastStepTimes() {
            return epochs.get(epochs.size() - 1).stepTimes();
        }

        String toJson() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "{\"run\":\"%s\",\"local_steps\":%d,\"seconds_to_target\":%s,"
                    + "\"epochs_to_target\":%d,\"steady_epoch_seconds\":%.3f,\"epochs\":[", label, localSteps,
                    num(secondsToTarget()), epochsToTarget(),
                    steadyEpochSeconds()));
            for (int i = 0; i < epochs.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(epochs.get(i).toJson());
            }
            return sb.append("]}").toString();
        }
    }

    static void run(SparkSession spark, Options options) throws Exception {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = options.partitions > 0 ? options.partitions : sc.defaultParallelism();
        Map<String, String> json = new LinkedHashMap<>();
        Path work = Files.createTempDirectory("sparkprop-bench");
        List<String> lines = new ArrayList<>();

        // 1. Environment.
        String jvmFlags = String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(f -> !f.startsWith("--add-opens") && !f.startsWith("-Dlog4j")).toList());
        String openblasThreads = System.getenv().getOrDefault("OPENBLAS_NUM_THREADS", "(unset)");
        section(lines, "Environment");
        lines.add("BLAS                  " + Blas.implementationName());
        lines.add("OPENBLAS_NUM_THREADS  " + openblasThreads);
        lines.add("JVM                   " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        lines.add("JVM flags             " + jvmFlags + " (and the --add-opens list)");
        lines.add("cores                 " + Runtime.getRuntime().availableProcessors() + " available; Spark master "
                + sc.master() + ", " + partitions + " partitions");
        flush(lines);
        json.put("environment", String.format(Locale.ROOT, "{\"blas\":\"%s\",\"openblas_num_threads\":\"%s\","
                        + "\"java\":\"%s\",\"jvm_flags\":\"%s\",\"cores\":%d,\"master\":\"%s\",\"partitions\":%d}",
                Blas.implementationName(), openblasThreads, System.getProperty("java.version"), esc(jvmFlags),
                Runtime.getRuntime().availableProcessors(), sc.master(), partitions));

        JobConfig base = JobConfig.load(options.config, sc.hadoopConfiguration()).withOverrides(options.sets);
        NetworkSpec spec = TrainingConfig.from(base).spec();

        // 2. sparkprop on MNIST, for each k.
        section(lines, String.format(Locale.ROOT, "sparkprop on MNIST %s (%s; test set as validation), %d epochs per run",
                spec, options.config, options.epochs));
        List<SparkpropRun> runs = new ArrayList<>();
        // The config's k (the default run) always, and first, in a JVM nothing has warmed yet: its
        // first epoch carries the warm-up a user's run carries; the other k run warm after it.
        int defaultK = base.value(ConfigSchema.TRAIN_LOCAL_STEPS);
        List<Integer> order = new ArrayList<>(options.localSteps);
        order.remove(Integer.valueOf(defaultK));
        order.add(0, defaultK);
        for (int k : order) {
            List<String> overrides = new ArrayList<>(List.of("train.epochs=" + options.epochs,
                    "train.local-steps=" + k, "data.partitions=" + partitions));
            JobConfig config = base.withOverrides(overrides);
            Path runDir = work.resolve("mnist-k" + k);
            TrainCommand.Outcome outcome = TrainCommand.run(spark, config, runDir.toUri().toString());
            runs.add(new SparkpropRun(Integer.toString(k), k, outcome.result().history(), options.target));
            System.out.println("bench: sparkprop k=" + k + " done");
        }
        if (options.largeBatch > 0) {
            // The other way to fatten steps: synchronous SGD on a large global batch, the learning
            // rate scaled up (by the square root of the batch ratio, as suits Adam) after a warm-up.
            int batch = options.largeBatch;
            double rate = base.value(ConfigSchema.TRAIN_LEARNING_RATE)
                    * Math.sqrt(batch / (double) base.value(ConfigSchema.TRAIN_BATCH_SIZE));
            JobConfig config = base.withOverrides(List.of("train.epochs=" + options.epochs, "train.local-steps=1",
                    "data.partitions=" + partitions, "train.batch-size=" + batch,
                    "train.learning-rate=" + rate, "train.warmup-steps=20"));
            TrainCommand.Outcome outcome = TrainCommand.run(spark, config, work.resolve("mnist-large-batch").toUri()
                    .toString());
            runs.add(new SparkpropRun(String.format(Locale.ROOT, "1, B=%d, lr %.4f", batch, rate), 1,
                    outcome.result().history(), options.target));
            System.out.println("bench: sparkprop large-batch synchronous run done");
        }
        lines.add(String.format(Locale.ROOT, "%-20s %14s %9s %-40s %11s %12s %14s", "k", "s to " + pct(options.target),
                "epochs", "test accuracy per epoch", "s/epoch", "examples/s", "ex/s per core"));
        for (SparkpropRun r : runs) {
            String accs = r.epochs().stream().map(m -> String.format(Locale.ROOT, "%.2f", 100 * m.valAccuracy()))
                    .collect(Collectors.joining(" "));
            double exPerSec = r.epochs().get(0).examplesPerSec() * r.epochs().get(0).epochSeconds()
                    / r.steadyEpochSeconds();
            lines.add(String.format(Locale.ROOT, "%-20s %14s %9s %-40s %11.2f %12.0f %14.0f", r.label(),
                    Double.isNaN(r.secondsToTarget()) ? "not reached" : String.format(Locale.ROOT, "%.1f",
                            r.secondsToTarget()), r.epochsToTarget() < 0 ? "-" : Integer.toString(r.epochsToTarget()),
                    accs, r.steadyEpochSeconds(), exPerSec, exPerSec / partitions));
        }
        lines.add("");
        lines.add("Where the time of a step (k = 1) or round (k > 1) goes, medians of the last epoch, ms:");
        lines.add(String.format(Locale.ROOT, "%-20s %8s %9s %9s %10s %9s %13s", "k", "total", "compute", "exchange",
                "broadcast", "update", "non-compute"));
        for (SparkpropRun r : runs) {
            StepTimes.Summary s = r.lastStepTimes();
            lines.add(String.format(Locale.ROOT, "%-20s %8.1f %9.1f %9.1f %10.1f %9.1f %13.1f", r.label(),
                    s.totalMs(), s.computeMs(), s.exchangeMs(), s.broadcastMs(), s.updateMs(), s.overheadMs()));
        }
        flush(lines);
        json.put("sparkprop_mnist", "[" + runs.stream().map(SparkpropRun::toJson).collect(Collectors.joining(",")) + "]");

        // 3. Roof, measured after the MNIST runs so that it does not warm their JIT.
        section(lines, "Roof: the core's training step alone (1 thread, no Spark) vs dgemm, same BLAS");
        List<Roof.Result> roofs = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%-7s %10s %12s %9s %12s %9s", "batch", "step ms", "examples/s",
                "GFLOP/s", "dgemm GF/s", "fraction"));
        // A local step's batch (the global batch over the partitions) among them: the ratios' peer.
        int taskBatch = (int) Math.max(1, base.value(ConfigSchema.TRAIN_BATCH_SIZE) / partitions);
        java.util.SortedSet<Integer> roofBatches = new java.util.TreeSet<>(List.of(64, 128, 1024));
        roofBatches.add(taskBatch);
        for (int batch : roofBatches) {
            Roof.Result r = Roof.measure(spec, batch, 2.0);
            roofs.add(r);
            lines.add(String.format(Locale.ROOT, "%-7d %10.3f %12.0f %9.2f %12.2f %8.0f%%", batch, r.stepMs(),
                    r.examplesPerSec(), r.stepGflops(), r.gemmGflops(), 100 * r.fraction()));
        }
        flush(lines);
        json.put("roof", "[" + roofs.stream().map(Roof.Result::toJson).collect(Collectors.joining(",")) + "]");

        // 4. The cost of one synchronous step.
        section(lines, "One synchronous step, " + spec.paramCount() + " parameters exchanged, " + partitions
                + " partitions (median ms)");
        SyncCost.Timing bare = SyncCost.bareTreeAggregate(sc, partitions, 20, 100);
        SyncCost.Timing mllib = SyncCost.mllibStyleTreeAggregate(sc, partitions, spec.paramCount(), 10, 50);
        SparkpropRun sync = runs.stream().filter(r -> r.label().equals("1")).findFirst().orElse(null);
        lines.add(String.format(Locale.ROOT, "bare treeAggregate of one double               %8.1f", bare.medianMs()));
        lines.add(String.format(Locale.ROOT, "MLlib-style: broadcast + treeAggregate, %.2f MB %8.1f",
                spec.paramCount() * 8 / 1e6, mllib.medianMs()));
        if (sync != null) {
            StepTimes.Summary s = sync.lastStepTimes();
            lines.add(String.format(Locale.ROOT, "sparkprop k=1: everything but compute         %8.1f  (step %.1f ="
                            + " compute %.1f + exchange %.1f + broadcast %.1f + driver update %.1f)", s.overheadMs(),
                    s.totalMs(), s.computeMs(), s.exchangeMs(), s.broadcastMs(), s.updateMs()));
        }
        flush(lines);
        json.put("sync_step", String.format(Locale.ROOT, "{\"bare_tree_aggregate\":%s,\"mllib_style\":%s,"
                + "\"sparkprop_non_compute_ms\":%s}", bare.toJson(), mllib.toJson(),
                sync == null ? "null" : num(sync.lastStepTimes().overheadMs())));

        // 5. MLPC on the same MNIST.
        section(lines, "Spark MLlib MultilayerPerceptronClassifier on MNIST, same layers, budget "
                + (int) options.mlpcBudget + " s per solver");
        int[] layers = spec.sizes();
        Dataset<Row> mnistTrain = MlpcRunner.loadIdx(spark, Path.of(local(base.get("data.train"))),
                Path.of(local(base.get("data.train-labels"))), MlpcRunner.ALL_ROWS, partitions);
        Dataset<Row> mnistTest = MlpcRunner.loadIdx(spark, Path.of(local(base.get("data.test"))),
                Path.of(local(base.get("data.test-labels"))), MlpcRunner.ALL_ROWS, partitions);
        List<MlpcRunner.Result> mlpc = new ArrayList<>();
        MlpcRunner runner = new MlpcRunner(System.out);
        for (String solver : options.solvers) {
            // MLPC's defaults: block size 128, step size 0.03 (gd only).
            MlpcRunner.Result r = runner.run(mnistTrain, mnistTest, layers, solver, options.target,
                    options.mlpcBudget, 42L, 128, 0.03);
            mlpc.add(r);
            lines.add(r.toString());
            flush(lines);
        }
        mnistTrain.unpersist();
        mnistTest.unpersist();
        json.put("mlpc_mnist", "[" + mlpc.stream().map(MlpcRunner.Result::toJson).collect(Collectors.joining(",")) + "]");

        // 6. Synthetic data: throughput.
        if (options.syntheticRows > 0) {
            section(lines, "Synthetic data (generate): " + options.syntheticRows + " rows x 100 features, 10 classes,"
                    + " 100-256-128-10");
            String data = work.resolve("synthetic").toUri().toString();
            Main.run(spark, "generate", "--output", data, "--rows", Long.toString(options.syntheticRows),
                    "--features", "100", "--classes", "10", "--partitions", Integer.toString(partitions));
            int k = ConfigSchema.TRAIN_LOCAL_STEPS.defaultTyped();
            JobConfig synthetic = JobConfig.defaults().withOverrides(List.of("data.format=parquet", "data.train=" + data,
                    "data.features-column=features", "data.label-column=label", "data.num-features=100",
                    "model.layers=100,256,128,10", "model.hidden-activation=relu", "train.epochs=2",
                    "train.batch-size=128", "train.optimizer=adam", "train.learning-rate=0.001",
                    "train.local-steps=" + k, "data.partitions=" + partitions));
            TrainCommand.Outcome outcome = TrainCommand.run(spark, synthetic, work.resolve("synthetic-run").toUri()
                    .toString());
            EpochMetrics last = outcome.result().history().get(outcome.result().history().size() - 1);
            lines.add(String.format(Locale.ROOT, "sparkprop k=%d: %.2f s/epoch, %.0f examples/s (%.0f per core)", k,
                    last.epochSeconds(), last.examplesPerSec(), last.examplesPerSec() / partitions));
            Dataset<Row> rows = spark.read().parquet(data).repartition(partitions).cache();
            rows.count();
            MlpcRunner.Result r = runner.run(rows, rows, new int[] {100, 256, 128, 10}, "l-bfgs", 1.0,
                    Math.min(options.mlpcBudget, 60), 42L, 128, 0.03);
            lines.add(String.format(Locale.ROOT, "MLPC l-bfgs: %.2f s/iteration, %.0f examples/s (%.0f per core)",
                    r.secondsPerIteration(), r.examplesPerSecond(), r.examplesPerSecond() / partitions));
            rows.unpersist();
            flush(lines);
            json.put("synthetic", String.format(Locale.ROOT, "{\"rows\":%d,\"sparkprop\":%s,\"mlpc\":%s}",
                    options.syntheticRows, last.toJson(), r.toJson()));
        }

        // 7. PyTorch on the same machine.
        String torchJson = null;
        if (!options.torch.equals("off")) {
            boolean available = torchAvailable();
            if (!available && options.torch.equals("on")) {
                throw new IllegalStateException("--torch on, but /usr/bin/python3 cannot import torch; install Debian's"
                        + " python3-torch (scripts/install-native-deps)");
            }
            if (available) {
                section(lines, "PyTorch on this machine (scripts/bench-torch.py)");
                torchJson = runTorch(base, options, partitions);
                lines.add(torchJson);
                flush(lines);
                json.put("pytorch", torchJson);
            }
        }

        // Summary ratios.
        section(lines, "Summary");
        SparkpropRun best = runs.stream().filter(r -> !Double.isNaN(r.secondsToTarget()))
                .min((a, b) -> Double.compare(a.secondsToTarget(), b.secondsToTarget())).orElse(null);
        if (best != null) {
            lines.add(String.format(Locale.ROOT, "sparkprop time to %s: %.1f s (k=%s)", pct(options.target),
                    best.secondsToTarget(), best.label()));
            SparkpropRun fallback = runs.stream().filter(r -> r.label().equals(
                    Integer.toString(defaultK))).findFirst().orElse(null);
            if (fallback != null && fallback != best) {
                lines.add(String.format(Locale.ROOT, "  with the default k=%d: %s", fallback.localSteps(),
                        Double.isNaN(fallback.secondsToTarget()) ? "not reached" : String.format(Locale.ROOT, "%.1f s",
                                fallback.secondsToTarget())));
            }
            for (MlpcRunner.Result r : mlpc) {
                lines.add(String.format(Locale.ROOT, "MLPC %s: %s -> ratio %s", r.solver(), r.reached()
                                ? String.format(Locale.ROOT, "%.1f s", r.secondsToTarget())
                                : "not reached in " + Math.round(r.totalFitSeconds()) + " s",
                        r.reached() ? String.format(Locale.ROOT, "%.1fx", r.secondsToTarget() / best.secondsToTarget())
                                : String.format(Locale.ROOT, "> %.1fx", r.totalFitSeconds() / best.secondsToTarget())));
            }
            double torchSeconds = torchSeconds(torchJson);
            if (Double.isFinite(torchSeconds)) {
                lines.add(String.format(Locale.ROOT, "PyTorch: %.1f s -> sparkprop (k=%s) / PyTorch = %.2f", torchSeconds,
                        best.label(), best.secondsToTarget() / torchSeconds));
            }
        } else {
            lines.add("sparkprop did not reach " + pct(options.target) + " in " + options.epochs + " epochs");
        }
        SparkpropRun defaultRun = runs.stream().filter(r -> r.label().equals(Integer.toString(defaultK)))
                .findFirst().orElse(null);
        Roof.Result taskRoof = roofs.stream().filter(r -> r.batch() == taskBatch).findFirst().orElseThrow();
        if (defaultRun != null) {
            Ratios ratios = ratios(defaultRun, torchSeconds(torchJson), taskRoof, partitions);
            lines.add("");
            lines.add("The default (k=" + defaultRun.localSteps() + ", " + String.join(" ", options.sets)
                    + (options.sets.isEmpty() ? "" : " ") + options.config + ") against issue 18's goals:");
            lines.addAll(ratios.lines("default"));
            json.put("default_ratios", ratios.toJson());
        }
        flush(lines);

        String report = "{" + json.entrySet().stream().map(e -> "\"" + e.getKey() + "\":" + e.getValue())
                .collect(Collectors.joining(",\n")) + "}\n";
        Files.writeString(Path.of(options.out), report, StandardCharsets.UTF_8);
        System.out.println("\nbench: JSON written to " + Path.of(options.out).toAbsolutePath());
        deleteRecursively(work);
    }

    /**
     * The default run's ratios: PyTorch, the first epoch, the roof of {@code partitions} tasks at
     * a local step's batch ({@code taskRoof}: its dgemm rate and the core's step), a local step
     * in a task.
     */
    static Ratios ratios(SparkpropRun run, double torchSeconds, Roof.Result taskRoof, int partitions) {
        List<EpochMetrics> epochs = run.epochs();
        double first = epochs.get(0).epochSeconds();
        double later = epochs.size() < 2 ? Double.NaN : run.steadyEpochSeconds();
        long rows = Math.round(epochs.get(0).examplesPerSec() * first);
        double roof = Ratios.roofEpochSeconds(rows, taskRoof.flopsPerExample(), partitions, taskRoof.gemmGflops());
        double medianSteps = Ratios.medianRoundSteps((int) epochs.get(0).step(), run.localSteps());
        double taskStep = run.lastStepTimes().computeMs() / medianSteps;
        return new Ratios(run.secondsToTarget(), torchSeconds, first, later, roof, taskStep, taskRoof.stepMs());
    }

    /** PyTorch's seconds to the target from its JSON line; NaN when it did not run or not reach it. */
    static double torchSeconds(String torchJson) {
        if (torchJson == null) {
            return Double.NaN;
        }
        String s = torchJson.replaceAll(".*\"seconds_to_target\":\\s*([0-9.eE-]+|null).*", "$1");
        return s.equals("null") ? Double.NaN : Double.parseDouble(s);
    }

    static boolean torchAvailable() {
        try {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String runTorch(JobConfig base, Options options, int threads) throws Exception {
        List<String> cmd = List.of("/usr/bin/python3", "scripts/bench-torch.py", "--data-dir",
                Path.of(local(base.get("data.train"))).getParent().toString(), "--threads", Integer.toString(threads),
                "--target", Double.toString(options.target), "--max-epochs", "10");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith("{")) {
                    last = line;
                }
            }
        }
        if (p.waitFor() != 0 || last == null) {
            throw new IllegalStateException("scripts/bench-torch.py failed (exit " + p.exitValue() + "): " + cmd);
        }
        return last;
    }

    /** A local file's path from a config value (a plain path or a file: URI). */
    private static String local(String value) {
        java.net.URI uri = new org.apache.hadoop.fs.Path(value).toUri();
        return uri.getScheme() == null ? uri.getPath() : Path.of(uri).toString();
    }

    private static void section(List<String> lines, String title) {
        lines.add("");
        lines.add("== " + title);
    }

    private static void flush(List<String> lines) {
        lines.forEach(System.out::println);
        System.out.flush();
        lines.clear();
    }

    private static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
