package io.sparkprop.spark.session;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Spark settings a training step is faster with, which the command line sets in its own
 * session ({@code Main.session}) and the estimators, running in the user's session, advise once
 * in the log when a run would be slowed by their absence.
 */
public final class SparkSettings {

    private static final Logger LOG = LoggerFactory.getLogger(SparkSettings.class);

    /** Spark's default {@code spark.task.maxDirectResultSize}: 1 MiB. */
    private static final long DEFAULT_DIRECT_RESULT = 1L << 20;
    /**
     * What the command line sets it to: Spark's RPC message limit ({@code spark.rpc.message.maxSize},
     * 128 MiB), the most a result sent with the task status can be.
     */
    private static final String DIRECT_RESULT = "128m";
    private static final long DIRECT_RESULT_BYTES = 128L << 20;
    /** Results above this are worth Kryo's bulk array copies ({@code spark.kryo.unsafe}). */
    private static final long KRYO_UNSAFE_BYTES = 64L << 20;

    /**
     * The command line's settings, applied where the user has not set them:
     * <ul>
     *   <li>{@code spark.task.maxDirectResultSize=128m}: a step's results (a few MB of gradient or
     *       weights per task, 70 MB for a lazy round of a wide sparse model) go straight back with
     *       the task status instead of through the block manager (Spark's default 1 MiB; measured
     *       ~8 ms less per synchronous step in {@code local[2]}, and a lazy 2^18 x 64 round 657 ms
     *       instead of 857 at the earlier 64m, its results' time from 257 ms to 13);
     *   <li>{@code spark.broadcast.compress=false}: the weights are random doubles, which lz4
     *       cannot shrink, so compressing each step's broadcast only costs time (~1 ms per step);
     *   <li>{@code spark.kryo.unsafe=true} (read only when {@code spark.serializer} is Kryo): Kryo
     *       copies primitive arrays in bulk instead of one value at a time. A lazy round's 70 MB
     *       row-sparse change serialized in 16 ms instead of 53 and deserialized in 11 instead of 39
     *       (2026-11-30, this machine). The bytes are in the JVM's native order, so every executor
     *       and the driver must share it (all x86-64 and AArch64 ones do);
     *   <li>{@code spark.plugins=}{@link WarmupPlugin}: each executor compiles the step's kernels
     *       on a small network of its own when it starts, while the driver is still loading data,
     *       instead of in the first round (a cold JVM's first MNIST step took 152 ms and the next
     *       nine 8-20 ms, against 2.3 warm). Where the user names plugins of their own, theirs stand.
     * </ul>
     */
    public static final Map<String, String> TUNED = Map.of(
            "spark.task.maxDirectResultSize", DIRECT_RESULT,
            "spark.broadcast.compress", "false",
            "spark.kryo.unsafe", "true",
            "spark.plugins", WarmupPlugin.class.getName());

    /**
     * Sets {@link #TUNED}'s settings that {@code conf} lacks (the command line's session), and says
     * in the log when {@code spark.plugins} was set without {@link WarmupPlugin}, which then does
     * not run (the user's plugins stand; an empty value turns the warm-up off).
     */
    public static void tune(SparkConf conf) {
        String plugins = conf.get("spark.plugins", null);
        TUNED.forEach(conf::setIfMissing);
        if (plugins != null && !pluginList(conf).contains(WarmupPlugin.class.getName())) {
            LOG.info("spark.plugins is set ('{}'): the executors' warm-up ({}) is not added; add it to the list"
                    + " to have it", plugins, WarmupPlugin.class.getName());
        }
    }

    /**
     * The plugin class names Spark loads: {@code spark.plugins.defaultList} then
     * {@code spark.plugins}, each comma-separated, names trimmed, empty entries dropped.
     */
    static List<String> pluginList(SparkConf conf) {
        List<String> names = classNames(conf, "spark.plugins.defaultList");
        names.addAll(classNames(conf, "spark.plugins"));
        return names;
    }

    /** {@code key}'s comma-separated class names, trimmed, empty entries dropped; a new list. */
    private static List<String> classNames(SparkConf conf, String key) {
        List<String> names = new ArrayList<>();
        for (String name : conf.get(key, "").split(",")) {
            if (!name.isBlank()) {
                names.add(name.trim());
            }
        }
        return names;
    }

    /** Advice already given in this JVM, so each is logged once. */
    private static final Set<String> ADVISED = ConcurrentHashMap.newKeySet();

    private SparkSettings() {
    }

    /**
     * The settings {@code conf} lacks that would speed up the run {@code config} describes, each
     * with its value and why, in a stable order; empty when none matters. A task's result is the
     * gradient sum (synchronous) or the weights and the optimizer state (local SGD),
     * {@code 8 × paramCount} bytes per array.
     */
    public static Map<String, String> missing(SparkConf conf, TrainingConfig config) {
        Map<String, String> advice = new LinkedHashMap<>();
        long resultBytes = io.sparkprop.spark.train.DistributedTrainer.resultBytes(config);
        long direct = conf.getSizeAsBytes("spark.task.maxDirectResultSize", String.valueOf(DEFAULT_DIRECT_RESULT));
        if (resultBytes > direct && resultBytes <= DIRECT_RESULT_BYTES) {
            advice.put("spark.task.maxDirectResultSize", String.format(Locale.ROOT, "%s (a task's result is %.1f MB,"
                    + " over the %.1f MB limit, so every step fetches it through the block manager)", DIRECT_RESULT,
                    resultBytes / 1e6, direct / 1e6));
        }
        if (conf.getBoolean("spark.broadcast.compress", true)) {
            advice.put("spark.broadcast.compress", "false (the weights broadcast every step are random doubles,"
                    + " which compression cannot shrink)");
        }
        if (conf.get("spark.serializer", "").equals("org.apache.spark.serializer.KryoSerializer")
                && !conf.getBoolean("spark.kryo.unsafe", false) && resultBytes > KRYO_UNSAFE_BYTES) {
            advice.put("spark.kryo.unsafe", String.format(Locale.ROOT, "true (a task's result is %.1f MB, which Kryo"
                    + " otherwise writes and reads one value at a time)", resultBytes / 1e6));
        }
        // Not when the user set spark.plugins empty (the documented way to turn the warm-up off).
        boolean turnedOff = conf.contains("spark.plugins") && conf.get("spark.plugins").isBlank();
        if (!turnedOff && !pluginList(conf).contains(WarmupPlugin.class.getName())) {
            List<String> own = classNames(conf, "spark.plugins");
            own.add(WarmupPlugin.class.getName());
            advice.put("spark.plugins", String.join(",", own) + " (each executor compiles the training step's"
                    + " kernels as it starts, instead of in the first round: a cold JVM's first MNIST round a third"
                    + " shorter)");
        }
        return advice;
    }

    /**
     * {@code --conf key=value} for a shell: single-quoted when the value holds anything but
     * letters, digits and {@code . _ , : / -} (a nested plugin class's {@code $}).
     */
    public static String confFlag(String key, String value) {
        String pair = key + "=" + value;
        return "--conf " + (value.matches("[A-Za-z0-9._,:/-]*") ? pair : "'" + pair.replace("'", "'\\''") + "'");
    }

    /** Logs {@link #missing}'s advice once per JVM (per distinct advice), with the exact settings to add. */
    public static void advise(SparkConf conf, TrainingConfig config) {
        Map<String, String> advice = missing(conf, config);
        if (advice.isEmpty() || !ADVISED.add(advice.keySet().toString())) {
            return;
        }
        List<String> lines = new ArrayList<>();
        List<String> flags = new ArrayList<>();
        advice.forEach((key, why) -> {
            lines.add("  " + key + "=" + why);
            flags.add(confFlag(key, why.split(" ", 2)[0]));
        });
        LOG.warn("Training would be faster with these Spark settings, which this session lacks (set them on the"
                + " session's builder or as spark-submit {}; scripts/sparkprop sets them itself):\n{}",
                String.join(" ", flags), String.join("\n", lines));
    }
}
