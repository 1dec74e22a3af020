package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.report.RunDirectory;
import io.sparkprop.spark.session.ModelFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's {@code config.conf} as a config file, through {@link Main#run}: given a relative
 * {@code --set} data path (relative to the working directory) and a value holding {@code " #"}, it
 * reads back, from the run directory, to the files and values the run used; another run trains from
 * it; and the run resumes when the same file is given again, relatively or absolutely.
 */
class RunConfigRoundTripTest {

    @Test
    void configConfNamesTheFilesTheRunReadAndResumesWithTheSamePathGivenEitherWay(@TempDir Path dir)
            throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path train = Files.createDirectories(dir.resolve("data")).resolve("train.csv");
        StringBuilder csv = new StringBuilder("x,y,size #cm\n");
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 200; i++) {
            double x = random.nextDouble(-1, 1);
            double y = random.nextDouble(-1, 1);
            csv.append(x).append(',').append(y).append(',').append(x - y > 0 ? 1 : 0).append('\n');
        }
        Files.writeString(train, csv, StandardCharsets.UTF_8);
        Path conf = Files.createDirectories(dir.resolve("conf")).resolve("run.conf");
        Files.writeString(conf, String.join("\n", "data.format = csv", "data.partitions = 2", "model.layers = 2,6,2",
                "train.epochs = 1", "train.batch-size = 20", "train.seed = 3", ""), StandardCharsets.UTF_8);
        // Relative to the working directory (the module's, under Surefire), as a user types them.
        Path checkpoints = dir.resolve("checkpoints");
        String relative = relative(train);
        Path run = dir.resolve("runs").resolve("first");
        assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", run.toString(),
                "--set", "data.train=" + relative, "--set", "checkpoint.dir=" + relative(checkpoints),
                "--set", "data.label-column=size #cm"));

        Path written = run.resolve(RunDirectory.CONFIG);
        String text = Files.readString(written);
        JobConfig reread = JobConfig.load(written.toString(), new Configuration());
        assertEquals(train, local(reread.get("data.train")), text);
        assertEquals(checkpoints, local(reread.get("checkpoint.dir")), text);
        assertEquals("size #cm", reread.get("data.label-column"), text);
        // The model's copy of the config says the same.
        JobConfig inModel = JobConfig.parse(ModelCodec.read(run.resolve(RunDirectory.MODEL)).metadata()
                .get(ModelFiles.CONFIG), "model config");
        assertEquals(reread.get("data.train"), inModel.get("data.train"));
        assertEquals("size #cm", inModel.get("data.label-column"));

        // Resuming with the same files named absolutely changes nothing that must match; nor does
        // naming them relatively again.
        Path more = dir.resolve("runs").resolve("more");
        assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", more.toString(), "--resume",
                "--set", "data.train=" + train, "--set", "checkpoint.dir=" + checkpoints,
                "--set", "data.label-column=size #cm", "--set", "train.epochs=2"));
        Path most = dir.resolve("runs").resolve("most");
        assertEquals(0, Main.run(spark, "train", "--config", conf.toString(), "--run-dir", most.toString(), "--resume",
                "--set", "data.train=" + relative, "--set", "checkpoint.dir=" + relative(checkpoints),
                "--set", "data.label-column=size #cm", "--set", "train.epochs=3"));
        assertEquals(3, Files.readAllLines(most.resolve(RunDirectory.METRICS)).size());

        // config.conf is a config a user can train from again, from anywhere (into checkpoints of its own).
        Path again = dir.resolve("runs").resolve("again");
        assertEquals(0, Main.run(spark, "train", "--config", written.toString(), "--run-dir", again.toString(),
                "--set", "checkpoint.dir=" + dir.resolve("checkpoints-again")));
        JobConfig rereadAgain = JobConfig.load(again.resolve(RunDirectory.CONFIG).toString(), new Configuration());
        assertEquals(reread.get("data.train"), rereadAgain.get("data.train"));
        assertEquals("size #cm", rereadAgain.get("data.label-column"));
    }

    /** {@code file}, relative to the working directory. */
    private static String relative(Path file) {
        return Path.of("").toAbsolutePath().relativize(file).toString();
    }

    /** The local file a config value names: a {@code file:} URI (or an absolute path, which fails the scheme check). */
    private static Path local(String value) {
        java.net.URI uri = new org.apache.hadoop.fs.Path(value).toUri();
        assertEquals("file", uri.getScheme(), value);
        return Path.of(uri.getPath());
    }
}
