package io.sparkprop.spark.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a relative {@code --config} is read from, with a real HDFS (MiniDFSCluster) as the default
 * file system, as on YARN: the working directory's file when there is one (where
 * {@code spark-submit --files} puts it for the driver), else the default file system's.
 */
class HdfsConfigTest {

    @TempDir
    static java.nio.file.Path tmp;

    private static MiniDFSCluster cluster;
    private static FileSystem fs;

    @BeforeAll
    static void startHdfs() throws IOException {
        cluster = io.sparkprop.spark.MiniHdfs.start(tmp);
        fs = cluster.getFileSystem();
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    @Test
    void aRelativeConfigIsReadFromTheWorkingDirectoryWhenThereElseFromTheDefaultFileSystem() throws Exception {
        Configuration conf = new Configuration();
        conf.set("fs.defaultFS", cluster.getURI().toString());
        conf.setInt("dfs.replication", 1);
        String relative = "target/relative-config-" + System.nanoTime() + ".conf";

        // Only on HDFS (relative to the user's home directory there): read from HDFS, and its relative
        // data paths resolve next to it on HDFS.
        Path onHdfs = fs.makeQualified(new Path(relative));
        try (FSDataOutputStream out = fs.create(onHdfs)) {
            out.write("train.epochs = 7\ndata.train = train.csv\n".getBytes(StandardCharsets.UTF_8));
        }
        JobConfig fromHdfs = JobConfig.load(relative, conf);
        assertEquals(7, fromHdfs.value(ConfigSchema.TRAIN_EPOCHS));
        assertEquals(new Path(onHdfs.getParent(), "train.csv").toString(), fromHdfs.get("data.train"));

        // Also in the working directory: that file wins, and its data paths resolve next to it, locally.
        java.nio.file.Path local = java.nio.file.Path.of(relative).toAbsolutePath();
        Files.createDirectories(local.getParent());
        Files.writeString(local, "train.epochs = 3\ndata.train = train.csv\n", StandardCharsets.UTF_8);
        try {
            JobConfig fromWorkingDirectory = JobConfig.load(relative, conf);
            assertEquals(3, fromWorkingDirectory.value(ConfigSchema.TRAIN_EPOCHS));
            assertEquals(new Path(local.resolveSibling("train.csv").toUri()).toString(),
                    fromWorkingDirectory.get("data.train"));
            assertEquals(relative + " line 1", fromWorkingDirectory.origin("train.epochs"));
        } finally {
            Files.delete(local);
        }

        // In neither place: the message says both where it looked.
        String missing = "target/missing-" + System.nanoTime() + ".conf";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.load(missing, conf));
        assertTrue(e.getMessage().contains("neither in the working directory")
                && e.getMessage().contains(fs.makeQualified(new Path(missing)).toString())
                && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aRelativeSetPathIsOnTheDefaultFileSystemAndConfigConfOnHdfsReadsBackToIt() throws Exception {
        Configuration conf = new Configuration();
        conf.set("fs.defaultFS", cluster.getURI().toString());
        JobConfig given = JobConfig.defaults().withOverrides(List.of("data.train=data/train.csv",
                "checkpoint.dir=/runs/ckpt", "data.test=file:/local/test.csv"));
        JobConfig run = given.withQualifiedPaths(conf);
        // As the loader opens it: against HDFS's working directory, the user's home directory there.
        assertEquals(new Path(fs.getWorkingDirectory(), "data/train.csv").toString(), run.get("data.train"));
        assertTrue(run.get("data.train").startsWith(cluster.getURI().toString() + "/user/"), run.get("data.train"));
        assertEquals(cluster.getURI() + "/runs/ckpt", run.get("checkpoint.dir"));
        assertEquals("file:/local/test.csv", run.get("data.test"));

        // config.conf in a run directory on HDFS reads back to the same URIs, not to paths beside it.
        Path written = fs.makeQualified(new Path("/runs/x/config.conf"));
        try (FSDataOutputStream out = fs.create(written)) {
            out.write(run.render().getBytes(StandardCharsets.UTF_8));
        }
        JobConfig reread = JobConfig.load(written.toString(), conf);
        for (String key : List.of("data.train", "checkpoint.dir", "data.test")) {
            assertEquals(run.get(key), reread.get(key), key);
        }
    }
}
