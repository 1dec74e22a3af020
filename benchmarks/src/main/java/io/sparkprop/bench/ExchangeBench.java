package io.sparkprop.bench;

import io.sparkprop.bench.scale.ExchangeKind;
import io.sparkprop.bench.scale.Measurement;
import io.sparkprop.bench.scale.MeasurementFile;
import io.sparkprop.bench.scale.RoundConfig;
import io.sparkprop.spark.train.ExchangeListener;
import io.sparkprop.spark.train.OrderedTreeAggregate;
import io.sparkprop.spark.train.ReduceScatter;
import java.io.IOException;
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
import org.apache.spark.broadcast.Broadcast;
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
 * <p>Prints one JSON line per aggregation: the configuration, the round's wall time (min, median,
 * max over {@code --rounds} after {@code --warmup}), its broadcast part, and per round from the
 * trainer's own {@link ExchangeListener} (the same figures as training's {@code metrics.jsonl}):
 * task result bytes into the driver, the broadcast's stored bytes, shuffle bytes written and read,
 * stages, tasks; and adds the medians as a row of
 * {@code --out}, the cost model's measurement file ({@link MeasurementFile}; {@code --workers} is
 * then required). Every sum is checked against its closed form outside the timing.
 *
 * <p>Usage: {@code ExchangeBench --partitions P,... --params N,... [--arrays A,...] [--rounds R]
 * [--warmup W] [--aggregation tree|reduce-scatter|both] [--workers W] [--out FILE]}: every
 * combination of the lists, in that nesting.
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
            return new Partial(ReduceScatter.sliceArrays(whole.values, from, to));
        }

        @Override
        public Partial finish(Partial merged) {
            return merged;
        }

        @Override
        public Partial concat(List<Partial> slices) {
            return new Partial(ReduceScatter.concatArrays(slices.stream().map(p -> p.values).toList()));
        }
    };

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int[] partitionCounts = ints(opts.getOrDefault("partitions", "2"));
        int[] paramCounts = ints(opts.getOrDefault("params", "235146"));
        int[] arrayCounts = ints(opts.getOrDefault("arrays", "1"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "10"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "3"));
        String which = opts.getOrDefault("aggregation", "both");
        String workers = opts.getOrDefault("workers", "");
        String out = opts.get("out");
        SparkSession spark = SparkSession.builder().appName("sparkprop exchange bench").getOrCreate();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        ExchangeListener listener = new ExchangeListener();
        sc.sc().addSparkListener(listener);
        try {
            for (int partitions : partitionCounts) {
                List<Integer> ids = new ArrayList<>();
                for (int p = 0; p < partitions; p++) {
                    ids.add(p);
                }
                JavaRDD<Integer> rdd = sc.parallelize(ids, partitions).persist(StorageLevel.MEMORY_ONLY());
                rdd.count();
                for (int params : paramCounts) {
                    for (int arrays : arrayCounts) {
                        for (String kind : which.equals("both") ? List.of("tree", "reduce-scatter") : List.of(which)) {
                            String line = measure(sc, listener, rdd, partitions, params, arrays, kind, rounds, warmup,
                                    workers, out);
                            System.out.println(line);
                        }
                    }
                }
                rdd.unpersist(true);
            }
        } finally {
            spark.stop();
        }
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** {@code rounds} timed exchange-only rounds after {@code warmup} untimed ones; their JSON line. */
    private static String measure(JavaSparkContext sc, ExchangeListener listener, JavaRDD<Integer> rdd,
                                  int partitions, int params, int arrays, String kind, int rounds, int warmup,
                                  String workers, String out) throws IOException {
        long[] exchanges = new long[rounds];
        long[] wall = new long[rounds];
        long[] bcast = new long[rounds];
        // 40-bit random integers: as incompressible as weights for the shuffle's and broadcast's
        // codecs, and their sums over up to 2^12 partitions are exact, so the check is exact.
        java.util.SplittableRandom random = new java.util.SplittableRandom(partitions * 31L + params);
        double[][] start = new double[arrays][params];
        for (double[] a : start) {
            for (int i = 0; i < params; i++) {
                a[i] = random.nextLong(1L << 40);
            }
        }
        for (int r = -warmup; r < rounds; r++) {
            long exchange = listener.open();
            sc.setLocalProperty(ExchangeListener.PROPERTY, Long.toString(exchange));
            start[0][0] = r + 1.0;
            long t0 = System.nanoTime();
            Broadcast<double[][]> b = sc.broadcast(start);
            long t1 = System.nanoTime();
            listener.broadcast(exchange, b.id());
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
                    : ReduceScatter.aggregate(rdd, f, SLICING, Partial::merge, 2,
                            ReduceScatter.slices(partitions, sc.defaultParallelism()));
            b.destroy(false);
            long t2 = System.nanoTime();
            check(sum, start, partitions);
            sc.setLocalProperty(ExchangeListener.PROPERTY, null);
            if (r >= 0) {
                wall[r] = t2 - t0;
                bcast[r] = t1 - t0;
                exchanges[r] = exchange;
            }
        }
        // The listener bus is asynchronous: the trainer's own wait for the rounds' events.
        if (!listener.await(exchanges, 10_000)) {
            throw new IllegalStateException("The listener bus did not deliver the rounds' events within 10 s");
        }
        // Per round: result bytes in, broadcast bytes out, shuffle written and read, stages, tasks.
        long[][] per = new long[6][rounds];
        for (int r = 0; r < rounds; r++) {
            ExchangeListener.Figures f = listener.figures(exchanges[r]);
            long[] values = {f.driverInBytes(), f.broadcastBytes(), f.shuffleWriteBytes(), f.shuffleReadBytes(),
                f.stages(), f.tasks()};
            for (int i = 0; i < values.length; i++) {
                per[i][r] = values[i];
            }
        }
        listener.clear();
        long[] job = new long[rounds];
        for (int r = 0; r < rounds; r++) {
            job[r] = wall[r] - bcast[r];
        }
        if (out != null) {
            // k = 1 exchanges one array (the gradient); more arrays stand for a local-SGD round's
            // weights and optimizer state (k = 64, as the training default).
            RoundConfig config = new RoundConfig(kind.equals("tree") ? ExchangeKind.TREE : ExchangeKind.REDUCE_SCATTER,
                    true, partitions, Integer.parseInt(workers), 1, params, arrays == 1 ? 1 : 64, arrays - 1, 0, 2,
                    // bench-scale starts every worker on the driver's host: they share its cores.
                    Runtime.getRuntime().availableProcessors());
            // Bytes out of the driver: one stored copy of the broadcast, as the training rows count it
            // (what executors fetch from each other is not counted).
            Measurement m = new Measurement(config, median(wall) / 1e6, 0, median(job) / 1e6, median(bcast) / 1e6, 0,
                    (int) median(per[4]), median(per[5]), median(per[0]), median(per[1]), median(per[2]),
                    median(per[3]));
            List<Measurement> all = new ArrayList<>(Files.exists(Path.of(out)) ? MeasurementFile.read(Path.of(out))
                    : List.of());
            all.add(m);
            MeasurementFile.write(Path.of(out), all);
        }
        return new JsonFields().add("bench", "exchange-only").add("workers", workers)
                .add("partitions", partitions).add("params", params).add("arrays", arrays)
                .add("aggregation", kind).add("rounds", rounds)
                .add("round_ms_min", min(wall) / 1e6).add("round_ms", median(wall) / 1e6)
                .add("round_ms_max", max(wall) / 1e6).add("broadcast_ms", median(bcast) / 1e6)
                .add("driver_in_bytes", median(per[0])).add("broadcast_bytes", median(per[1]))
                .add("shuffle_write_bytes", median(per[2])).add("shuffle_read_bytes", median(per[3]))
                .add("stages", median(per[4])).add("tasks", median(per[5]))
                .add("model_bytes", 8L * params * arrays).close();
    }

    /** Each element is the start's times {@code P}, element 0 plus {@code 0 + 1 + ... + (P-1)}: exact in doubles here. */
    private static void check(Partial sum, double[][] start, int partitions) {
        for (int a = 0; a < start.length; a++) {
            double[] s = sum.values[a];
            for (int i = 0; i < s.length; i++) {
                double expected = partitions * start[a][i] + (i == 0 ? (double) partitions * (partitions - 1) / 2 : 0);
                if (s[i] != expected) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "Wrong sum at array %d element %d: %s,"
                            + " expected %s", a, i, s[i], expected));
                }
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
