package io.sparkprop.spark.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.optim.Adam;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The config file, overrides and their errors. */
class ConfigTest {

    private static void assertMessage(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should contain '" + fragment + "'");
        }
    }

    @Test
    void unknownKeysAreErrorsThatListTheValidKeysAndSuggestTheNearest() {
        assertMessage(() -> JobConfig.parse("train.epoch = 3\n", "my.conf"), "'train.epoch'",
                "did you mean 'train.epochs'", "my.conf line 1", "valid keys:", "train.batch-size");
        assertMessage(() -> JobConfig.defaults().withOverrides(List.of("model.layer=3,2")), "'model.layer'", "--set");
    }

    @Test
    void badValuesNameTheKeyTheValueTheExpectationAndTheLine() {
        assertMessage(() -> JobConfig.parse("# comment\n\ntrain.epochs = ten\n", "a.conf"), "'train.epochs'",
                "an integer", "'ten'", "a.conf line 3");
        assertMessage(() -> JobConfig.parse("train.optimizer = adagrad\n", "a.conf"), "'train.optimizer'",
                "one of sgd, momentum, nesterov, adam, adamw", "'adagrad'");
        assertMessage(() -> JobConfig.parse("train.learning-rate = NaN\n", "a.conf"), "finite number");
        assertMessage(() -> JobConfig.parse("model.layers = 784,x,10\n", "a.conf"), "comma-separated integers");
        assertMessage(() -> JobConfig.parse("train.epochs\n", "a.conf"), "key = value", "a.conf line 1");
        assertMessage(() -> JobConfig.parse("train.seed = 1\ntrain.seed = 2\n", "a.conf"), "set twice", "lines 1 and 2");
    }

    @Test
    void aHashStartsACommentOnlyAtTheStartOfALineOrAfterWhitespace() {
        JobConfig config = JobConfig.parse(String.join("\n",
                "# a comment line",
                "   # an indented comment line",
                "data.train = train.csv  # ours",
                "data.validation = runs#3/val.csv",
                "train.epochs = 4\t# tab before the hash",
                "data.test = a#b #c"), "c.conf");
        assertEquals("train.csv", config.get("data.train"));
        assertEquals("runs#3/val.csv", config.get("data.validation"));
        assertEquals(4, config.value(ConfigSchema.TRAIN_EPOCHS));
        assertEquals("a#b", config.get("data.test"));
        // A key whose value is only a comment is set to empty ("not set").
        assertEquals("", JobConfig.parse("data.test = # none\n", "c.conf").get("data.test"));
    }

    @Test
    void aValueWithACommentStartIsQuotedInTheRenderedConfigAndReadsBackTheSame() {
        JobConfig config = JobConfig.defaults().withOverrides(List.of("data.label-column=size #cm",
                        "data.weight-column=#w", "data.features-column=\"f\" \\ g"))
                .withSparkConf(Map.of("spark.sparkprop.data.test", "runs #3/test.csv"));
        String rendered = config.render();
        assertTrue(rendered.contains("\ndata.label-column = \"size #cm\"\n"), rendered);
        assertTrue(rendered.contains("\ndata.weight-column = \"#w\"\n"), rendered);
        assertTrue(rendered.contains("\ndata.features-column = \"\\\"f\\\" \\\\ g\"\n"), rendered);
        assertTrue(rendered.contains("\ndata.test = \"runs #3/test.csv\"\n"), rendered);
        // A '#' inside a word needs no quotes.
        assertTrue(JobConfig.defaults().withOverrides(List.of("data.validation=runs#3/v.csv")).render()
                .contains("\ndata.validation = runs#3/v.csv\n"));
        JobConfig reread = JobConfig.parse(rendered, "rendered");
        assertEquals(config.values(), reread.values());
        assertEquals("size #cm", reread.get("data.label-column"));
        assertEquals("\"f\" \\ g", reread.get("data.features-column"));
    }

    @Test
    void aQuotedValueInAFileIsTakenAsItIsWithOnlyACommentAfterIt() {
        JobConfig config = JobConfig.parse(String.join("\n",
                "data.label-column = \"size #cm\"  # the label",
                "data.weight-column=\"say \\\"hi\\\" \\\\ C:\\dir\"",
                "data.csv.delimiter = \";\"",
                "data.features-column = \"\"",
                "data.test = a\"b # an unquoted value keeps its quotes"), "q.conf");
        assertEquals("size #cm", config.get("data.label-column"));
        assertEquals("say \"hi\" \\ C:\\dir", config.get("data.weight-column"));
        assertEquals(';', TrainingConfig.from(config.with("model.layers", "2,2")).data().csvDelimiter());
        assertEquals("", config.get("data.features-column"));
        assertEquals("a\"b", config.get("data.test"));
        assertMessage(() -> JobConfig.parse("data.label-column = \"size #cm\n", "q.conf"), "'data.label-column'",
                "q.conf line 1", "does not close");
        assertMessage(() -> JobConfig.parse("\ndata.label-column = \"a\"b\n", "q.conf"), "'data.label-column'",
                "q.conf line 2", "after the closing quote", "'b'");
        assertMessage(() -> JobConfig.parse("data.label-column = \"a\"#b\n", "q.conf"), "after the closing quote");
    }

    @Test
    void aValueWithALineBreakIsRefusedNamingTheKeyAndWhereItCameFrom() {
        assertMessage(() -> JobConfig.defaults().withOverrides(List.of("data.label-column=a\nb")),
                "'data.label-column'", "one line", "a\\nb", "--set");
        assertMessage(() -> JobConfig.defaults().withSparkConf(Map.of("spark.sparkprop.data.train", "a\rb")),
                "'data.train'", "one line", "spark.sparkprop.data.train (Spark conf)");
    }

    @Test
    void relativeSetAndSparkConfPathsAreQualifiedAsHadoopOpensThemAndReadBackFromElsewhere(@TempDir Path dir)
            throws Exception {
        Configuration hadoop = new Configuration();
        Path fileDir = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(fileDir.resolve("a.conf"), "data.format = csv\nmodel.layers = 2,2\n"
                + "data.validation-labels = /abs/val-labels\ndata.test-labels = hdfs://nn:8020/t\n");
        JobConfig given = JobConfig.load(fileDir.resolve("a.conf").toString(), hadoop)
                .withSparkConf(Map.of("spark.sparkprop.data.validation", "data/val.csv",
                        "spark.sparkprop.checkpoint.dir", "runs/../ckpt"))
                .withOverrides(List.of("data.train=data/train.csv", "data.train-labels=../labels.csv",
                        "data.test=file:/abs/test.csv"));
        TrainingConfig run = TrainingConfig.from(given).withQualifiedPaths(hadoop);

        // What the run opens: the data loader and the checkpoint store open new Path(value) on its
        // file system, whose working directory resolves a relative path (here the local one's: the
        // process's working directory).
        org.apache.hadoop.fs.FileSystem local = org.apache.hadoop.fs.FileSystem.getLocal(hadoop);
        Map<String, String> opened = new java.util.LinkedHashMap<>();
        for (String key : List.of("data.train", "data.train-labels", "data.validation", "data.validation-labels",
                "checkpoint.dir")) {
            opened.put(key, local.makeQualified(new org.apache.hadoop.fs.Path(given.get(key))).toString());
        }
        opened.put("data.test", "file:/abs/test.csv");
        opened.put("data.test-labels", "hdfs://nn:8020/t");
        assertEquals(Path.of("data/train.csv").toAbsolutePath().toString(),
                new org.apache.hadoop.fs.Path(opened.get("data.train")).toUri().getPath());
        assertEquals(Path.of("ckpt").toAbsolutePath().toString(),
                new org.apache.hadoop.fs.Path(opened.get("checkpoint.dir")).toUri().getPath());
        for (Map.Entry<String, String> e : opened.entrySet()) {
            assertEquals(e.getValue(), run.text().get(e.getKey()), e.getKey());
        }
        assertEquals(opened.get("data.train"), run.data().train());
        assertEquals(opened.get("checkpoint.dir"), run.checkpoints().dir());
        assertEquals("--set (given as data/train.csv)", run.text().origin("data.train"));
        assertEquals("spark.sparkprop.data.validation (Spark conf) (given as data/val.csv)",
                run.text().origin("data.validation"));
        assertEquals("--set", run.text().origin("data.test"));

        // config.conf, read back from the run directory (not the working directory), names the same files.
        Path conf = Files.createDirectories(dir.resolve("runs").resolve("x")).resolve("config.conf");
        Files.writeString(conf, run.text().render());
        JobConfig reread = JobConfig.load(conf.toString(), hadoop);
        for (Map.Entry<String, String> e : opened.entrySet()) {
            assertEquals(e.getValue(), reread.get(e.getKey()), e.getKey());
        }
        // Qualified values stay as they are.
        assertEquals(reread.values(), reread.withQualifiedPaths(hadoop).values());
        assertMessage(() -> JobConfig.defaults().withOverrides(List.of("data.test=a:b")).withQualifiedPaths(hadoop),
                "'data.test'", "Hadoop path", "'a:b'", "--set");
    }

    @Test
    void overridesWinAndEveryValueRemembersWhereItCameFrom() {
        JobConfig config = JobConfig.parse("train.epochs = 3\n", "a.conf").withOverrides(List.of("train.epochs=7"));
        assertEquals(7, config.value(ConfigSchema.TRAIN_EPOCHS));
        assertEquals("--set", config.origin("train.epochs"));
        assertEquals("default", config.origin("train.seed"));
        assertTrue(config.render().contains("# from --set\ntrain.epochs = 7\n"), config.render());
        // The rendered config reads back to the same values.
        assertEquals(config.values(), JobConfig.parse(config.render(), "rendered").values());
    }

    @Test
    void sparkConfSitsBetweenTheFileAndSetAndNamesItsSettingAsTheOrigin() {
        JobConfig config = JobConfig.parse("train.epochs = 3\ntrain.seed = 1\ntrain.learning-rate = 0.01\n", "a.conf")
                .withSparkConf(Map.of("spark.sparkprop.train.learning-rate", " 0.02 ", "spark.sparkprop.train.seed", "7",
                        "spark.master", "local[2]", "spark.executor.memory", "8g"))
                .withOverrides(List.of("train.seed=9"));
        assertEquals(3, config.value(ConfigSchema.TRAIN_EPOCHS));
        assertEquals("a.conf line 1", config.origin("train.epochs"));
        assertEquals(0.02, config.value(ConfigSchema.TRAIN_LEARNING_RATE));
        assertEquals("spark.sparkprop.train.learning-rate (Spark conf)", config.origin("train.learning-rate"));
        assertEquals(9L, config.value(ConfigSchema.TRAIN_SEED));
        assertEquals("--set", config.origin("train.seed"));
        String rendered = config.render();
        assertTrue(rendered.contains("# from spark.sparkprop.train.learning-rate (Spark conf)\n"
                + "train.learning-rate = 0.02\n"), rendered);
        assertTrue(rendered.contains("# from a.conf line 1\ntrain.epochs = 3\n"), rendered);
        assertTrue(rendered.contains("# from --set\ntrain.seed = 9\n"), rendered);
        assertEquals(config.values(), JobConfig.parse(rendered, "rendered").values());
        // Other Spark settings are not config keys; no spark.sparkprop.* leaves the config as it was.
        assertEquals(JobConfig.defaults().values(), JobConfig.defaults().withSparkConf(Map.of("spark.app.name", "x"))
                .values());
    }

    @Test
    void aSparkConfKeyTheSchemaDoesNotDeclareOrABadValueNamesTheSparkSetting() {
        assertMessage(() -> JobConfig.defaults().withSparkConf(Map.of("spark.sparkprop.train.epoch", "5")),
                "Unknown config key 'train.epoch'", "Spark setting 'spark.sparkprop.train.epoch'",
                "did you mean 'spark.sparkprop.train.epochs'", "train.batch-size");
        assertMessage(() -> JobConfig.defaults().withSparkConf(Map.of("spark.sparkprop.", "5")), "Unknown config key ''",
                "'spark.sparkprop.'");
        assertMessage(() -> JobConfig.defaults().withSparkConf(Map.of("spark.sparkprop.train.epochs", "five")),
                "'train.epochs'", "an integer", "'five'", "spark.sparkprop.train.epochs (Spark conf)");
        // The training loop's test hooks share the prefix but are not config keys: left alone.
        JobConfig hooked = JobConfig.defaults().withSparkConf(Map.of("spark.sparkprop.test.failOnceAtStep", "3",
                "spark.sparkprop.train.epochs", "4"));
        assertEquals("4", hooked.get("train.epochs"));
        assertEquals(JobConfig.defaults().withOverrides(List.of("train.epochs=4")).render().lines()
                .filter(line -> !line.startsWith("#")).toList(), hooked.render().lines()
                .filter(line -> !line.startsWith("#")).toList());
    }

    @Test
    void relativeDataPathsInAFileAreRelativeToThatFile(@TempDir Path dir) throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf")).resolve("run.conf");
        Files.writeString(conf, "data.train = ../data/train.csv\ndata.validation = /abs/val.csv\n", StandardCharsets.UTF_8);
        JobConfig config = JobConfig.load(conf.toString(), new Configuration());
        assertEquals(dir.resolve("data/train.csv").toUri().getPath(),
                new org.apache.hadoop.fs.Path(config.get("data.train")).toUri().getPath());
        assertEquals("/abs/val.csv", config.get("data.validation"));
        assertMessage(() -> JobConfig.load(dir.resolve("missing.conf").toString(), new Configuration()), "missing.conf",
                "does not exist");
    }

    @Test
    void settingsBuildTheNetworkAndOptimizerAndCheckKeysTogether() {
        TrainingConfig mnist = TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=784,256,128,10")));
        assertEquals(Loss.SOFTMAX_CROSS_ENTROPY, mnist.spec().loss());
        assertEquals(Activation.RELU, mnist.spec().layer(0).activation());
        assertEquals(Activation.SOFTMAX, mnist.spec().layer(2).activation());
        assertTrue(mnist.optimization().newOptimizer(mnist.spec()) instanceof Adam);
        assertEquals(0.01, ((Adam) TrainingConfig.from(mnist.text().with("train.optimizer", "adamw")).optimization()
                .newOptimizer(mnist.spec())).weightDecay());

        TrainingConfig regression = TrainingConfig.from(JobConfig.defaults().withOverrides(
                List.of("model.layers=3,8,2", "model.task=regression", "model.hidden-activation=tanh")));
        assertEquals(Loss.MSE, regression.spec().loss());
        assertEquals(Activation.IDENTITY, regression.spec().layer(1).activation());

        assertMessage(() -> TrainingConfig.from(JobConfig.defaults()), "'model.layers' is required", "784,256,128,10");
        assertMessage(() -> TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=10"))),
                "'model.layers'", "at least one layer size");
        assertMessage(() -> TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=10,1"))),
                "number of classes");
        assertMessage(() -> TrainingConfig.from(JobConfig.defaults().withOverrides(
                List.of("model.layers=10,3", "model.output-activation=sigmoid"))), "'model.output-activation'",
                "must be softmax");
        assertMessage(() -> TrainingConfig.from(JobConfig.defaults().withOverrides(
                List.of("model.layers=10,3", "train.momentum=1.5"))), "'train.momentum'", "[0, 1)", "'1.5'", "--set");
        assertMessage(() -> TrainingConfig.from(JobConfig.defaults().withOverrides(
                List.of("model.layers=10,3", "train.epochs=0"))), "'train.epochs'", "at least 1");
    }

    @Test
    void scheduleCoversTheWholeRunAfterWarmup() {
        TrainingConfig settings = TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=4,3",
                "train.schedule=cosine", "train.epochs=2", "train.warmup-steps=10", "train.learning-rate=0.1")));
        var schedule = settings.optimization().schedule(50);
        assertEquals(0.1 / 10, schedule.rate(0), 1e-15);
        assertEquals(0.1, schedule.rate(10), 1e-15);
        assertEquals(0.0, schedule.rate(100), 1e-15);
        assertEquals(0.05, schedule.rate(10 + 45), 1e-12);
    }

    @Test
    void theReferenceFileDocumentsEveryKeyAsTheSchemaRendersIt() throws Exception {
        // Surefire runs in the module directory; conf/ is at the repository root.
        String onDisk = Files.readString(Path.of("..", "conf", "reference.conf"), StandardCharsets.UTF_8);
        assertEquals(ConfigSchema.renderReference(), onDisk,
                "conf/reference.conf is out of date: regenerate it from ConfigSchema.renderReference()");
        for (String key : ConfigSchema.keys().keySet()) {
            assertTrue(onDisk.contains("\n" + key + " ="), key);
        }
        // And it is itself a valid config file.
        JobConfig.parse(onDisk, "conf/reference.conf");
    }

    @Test
    void theShippedMnistConfigIsValid() throws Exception {
        JobConfig config = JobConfig.load(Path.of("..", "conf", "mnist.conf").toString(), new Configuration());
        TrainingConfig settings = TrainingConfig.from(config);
        assertEquals("784-256(RELU)-128(RELU)-10(SOFTMAX) SOFTMAX_CROSS_ENTROPY", settings.spec().toString());
        assertTrue(Files.exists(Path.of(new org.apache.hadoop.fs.Path(config.get("data.train")).toUri().getPath())),
                config.get("data.train"));
    }

    /** The state arrays each optimizer keeps, counted without allocating the model's size. */
    @Test
    void optimizersCountTheirStateArrays() {
        Map<String, Integer> expected = Map.of("sgd", 0, "momentum", 1, "nesterov", 1, "adam", 2, "adamw", 2);
        expected.forEach((kind, slots) -> {
            TrainingConfig config = TrainingConfig.from(JobConfig.defaults().withOverrides(List.of(
                    "model.layers=1048576,64,2", "train.optimizer=" + kind)));
            assertEquals(slots, config.optimization().optimizerFactory(config.spec()).slots(), kind);
        });
    }
}
