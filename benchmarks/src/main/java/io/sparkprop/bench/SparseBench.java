package io.sparkprop.bench;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Network;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.LoadedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * The Spark side of {@code scripts/bench-sparse}: scores a binary model on test data (area under
 * the ROC curve by MLlib's {@link BinaryClassificationMetrics}, an implementation independent of
 * ours, and the mean log loss), and runs Spark MLlib's {@link LogisticRegression} on the same
 * LIBSVM files as the baseline a Spark user would pick. Prints one JSON object per line.
 *
 * <ul>
 *   <li>{@code score --model model.spm --test DIR --features D}: the sparkprop model's test AUC and
 *       log loss ({@code -mean log p(label)}, probabilities clamped to {@code [1e-15, 1 - 1e-15]},
 *       as scikit-learn's {@code log_loss} does).</li>
 *   <li>{@code lr --train DIR --test DIR --features D [--target LOSS] [--max-iter 64]}: fits of
 *       L-BFGS logistic regression (no regularization, MLlib's defaults otherwise) with maxIter 1,
 *       2, 4, ... each fresh and timed alone (fit only, data cached first), each followed by its
 *       test log loss and AUC; stops at the first fit whose test log loss is at most the target, or
 *       at {@code --max-iter}. MLlib's L-BFGS takes one pass over the data per iteration plus its
 *       line search's.</li>
 * </ul>
 */
public final class SparseBench {

    private SparseBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("Usage: SparseBench score|lr --option value ...");
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        SparkSession spark = SparkSession.builder().appName("sparkprop sparse bench").getOrCreate();
        try {
            switch (args[0]) {
                case "score" -> score(spark, opts);
                case "lr" -> logisticRegression(spark, opts);
                default -> throw new IllegalArgumentException("Unknown mode " + args[0] + "; expected score or lr");
            }
        } finally {
            spark.stop();
        }
    }

    private static String required(Map<String, String> opts, String name) {
        String value = opts.get(name);
        if (value == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }

    /** The sparkprop model's test AUC and log loss, the test rows read as sparse blocks. */
    private static void score(SparkSession spark, Map<String, String> opts) throws Exception {
        Model model = ModelCodec.read(Path.of(required(opts, "model")));
        int features = Integer.parseInt(required(opts, "features"));
        TrainingConfig config = TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("data.format=libsvm",
                "data.train=" + required(opts, "test"), "data.num-features=" + features, "data.sparse=true",
                "data.scaling=none", "model.layers=" + layers(model))));
        LoadedData test = DataLoader.load(spark, config.trainData(), spark.sparkContext().defaultParallelism());
        double[] params = model.params();
        var spec = model.spec();
        JavaRDD<Tuple2<Object, Object>> scored = test.blocks().flatMap(block -> {
            List<Tuple2<Object, Object>> out = new ArrayList<>(block.rows());
            Network network = new Network(spec);
            Workspace ws = new Workspace(spec, Math.min(512, Math.max(1, block.rows())));
            for (int from = 0; from < block.rows(); from += ws.capacity()) {
                int to = Math.min(block.rows(), from + ws.capacity());
                network.forward(params, ws.load(block, from, to));
                double[] p = ws.output();
                for (int r = 0; r < to - from; r++) {
                    double label = block.targets()[(from + r) * 2 + 1];
                    out.add(new Tuple2<>(p[r * 2 + 1], label));
                }
            }
            return out.iterator();
        });
        scored.cache();
        BinaryClassificationMetrics metrics = new BinaryClassificationMetrics(scored.rdd());
        double logLoss = scored.mapToDouble(t -> logLoss((Double) t._1(), (Double) t._2())).mean();
        System.out.println(new JsonFields().add("bench", "sparse-score").add("rows", scored.count())
                .add("auc", metrics.areaUnderROC()).add("log_loss", logLoss).close());
        scored.unpersist(false);
        test.blocks().unpersist(false);
    }

    private static String layers(Model model) {
        int[] sizes = model.spec().sizes();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sizes.length; i++) {
            sb.append(i == 0 ? "" : ",").append(sizes[i]);
        }
        return sb.toString();
    }

    static double logLoss(double positive, double label) {
        double p = Math.min(1 - 1e-15, Math.max(1e-15, label > 0.5 ? positive : 1 - positive));
        return -Math.log(p);
    }

    /** MLlib logistic regression fits of growing maxIter, each timed alone, until the target log loss. */
    private static void logisticRegression(SparkSession spark, Map<String, String> opts) {
        int features = Integer.parseInt(required(opts, "features"));
        Dataset<Row> train = spark.read().format("libsvm").option("numFeatures", features)
                .load(required(opts, "train")).cache();
        Dataset<Row> test = spark.read().format("libsvm").option("numFeatures", features)
                .load(required(opts, "test")).cache();
        long rows = train.count();
        test.count();
        double target = Double.parseDouble(opts.getOrDefault("target", "0"));
        int maxIter = Integer.parseInt(opts.getOrDefault("max-iter", "64"));
        double totalSeconds = 0;
        for (int iterations = 1; iterations <= maxIter; iterations *= 2) {
            LogisticRegression lr = new LogisticRegression().setMaxIter(iterations).setRegParam(0.0).setTol(0.0);
            long start = System.nanoTime();
            LogisticRegressionModel model = lr.fit(train);
            double seconds = (System.nanoTime() - start) / 1e9;
            totalSeconds += seconds;
            JavaRDD<Tuple2<Object, Object>> scored = model.transform(test).select("probability", "label")
                    .javaRDD().map(r -> new Tuple2<>(((Vector) r.get(0)).apply(1), r.getDouble(1)));
            scored.cache();
            double auc = new BinaryClassificationMetrics(scored.rdd()).areaUnderROC();
            double logLoss = scored.mapToDouble(t -> logLoss((Double) t._1(), (Double) t._2())).mean();
            scored.unpersist(false);
            int done = model.summary().totalIterations();
            System.out.println(new JsonFields().add("bench", "sparse-lr").add("rows", rows)
                    .add("max_iter", iterations).add("iterations", done).add("fit_seconds", seconds)
                    .add("seconds_per_iteration", seconds / Math.max(1, done)).add("auc", auc)
                    .add("log_loss", logLoss).add("fits_seconds_so_far", totalSeconds).close());
            if (target > 0 && logLoss <= target || done < iterations) {
                break;
            }
        }
        train.unpersist();
        test.unpersist();
    }
}
