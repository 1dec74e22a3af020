package io.sparkprop.bench;

import io.sparkprop.spark.train.OrderedTreeAggregate;
import io.sparkprop.spark.train.ReduceScatter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Exchange-only rounds: sparkprop's exchange with the compute removed, on whatever cluster the
 * SparkSession runs on ({@code scripts/bench-scale} submits it to the standalone cluster of
 * {@code scripts/cluster}). Each round does what a training exchange does around the compute:
 * the driver broadcasts {@code arrays × N} doubles (weights, and a local-SGD round's optimizer
 * state), every one of the {@code P} tasks reads the broadcast and returns a result of the same
 * size (a copy plus its partition index, so no two are alike), and the results are summed by the
 * trainer's own {@link OrderedTreeAggregate} or {@link ReduceScatter} at depth 2, then the
 * broadcast is destroyed. What the compute would add is measured by the training runs.
 *
 * <p>Prints, and appends to {@code --out}, one JSON line per aggregation: the configuration, the
 * round's wall time (min, median, max over {@code --rounds} after {@code --warmup}), its broadcast
 * part, and per round from a {@link SparkListener}: task result bytes into the driver, shuffle
 * bytes written, stages and tasks. Every sum is checked against its closed form outside the
 * timing.
 *
 * <p>Usage: {@code ExchangeBench --partitions P --params N [--arrays A] [--rounds R] [--warmup W]
 * [--aggregation tree|reduce-scatter|both] [--workers W] [--out FILE]}
 */
public final class ExchangeBench {

    private ExchangeBench() {
    }

    /** One partition's result: {@code arrays × N} doubles. */
    static final class Partial implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final double[][] values;

        Partial(double[][] values) {
            this.values = values;
        }

        Partial merge(Partial other) {
            for (int a = 0; a < values.length; a++) {
                double[] into = values[a];
                double[] from = other.values[a];
                for (int i = 0; i < into.length; i++) {
                    into[i] += from[i];
                }
            }
            return this;
        }
    }

    static final ReduceScatter.Slicing<Partial> SLICING = new ReduceScatter.Slicing<>() {
        private static final long serialVersionUID = 1L;

        @Override
        public int length(Partial whole) {
            return whole.values[0].length;
        }

        @Override
        public Partial slice(Partial whole, int from, int to) {
            double[][] v = new double[whole.values.length][];
            for (int a = 0; a < v.length; a++) {
                v[a] = Arrays.copyOfRange(whole.values[a], from, to);
            }
            return new Partial(v);
        }

        @Override
        public Partial finish(Partial merged) {
            return merged;
        }

        @Override
        public Partial concat(List<Partial> slices) {
            double[][] v = new double[slices.get(0).values.length][];
            for (int a = 0; a < v.length; a++) {
                int n = 0;
                for (Partial s : slices) {
                    n += s.values[a].length;
                }
                v[a] = new double[n];
                int at = 0;
                for (Partial s : slices) {
                    System.arraycopy(s.values[a], 0, v[a], at, s.values[a].length);
                    at += s.values[a].length;
                }
            }
            return new Partial(v);
        }
    };

    /** Per round (job group): result bytes, shuffle bytes written, stages and tasks. */
    static final class Counts extends SparkListener {
        final Map<Integer, String> jobGroup = new ConcurrentHashMap<>();
        final Map<Integer, String> stageGroup = new ConcurrentHashMap<>();
        final Map<String, AtomicLong[]> byGroup = new ConcurrentHashMap<>();

        @Override
        public void onJobStart(SparkListenerJobStart job) {
            String group = job.properties() == null ? null : job.properties().getProperty("spark.jobGroup.id");
            if (group == null) {
                return;
            }
            AtomicLong[] c = byGroup.computeIfAbsent(group, g -> new AtomicLong[] {new AtomicLong(), new AtomicLong(),
                new AtomicLong(), new AtomicLong()});
            scala.collection.Iterator<Object> ids = job.stageIds().iterator();
            while (ids.hasNext()) {
                stageGroup.put((Integer) ids.next(), group);
            }
            c[2].addAndGet(job.stageInfos().size());
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd task) {
            String group = stageGroup.get(task.stageId());
            if (group == null || task.taskMetrics() == null) {
                return;
            }
            AtomicLong[] c = byGroup.get(group);
            c[0].addAndGet(task.taskMetrics().resultSize());
            c[1].addAndGet(task.taskMetrics().shuffleWriteMetrics().bytesWritten());
            c[3].incrementAndGet();
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int partitions = Integer.parseInt(opts.getOrDefault("partitions", "2"));
        int params = Integer.parseInt(opts.getOrDefault("params", "235146"));
        int arrays = Integer.parseInt(opts.getOrDefault("arrays", "1"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "10"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "3"));
        String which = opts.getOrDefault("aggregation", "both");
        String workers = opts.getOrDefault("workers", "");
        String out = opts.get("out");
        SparkSession spark = SparkSession.builder().appName("sparkprop exchange bench").getOrCreate();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Counts counts = new Counts();
        sc.sc().addSparkListener(counts);
        try {
            List<Integer> ids = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                ids.add(p);
            }
            JavaRDD<Integer> rdd = sc.parallelize(ids, partitions).persist(StorageLevel.MEMORY_ONLY());
            rdd.count();
            List<String> kinds = which.equals("both") ? List.of("tree", "reduce-scatter") : List.of(which);
            for (String kind : kinds) {
                long[] wall = new long[rounds];
                long[] bcast = new long[rounds];
                long[] resultBytes = new long[rounds];
                long[] shuffleBytes = new long[rounds];
                long[] stages = new long[rounds];
                long[] tasks = new long[rounds];
                for (int r = -warmup; r < rounds; r++) {
                    String group = kind + "-" + r;
                    sc.setJobGroup(group, "exchange-only round " + r + " (" + kind + ")", false);
                    double[][] start = new double[arrays][params];
                    for (double[] a : start) {
                        Arrays.fill(a, r + 1.0);
                    }
                    long t0 = System.nanoTime();
                    Broadcast<double[][]> b = sc.broadcast(start);
                    long t1 = System.nanoTime();
                    OrderedTreeAggregate.PartitionFunction<Integer, Partial> f = (p, it) -> {
                        double[][] v = b.value();
                        double[][] copy = new double[v.length][];
                        for (int a = 0; a < v.length; a++) {
                            copy[a] = v[a].clone();
                            copy[a][0] += p;
                        }
                        return new Partial(copy);
                    };
                    Partial sum = kind.equals("tree") ? OrderedTreeAggregate.aggregate(rdd, f, Partial::merge, 2)
                            : ReduceScatter.aggregate(rdd, f, SLICING, Partial::merge, 2, partitions);
                    b.destroy(false);
                    long t2 = System.nanoTime();
                    check(sum, partitions, params, arrays, r + 1.0);
                    if (r >= 0) {
                        wall[r] = t2 - t0;
                        bcast[r] = t1 - t0;
                    }
                }
                sc.clearJobGroup();
                // The listener bus is asynchronous: give it time to deliver the last round's task ends.
                for (int wait = 0; wait < 100 && !complete(counts, kind, rounds, partitions); wait++) {
                    Thread.sleep(100);
                }
                for (int r = 0; r < rounds; r++) {
                    AtomicLong[] c = counts.byGroup.get(kind + "-" + r);
                    resultBytes[r] = c == null ? -1 : c[0].get();
                    shuffleBytes[r] = c == null ? -1 : c[1].get();
                    stages[r] = c == null ? -1 : c[2].get();
                    tasks[r] = c == null ? -1 : c[3].get();
                }
                String line = new JsonFields().add("bench", "exchange-only").add("workers", workers)
                        .add("partitions", partitions).add("params", params).add("arrays", arrays)
                        .add("aggregation", kind).add("rounds", rounds)
                        .add("round_ms_min", min(wall) / 1e6).add("round_ms", median(wall) / 1e6)
                        .add("round_ms_max", max(wall) / 1e6).add("broadcast_ms", median(bcast) / 1e6)
                        .add("driver_in_bytes", median(resultBytes)).add("shuffle_write_bytes", median(shuffleBytes))
                        .add("stages", median(stages)).add("tasks", median(tasks))
                        .add("model_bytes", 8L * params * arrays).close();
                System.out.println(line);
                if (out != null) {
                    Files.writeString(Path.of(out), line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                }
            }
        } finally {
            spark.stop();
        }
    }

    private static boolean complete(Counts counts, String kind, int rounds, int partitions) {
        AtomicLong[] c = counts.byGroup.get(kind + "-" + (rounds - 1));
        return c != null && c[3].get() >= partitions;
    }

    /** Each element is {@code P × value}, element 0 of each array plus {@code 0 + 1 + ... + (P-1)}: exact in doubles here. */
    private static void check(Partial sum, int partitions, int params, int arrays, double value) {
        for (int a = 0; a < arrays; a++) {
            double[] s = sum.values[a];
            if (s.length != params) {
                throw new IllegalStateException("Sum of " + s.length + " parameters, expected " + params);
            }
            double expected = partitions * value;
            double first = expected + (double) partitions * (partitions - 1) / 2;
            if (s[0] != first || s[params - 1] != (params == 1 ? first : expected) || s[params / 2] != (params / 2 == 0
                    ? first : expected)) {
                throw new IllegalStateException(String.format(Locale.ROOT, "Wrong sum: %s, %s, %s", s[0], s[params / 2],
                        s[params - 1]));
            }
        }
    }

    private static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static long min(long[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    private static long max(long[] v) {
        return Arrays.stream(v).max().orElse(0);
    }
}
