package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.report.RunDirectory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.SparkUserAppException;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line as users meet it: per-command help and options with their exit codes,
 * spark-submit's entry point (returns on success, throws on failure, never exits), config errors
 * before Spark starts, and a quoted CSV with comments in its config trained end to end.
 */
class CommandLineTest {

    /** What {@link Main#execute} printed and returned. */
    private record Outcome(int code, String out, String err, Throwable cause) {
    }

    private static Outcome execute(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Main.Exit exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            exit = Main.execute(args, o, e);
        }
        return new Outcome(exit.code(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                exit.cause());
    }

    private static void assertContains(String text, String... fragments) {
        for (String fragment : fragments) {
            assertTrue(text.contains(fragment), () -> "expected '" + fragment + "' in:\n" + text);
        }
    }

    @Test
    void everyCommandHasItsOwnHelpAndTheVersionExitingZero() throws Exception {
        for (String command : Arguments.COMMANDS) {
            Outcome help = execute(command, "--help");
            assertEquals(0, help.code(), help.err());
            assertContains(help.out(), "Usage: sparkprop " + command);
        }
        assertContains(execute("train", "--help").out(), "--run-dir=URI", "--resume", "--config=URI", "--set=KEY=VALUE");
        assertContains(execute("gradcheck", "-h").out(), "--rows=N", "(default: 8)", "--params=N");
        assertContains(execute("generate", "--help").out(), "--output=URI", "--seed=S");
        assertContains(execute("help", "evaluate").out(), "Usage: sparkprop evaluate", "--model=URI");
        assertContains(execute("predict", "--help").out(), "--input=URI", "--output=URI", "--output-format=parquet|csv",
                "[--passthrough=COL[,COL...]]...", "--overwrite", "input_file and input_row", "prediction_<k>");
        assertFalse(execute("predict", "--help").out().contains("[,COL[,COL...]...]"), "the split synopsis is garbled");
        Outcome top = execute();
        assertEquals(0, top.code());
        assertContains(top.out(), "Commands:", "train", "generate", "Exit codes");
        for (String[] version : List.of(new String[] {"--version"}, new String[] {"train", "--version"})) {
            Outcome v = execute(version);
            assertEquals(0, v.code());
            assertContains(v.out(), "sparkprop 0.1.0", "Spark 4.", "Java 17");
        }
    }

    @Test
    void unknownAndInapplicableOptionsAreRefusedPerCommandWithExitCodeTwo() throws Exception {
        Map<List<String>, List<String>> cases = Map.ofEntries(
                Map.entry(List.of("evaluate", "--config", "a.conf", "--model", "m.spm", "--run-dir", "r"),
                        List.of("Unknown option '--run-dir' for evaluate", "--model", "Usage: sparkprop evaluate")),
                Map.entry(List.of("train", "--config", "a.conf", "--rows", "3"),
                        List.of("Unknown option '--rows' for train", "--run-dir")),
                Map.entry(List.of("train", "--config=a.conf", "--model=m.spm"),
                        List.of("Unknown option '--model' for train")),
                Map.entry(List.of("generate", "--config", "x.conf", "--output", "o"),
                        List.of("Unknown option '--config' for generate (generate takes no config)")),
                Map.entry(List.of("gradcheck", "--config", "a.conf", "--rows", "eight"),
                        List.of("'--rows'", "'eight'", "(gradcheck)")),
                Map.entry(List.of("predict", "--config", "a.conf", "--model", "m.spm", "--input", "in.csv"),
                        List.of("Missing required option: '--output=URI' (predict)")),
                Map.entry(List.of("predict", "--config", "a.conf", "--model", "m.spm", "--output", "out"),
                        List.of("Missing required option: '--input=URI' (predict)")),
                Map.entry(List.of("predict", "--config", "a.conf", "--model", "m.spm", "--input", "in", "--output", "out",
                        "--output-format", "json"),
                        List.of("--output-format must be parquet or csv but is 'json'")),
                Map.entry(List.of("predict", "--config", "a.conf", "--model", "m.spm", "--input", "in", "--output", "out",
                        "--passthrough", "id,id"),
                        List.of("--passthrough names column 'id' twice")),
                Map.entry(List.of("predict", "--config", "a.conf", "--model", "m.spm", "--input", "in", "--output", "out",
                        "--run-dir", "r"),
                        List.of("Unknown option '--run-dir' for predict")),
                Map.entry(List.of("train", "--run-dir", "r"),
                        List.of("Missing required option: '--config=URI' (train)")),
                Map.entry(List.of("inspect", "a", "b"),
                        List.of("Unexpected argument 'b' for inspect")),
                Map.entry(List.of("fit", "--config", "a.conf"),
                        List.of("Unknown command 'fit'; expected one of train, evaluate, predict, gradcheck, inspect,"
                                + " generate, export")),
                Map.entry(List.of("train", "--config", "a.conf", "--resume"),
                        List.of("--resume needs the --run-dir")));
        for (Map.Entry<List<String>, List<String>> c : cases.entrySet()) {
            Outcome outcome = execute(c.getKey().toArray(new String[0]));
            assertEquals(2, outcome.code(), c.getKey() + ": " + outcome.err());
            assertContains(outcome.err(), c.getValue().toArray(new String[0]));
            assertContains(outcome.err(), "sparkprop: ");
        }
    }

    @Test
    void optionsTakeEqualsFormsAndSetIsRepeatable() {
        Arguments.Train train = (Arguments.Train) Arguments.parse("train", "--config=a.conf", "--run-dir=r",
                "--set", "train.epochs=3", "--set=train.seed=7", "--resume").command();
        assertEquals("a.conf", train.options.config);
        assertEquals("r", train.runDir);
        assertEquals(List.of("train.epochs=3", "train.seed=7"), train.options.sets);
        assertTrue(train.resume);
        Arguments.Gradcheck gradcheck = (Arguments.Gradcheck) Arguments.parse("gradcheck", "--config", "a.conf",
                "--rows=4").command();
        assertEquals(4, gradcheck.rows);
        assertEquals(2000, gradcheck.params);
    }

    @Test
    void aMisspeltKeyFailsBeforeAnySparkSessionStarts(@TempDir Path dir) throws Exception {
        SparkTestSupport.stopShared();
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
        Path conf = dir.resolve("typo.conf");
        Files.writeString(conf, "data.format = csv\ntrain.epoch = 3\n", StandardCharsets.UTF_8);
        long start = System.nanoTime();
        Outcome outcome = execute("train", "--config", conf.toString(), "--run-dir", dir.resolve("run").toString());
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("config typo reported %.3f s after Main.execute started (in-process)%n", seconds);
        assertEquals(2, outcome.code());
        assertContains(outcome.err(), "Unknown config key 'train.epoch'", "did you mean 'train.epochs'",
                conf + " line 2");
        assertTrue(SparkSession.getActiveSession().isEmpty(), "no active session");
        assertTrue(SparkSession.getDefaultSession().isEmpty(), "no default session");
        // A rule between keys (train and gradcheck check them before Spark too).
        Path valid = dir.resolve("valid.conf");
        Files.writeString(valid, "data.format = csv\ndata.sparse = true\nmodel.layers = 2,4,2\n", StandardCharsets.UTF_8);
        Outcome span = execute("gradcheck", "--config", valid.toString(), "--set", "data.scaling=standardize");
        assertEquals(2, span.code());
        assertContains(span.err(), "data.scaling", "data.sparse = true");
        assertTrue(SparkSession.getDefaultSession().isEmpty(), "no default session");
        assertFalse(Files.exists(dir.resolve("run")), "no run directory either");
    }

    /** Runs {@link LocalLauncher} in a child JVM (the test's classpath); returns its exit code and output. */
    private static Outcome launch(Path dir, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseParallelGC", "-cp",
                System.getProperty("java.class.path"), LocalLauncher.class.getName()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile(dir, "child", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the child did not finish");
        return new Outcome(process.exitValue(), Files.readString(log), "", null);
    }

    @Test
    void theLocalLauncherEndsWithTheExitCodeAndAConfigTypoEndsItWithinAboutASecond(@TempDir Path dir)
            throws Exception {
        Path conf = dir.resolve("typo.conf");
        Files.writeString(conf, "data.format = csv\ntrain.epoch = 3\n", StandardCharsets.UTF_8);
        long start = System.nanoTime();
        Outcome typo = launch(dir, "train", "--config", conf.toString());
        // A figure, not a limit: it depends on the machine and its load.
        System.out.printf("config typo: the launcher's JVM ended with code %d %.2f s after it was started%n",
                typo.code(), (System.nanoTime() - start) / 1e9);
        assertEquals(2, typo.code(), typo.out());
        assertContains(typo.out(), "sparkprop: Unknown config key 'train.epoch'", conf + " line 2");
        assertFalse(typo.out().contains("SparkContext"), typo.out());
        Outcome version = launch(dir, "--version");
        assertEquals(0, version.code(), version.out());
        assertContains(version.out(), "sparkprop 0.1.0");
    }

    @Test
    void sparkSubmitsEntryReturnsOnSuccessAndThrowsTheExitCodeOnFailure(@TempDir Path dir) throws Exception {
        // spark-submit passes its settings as system properties; these keep the session small and local.
        Map<String, String> properties = Map.of("spark.master", "local[2]", "spark.ui.enabled", "false",
                "spark.driver.host", "127.0.0.1", "spark.driver.bindAddress", "127.0.0.1");
        SparkTestSupport.stopShared();
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
        properties.forEach(System::setProperty);
        PrintStream stderr = System.err;
        try {
            Path data = dir.resolve("synthetic");
            // Returns normally (a System.exit would end this JVM and the test run with it).
            Main.main(new String[] {"generate", "--output", data.toString(), "--rows", "40", "--features", "3",
                    "--partitions", "2"});
            assertTrue(Files.isDirectory(data));
            Main.main(new String[] {"train", "--help"});

            ByteArrayOutputStream err = new ByteArrayOutputStream();
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            SparkUserAppException usage = assertThrows(SparkUserAppException.class,
                    () -> Main.main(new String[] {"train", "--config", dir.resolve("none.conf").toString()}));
            assertEquals(2, usage.exitCode());
            assertContains(err.toString(StandardCharsets.UTF_8), "sparkprop: Config file", "none.conf",
                    "does not exist");

            SparkUserAppException exists = assertThrows(SparkUserAppException.class,
                    () -> Main.main(new String[] {"generate", "--output", data.toString(), "--rows", "10"}));
            assertEquals(2, exists.exitCode());
            assertContains(err.toString(StandardCharsets.UTF_8), "already exists");
        } finally {
            System.setErr(stderr);
            properties.keySet().forEach(System::clearProperty);
        }
    }

    @Test
    void aQuotedCsvWithACommentedConfigTrainsThroughTheCommandLine(@TempDir Path dir) throws Exception {
        // As pandas' to_csv(quoting=csv.QUOTE_NONNUMERIC) writes it: quoted header names (one with the
        // delimiter and a doubled quote in it) and a quoted label column.
        StringBuilder csv = new StringBuilder("\"x, first\",\"the \"\"y\"\"\",\"label\"\n");
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 400; i++) {
            double x = random.nextDouble(-1, 1);
            double y = random.nextDouble(-1, 1);
            csv.append(x).append(',').append(y).append(",\"").append(x + y > 0 ? 1 : 0).append("\"\n");
        }
        Files.writeString(dir.resolve("train#1.csv"), csv, StandardCharsets.UTF_8);
        Path conf = dir.resolve("quoted.conf");
        Files.writeString(conf, String.join("\n",
                "# a quoted CSV, as spreadsheets and pandas write it",
                "data.format = csv",
                "data.train = train#1.csv   # the '#' in the name stays, this comment goes",
                "data.label-column = label",
                "data.validation-fraction = 0.25",
                "data.partitions = 2",
                "model.layers = 2,8,2  # two features, two classes",
                "train.epochs = 8",
                "train.batch-size = 20",
                "train.learning-rate = 0.05",
                ""), StandardCharsets.UTF_8);
        Path run = dir.resolve("run");
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", conf.toString(), "--run-dir",
                run.toString()));
        Model model = ModelCodec.read(run.resolve(RunDirectory.MODEL));
        assertEquals(2, model.spec().inputSize());
        List<String> metrics = Files.readAllLines(run.resolve(RunDirectory.METRICS));
        double accuracy = Double.parseDouble(metrics.get(metrics.size() - 1)
                .replaceAll(".*\"val_accuracy\":([0-9.eE-]+).*", "$1"));
        assertTrue(accuracy > 0.85, "held-out accuracy " + accuracy);
    }
}
