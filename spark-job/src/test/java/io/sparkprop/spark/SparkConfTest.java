package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.checkpoint.TrainProcess;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.deploy.SparkSubmit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config keys as Spark conf ({@code spark.sparkprop.<key>}), through the real spark-submit: each
 * run is a child JVM running {@link SparkSubmit} in client mode on {@code local[2]}, with
 * {@code conf/sparkprop.properties} and {@code --load-spark-defaults} as the README says, so the
 * settings reach {@link Main} the way they do on a cluster (SparkSubmit copies them into the
 * driver's system properties before it calls {@code main}). The class is on the child's classpath,
 * so the primary resource is Spark's {@code spark-internal}.
 */
class SparkConfTest {

    /** The properties file users pass to spark-submit (the tests run in the module's directory). */
    private static final Path PROPERTIES = Path.of("..", "conf", "sparkprop.properties").toAbsolutePath().normalize();

    @TempDir
    static Path dir;
    private static Path conf;
    private static Path sparkConfDir;

    /** What a child printed and exited with. */
    private record Outcome(int code, String out) {
    }

    @BeforeAll
    static void data() throws Exception {
        StringBuilder csv = new StringBuilder("x,y,label\n");
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 400; i++) {
            double x = random.nextDouble(-1, 1);
            double y = random.nextDouble(-1, 1);
            csv.append(x).append(',').append(y).append(',').append(x + y > 0 ? 1 : 0).append('\n');
        }
        Files.writeString(dir.resolve("train.csv"), csv, StandardCharsets.UTF_8);
        conf = dir.resolve("run.conf");
        Files.writeString(conf, String.join("\n",
                "data.format = csv",
                "data.train = train.csv",
                "data.validation-fraction = 0.25",
                "data.partitions = 2",
                "model.layers = 2,8,2",
                "train.epochs = 1",
                "train.learning-rate = 0.01",
                "train.seed = 1",
                ""), StandardCharsets.UTF_8);
        // The cluster's own defaults, kept by --load-spark-defaults: an admin may set keys there too.
        sparkConfDir = Files.createDirectories(dir.resolve("spark-conf"));
        Files.writeString(sparkConfDir.resolve("spark-defaults.conf"), "spark.sparkprop.train.batch-size  40\n",
                StandardCharsets.UTF_8);
        assertTrue(Files.isRegularFile(PROPERTIES), PROPERTIES + " is missing");
    }

    /** {@code spark-submit --properties-file ... --load-spark-defaults [sparkArgs] --class Main spark-internal appArgs}. */
    private static Outcome submit(List<String> sparkArgs, String... appArgs) throws Exception {
        List<String> command = TrainProcess.java();
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), SparkSubmit.class.getName(),
                "--master", "local[2]", "--deploy-mode", "client",
                "--properties-file", PROPERTIES.toString(), "--load-spark-defaults",
                "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.driver.bindAddress=127.0.0.1"));
        command.addAll(sparkArgs);
        command.addAll(List.of("--class", Main.class.getName(), "spark-internal"));
        command.addAll(List.of(appArgs));
        Path log = Files.createTempFile(dir, "submit", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().remove("SPARK_HOME");
        builder.environment().put("SPARK_CONF_DIR", sparkConfDir.toString());
        long start = System.nanoTime();
        Process process = builder.start();
        try {
            assertTrue(process.waitFor(180, TimeUnit.SECONDS), () -> "spark-submit did not finish:\n" + read(log));
        } finally {
            process.destroyForcibly();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("spark-submit %s: exit code %d after %.1f s%n", String.join(" ", appArgs),
                process.exitValue(), seconds);
        return new Outcome(process.exitValue(), Files.readString(log));
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static List<String> confs(String... settings) {
        List<String> args = new ArrayList<>();
        for (String setting : settings) {
            args.addAll(List.of("--conf", setting));
        }
        return args;
    }

    private static void assertContains(String text, String... fragments) {
        for (String fragment : fragments) {
            assertTrue(text.contains(fragment), () -> "expected '" + fragment + "' in:\n" + text);
        }
    }

    @Test
    void anUnknownSparkpropKeyInSparkConfFailsBeforeSparkStartsNamingTheSetting() throws Exception {
        Path run = dir.resolve("typo-run");
        Outcome typo = submit(confs("spark.sparkprop.train.epoch=3"), "train", "--config", conf.toString(),
                "--run-dir", run.toString());
        // A figure, not a limit (printed by submit): the whole spark-submit JVM, start to exit.
        assertEquals(2, typo.code(), typo.out());
        assertContains(typo.out(), "sparkprop: Unknown config key 'train.epoch' in the Spark setting"
                + " 'spark.sparkprop.train.epoch' (did you mean 'spark.sparkprop.train.epochs'?)");
        assertFalse(typo.out().contains("Effective configuration"), typo.out());
        assertFalse(Files.exists(run), "no run directory");
    }

    @Test
    void sparkConfOverridesTheFileSetOverridesSparkConfAndConfigConfNamesEachOriginAndResumes() throws Exception {
        Path run = dir.resolve("run");
        Path checkpoints = dir.resolve("checkpoints");
        // Relative, as Spark conf paths are to the driver's working directory (the child's is this JVM's).
        String relativeCheckpoints = Path.of("").toAbsolutePath().relativize(checkpoints).toString();
        List<String> sparkConf = confs("spark.sparkprop.train.learning-rate=0.02", "spark.sparkprop.train.seed=7",
                "spark.sparkprop.checkpoint.dir=" + relativeCheckpoints);
        Outcome first = submit(sparkConf, "train", "--config", conf.toString(), "--run-dir", run.toString(),
                "--set", "train.seed=9");
        assertEquals(0, first.code(), first.out());
        // Main's session registers the warm-up plugin (SparkSettings.TUNED), which the executor
        // (the driver's JVM in local mode) starts.
        assertContains(first.out(), "Warming the training step's kernels up on executor driver (2000 steps");
        String written = Files.readString(run.resolve(RunDirectory.CONFIG));
        // file < Spark conf (spark-defaults.conf and --conf alike) < --set, each value with its origin.
        assertContains(written,
                "# from " + conf + " line 6\ntrain.epochs = 1\n",
                "# from spark.sparkprop.train.batch-size (Spark conf)\ntrain.batch-size = 40\n",
                "# from spark.sparkprop.train.learning-rate (Spark conf)\ntrain.learning-rate = 0.02\n",
                "# from --set\ntrain.seed = 9\n");
        // config.conf reads back as a config file, to the values the run had.
        JobConfig reread = JobConfig.load(run.resolve(RunDirectory.CONFIG).toString(), new Configuration());
        assertEquals("0.02", reread.get("train.learning-rate"));
        assertEquals("9", reread.get("train.seed"));
        assertEquals("40", reread.get("train.batch-size"));
        // The relative path as the full URI the run wrote to, not one beside config.conf.
        assertEquals("file:" + checkpoints, reread.get("checkpoint.dir"));
        assertContains(written, "# from spark.sparkprop.checkpoint.dir (Spark conf) (given as " + relativeCheckpoints
                + ")\n");
        assertTrue(Files.isDirectory(checkpoints), "checkpoints in " + checkpoints);
        assertEquals(1, Files.readAllLines(run.resolve(RunDirectory.METRICS)).size());

        // The same settings resume from its checkpoints (whose config, origins and all, compares by
        // value), and one more epoch from --set goes on where it stopped.
        Path more = dir.resolve("run-more");
        Outcome resumed = submit(sparkConf, "train", "--config", conf.toString(), "--run-dir", more.toString(),
                "--set", "train.seed=9", "--set", "train.epochs=2", "--resume");
        assertEquals(0, resumed.code(), resumed.out());
        assertContains(resumed.out(), "Resuming from checkpoint");
        assertEquals(2, Files.readAllLines(more.resolve(RunDirectory.METRICS)).size(),
                "the resumed run's metrics hold the first epoch and its own");
        assertContains(Files.readString(more.resolve(RunDirectory.CONFIG)), "# from --set\ntrain.epochs = 2\n",
                "# from spark.sparkprop.train.learning-rate (Spark conf)\ntrain.learning-rate = 0.02\n");
        // (ResumeRulesTest: a Spark conf value that must match the checkpoint's refuses the resume.)
    }
}
