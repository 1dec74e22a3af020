package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sparkprop.core.io.Model;
import io.sparkprop.spark.checkpoint.TrainProcess;
import io.sparkprop.spark.session.ModelFiles;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.api.records.ApplicationAttemptReport;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar on a real YARN in cluster mode (issue 14, item 4): Hadoop's MiniYARNCluster (one
 * ResourceManager, one NodeManager) with a MiniDFSCluster, and Spark's own YARN client
 * ({@code SparkSubmit --master yarn --deploy-mode cluster}) in a child JVM, as a user submits.
 *
 * <p>{@link #amKilledAfterFirstCheckpointResumesInSecondAttempt}: MNIST on HDFS, the config shipped
 * with {@code --files} and named relatively (read from the container's working directory), the
 * README's {@code conf/sparkprop.properties} with {@code --load-spark-defaults}, the epoch count as
 * {@code --conf spark.sparkprop.train.epochs=2}, {@code spark.yarn.maxAppAttempts=2}. Once the first checkpoint is on HDFS the ApplicationMaster's
 * JVM (the driver, in cluster mode) gets SIGKILL; YARN starts attempt 2, whose driver takes over the
 * run directory from attempt 1 and resumes from the checkpoint. The application must end SUCCEEDED
 * after exactly two attempts with parameters bit-identical to a local-mode run of the same config
 * ({@code local[2]}, the same 2 partitions). {@link #successfulRunSucceedsInOneAttempt}: a run
 * that ends well must unregister as SUCCEEDED in its first attempt (a driver that called
 * {@code System.exit} was marked failed and retried).
 *
 * <p>Runs in Failsafe's integration-test phase, after {@code package}: it submits the shaded job
 * jar itself. Spark's classpath for the client and the containers is the one a Spark
 * distribution has (spark-job's compile and provided dependencies without what the job jar carries),
 * passed by the build as {@code sparkprop.spark.classpath} and given to YARN as
 * {@code spark.yarn.jars} with {@code local:} URIs (present on the node, not uploaded). The
 * NodeManager's container logs stay under {@code spark-job/target/sparkprop-yarn} for a failure's
 * post-mortem.
 */
class YarnClusterModeIT {

    private static final String MNIST = "../data/mnist/";
    private static final long TIMEOUT_SECONDS = 600;

    @TempDir
    static Path base;

    private static MiniDFSCluster hdfs;
    private static MiniYARNCluster yarn;
    private static YarnClient yarnClient;
    private static Path config;
    private static Path properties;
    private static String hdfsUri;

    @BeforeAll
    static void startClusters() throws Exception {
        hdfs = MiniHdfs.start(base);
        hdfsUri = hdfs.getURI().toString();
        FileSystem fs = hdfs.getFileSystem();
        for (String name : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) {
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(Path.of(MNIST, name).toAbsolutePath().toString()),
                    new org.apache.hadoop.fs.Path("/data/mnist/" + name));
        }

        YarnConfiguration conf = new YarnConfiguration();
        // As Spark's BaseYarnClusterSuite: no disk-full refusals on a busy disk; the capacity
        // scheduler's queue (capacity-scheduler.xml is missing from hadoop-client-minicluster).
        conf.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "100.0");
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.setInt("yarn.scheduler.capacity.root.default.capacity", 100);
        conf.setFloat("yarn.scheduler.capacity.root.default.user-limit-factor", 1);
        conf.setInt("yarn.scheduler.capacity.root.default.maximum-capacity", 100);
        conf.set("yarn.scheduler.capacity.root.default.state", "RUNNING");
        conf.set("yarn.scheduler.capacity.root.default.acl_submit_applications", "*");
        conf.set("yarn.scheduler.capacity.root.default.acl_administer_queue", "*");
        conf.setInt("yarn.scheduler.capacity.node-locality-delay", -1);
        conf.set("yarn.resourcemanager.hostname", "localhost");
        // One node for the ApplicationMaster (1 GiB driver) and two 1 GiB executors, with overheads.
        // (MiniYARNCluster gives its NodeManagers this key's value, 4096 by default, not yarn.nodemanager.resource.memory-mb.)
        conf.setInt("yarn.minicluster.yarn.nodemanager.resource.memory-mb", 6144);
        conf.setInt("yarn.nodemanager.resource.cpu-vcores", 4);
        conf.setInt("yarn.scheduler.minimum-allocation-mb", 128);
        conf.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
        conf.setBoolean("yarn.nodemanager.pmem-check-enabled", false);
        conf.setInt(YarnConfiguration.RM_AM_MAX_ATTEMPTS, 2);
        // Keep the container logs after the application ends (post-mortem, and the attempts' logs are read below).
        conf.setInt("yarn.nodemanager.delete.debug-delay-sec", 3600);
        yarn = new MiniYARNCluster("sparkprop-yarn", 1, 1, 1);
        yarn.init(conf);
        yarn.start();
        // MiniYARNCluster.start can return before the ResourceManager's port is in its configuration.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (yarn.getConfig().get(YarnConfiguration.RM_ADDRESS).endsWith(":0")) {
            if (System.nanoTime() > deadline) {
                fail("The ResourceManager's address is still port 0 after 30 s");
            }
            Thread.sleep(100);
        }
        yarnClient = YarnClient.createYarnClient();
        yarnClient.init(yarn.getConfig());
        yarnClient.start();

        config = base.resolve("mnist-yarn.conf");
        Files.writeString(config, String.join("\n",
                "# conf/mnist.conf with its data on HDFS",
                "data.format = idx",
                "data.train = " + hdfsUri + "/data/mnist/train-images-idx3-ubyte.gz",
                "data.train-labels = " + hdfsUri + "/data/mnist/train-labels-idx1-ubyte.gz",
                "data.validation = " + hdfsUri + "/data/mnist/t10k-images-idx3-ubyte.gz",
                "data.validation-labels = " + hdfsUri + "/data/mnist/t10k-labels-idx1-ubyte.gz",
                "data.test = " + hdfsUri + "/data/mnist/t10k-images-idx3-ubyte.gz",
                "data.test-labels = " + hdfsUri + "/data/mnist/t10k-labels-idx1-ubyte.gz",
                "data.scaling = divide", "data.scaling.divisor = 255", "data.partitions = 2",
                "model.task = classification", "model.layers = 784,256,128,10", "model.hidden-activation = relu",
                "train.epochs = 1", "train.batch-size = 256", "train.seed = 42", "train.optimizer = adam",
                "train.learning-rate = 0.002", "train.schedule = cosine", "checkpoint.every-steps = 50", ""));
        properties = writeSparkProperties();
    }

    @AfterAll
    static void stopClusters() {
        if (yarnClient != null) {
            yarnClient.stop();
        }
        if (yarn != null) {
            yarn.stop();
        }
        if (hdfs != null) {
            hdfs.shutdown();
        }
    }

    @Test
    void amKilledAfterFirstCheckpointResumesInSecondAttempt() throws Exception {
        String run = hdfsUri + "/runs/killed";
        Path localRun = base.resolve("local");
        Path localLog = base.resolve("local.log");
        // The reference: the same config in local mode, local[2] (LocalLauncher, this build's classes).
        // With OPENBLAS_NUM_THREADS=1, as scripts/sparkprop runs LocalLauncher and as the containers get
        // it (conf/sparkprop.properties): a machine's own OpenBLAS follows the variable, and without it
        // runs as many threads as cores, whose dgemm rounds differently (NativeBlasLibrary). Without
        // this line the comparison failed by 1 ulp on a machine with Debian's libopenblas0-pthread.
        ProcessBuilder localBuilder = new ProcessBuilder(TrainProcess.command(config, localRun, List.of(), "--set",
                "train.epochs=2")).redirectErrorStream(true).redirectOutput(localLog.toFile());
        localBuilder.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process local = localBuilder.start();

        Path log = base.resolve("submit-killed.log");
        // The epoch count comes as Spark conf (the spark.sparkprop.<key> layer, over the file's 1), as
        // an orchestrator would set it; the local run gets it with --set.
        Process submit = submit(log, "--conf", "spark.yarn.maxAppAttempts=2", "--conf", "spark.sparkprop.train.epochs=2",
                "train",
                "--config", config.getFileName().toString(), "--run-dir", run);
        ApplicationId app = awaitApplication(submit, log);
        FileSystem fs = hdfs.getFileSystem();
        org.apache.hadoop.fs.Path checkpoints = new org.apache.hadoop.fs.Path(run + "/checkpoints");
        awaitUntil(submit, log, "the first checkpoint on HDFS", () -> {
            FileStatus[] manifests = fs.globStatus(new org.apache.hadoop.fs.Path(checkpoints, "step-*/MANIFEST"));
            return manifests != null && manifests.length > 0;
        });
        ProcessHandle am = applicationMaster(app)
                .orElseThrow(() -> new AssertionError("No ApplicationMaster JVM of " + app + " found"));
        am.destroyForcibly();
        assertTrue(am.onExit().get(30, TimeUnit.SECONDS) != null);

        int code = awaitExit(submit, log);
        ApplicationReport report = yarnClient.getApplicationReport(app);
        List<ApplicationAttemptReport> attempts = yarnClient.getApplicationAttempts(app);
        String logs = containerLogs(app);
        check(log, logs, () -> {
            assertEquals(0, code, "spark-submit's exit code");
            assertEquals(FinalApplicationStatus.SUCCEEDED, report.getFinalApplicationStatus(), report.getDiagnostics());
            assertEquals(2, attempts.size(), "attempts: " + attempts);
            // Both attempts ran on two executors, as the reference runs on local[2].
            assertEquals(2, countMatches(logs, "Registered executor .* with ID 1,"), "attempts with a first executor");
            assertEquals(2, countMatches(logs, "Registered executor .* with ID 2,"), "attempts with a second executor");
            // Attempt 2 took the run directory over from attempt 1 and resumed; it did not start afresh.
            assertTrue(logs.contains("Taking over the run directory"), "no takeover in the containers' logs");
            assertTrue(Pattern.compile("Resuming from checkpoint at global step [1-9]").matcher(logs).find(),
                    "no resume in the containers' logs");
            String effective = new String(fs.open(new org.apache.hadoop.fs.Path(run + "/config.conf")).readAllBytes(),
                    StandardCharsets.UTF_8);
            assertTrue(effective.contains("# from spark.sparkprop.train.epochs (Spark conf)\ntrain.epochs = 2"),
                    "config.conf:\n" + effective);
        });

        assertEquals(0, local.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) ? local.exitValue() : -1,
                () -> "the local run failed:\n" + read(localLog));
        Configuration hadoop = hdfs.getFileSystem().getConf();
        Model onYarn = ModelFiles.read(run + "/model.spm", hadoop);
        Model inLocalMode = ModelFiles.read(localRun.resolve("model.spm").toUri().toString(), hadoop);
        assertEquals(inLocalMode.params().length, onYarn.params().length);
        for (int i = 0; i < onYarn.params().length; i++) {
            if (Double.doubleToRawLongBits(onYarn.params()[i]) != Double.doubleToRawLongBits(inLocalMode.params()[i])) {
                fail("Parameter " + i + " differs: YARN " + onYarn.params()[i] + ", local mode " + inLocalMode.params()[i]);
            }
        }
    }

    @Test
    void successfulRunSucceedsInOneAttempt() throws Exception {
        Path log = base.resolve("submit-ok.log");
        Process submit = submit(log, "generate", "--output", hdfsUri + "/generated/blobs", "--rows", "1000");
        ApplicationId app = awaitApplication(submit, log);
        int code = awaitExit(submit, log);
        ApplicationReport report = yarnClient.getApplicationReport(app);
        List<ApplicationAttemptReport> attempts = yarnClient.getApplicationAttempts(app);
        check(log, containerLogs(app), () -> {
            assertEquals(0, code, "spark-submit's exit code");
            assertEquals(FinalApplicationStatus.SUCCEEDED, report.getFinalApplicationStatus(), report.getDiagnostics());
            assertEquals(1, attempts.size(), "attempts: " + attempts);
            assertTrue(hdfs.getFileSystem().exists(new org.apache.hadoop.fs.Path("/generated/blobs/_SUCCESS")));
        });
    }

    /** {@code SparkSubmit --master yarn --deploy-mode cluster ... job.jar args} in a child JVM. */
    private static Process submit(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(TrainProcess.java());
        command.addAll(List.of("-cp", sparkClasspath().stream().collect(Collectors.joining(File.pathSeparator)),
                "org.apache.spark.deploy.SparkSubmit", "--master", "yarn", "--deploy-mode", "cluster",
                "--properties-file", properties.toString(), "--load-spark-defaults", "--files", config.toString(),
                "--class", Main.class.getName()));
        List<String> rest = new ArrayList<>(List.of(args));
        // Spark options (--conf) before the jar, the application's arguments after it.
        while (rest.size() >= 2 && rest.get(0).equals("--conf")) {
            command.add(rest.remove(0));
            command.add(rest.remove(0));
        }
        command.add(jobJar().toString());
        command.addAll(rest);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // The client reads the cluster's addresses from spark.hadoop.* (the properties file); an
        // empty HADOOP_CONF_DIR keeps it from any configuration of the machine's.
        Path confDir = base.resolve("hadoop-conf");
        Files.createDirectories(confDir);
        builder.environment().put("HADOOP_CONF_DIR", confDir.toString());
        builder.environment().remove("YARN_CONF_DIR");
        builder.environment().remove("SPARK_HOME");
        return builder.start();
    }

    /**
     * Spark properties for every submission: the README's {@code conf/sparkprop.properties} (Kryo
     * with our registrator, result sizes, BLAS threads...), then this machine's sizes: two one-core
     * 1 GiB executors (as {@code local[2]} and the 2 partitions of the reference run) and a 1 GiB
     * driver; the clusters' addresses ({@code spark.hadoop.*}, also shipped to the containers),
     * Spark's jars as {@code local:} URIs and the JVM the containers use.
     */
    private static Path writeSparkProperties() throws IOException {
        Properties props = new Properties();
        try (var in = Files.newBufferedReader(Path.of("../conf/sparkprop.properties"), StandardCharsets.UTF_8)) {
            props.load(in);
        }
        assertEquals("io.sparkprop.spark.SparkpropKryoRegistrator", props.getProperty("spark.kryo.registrator"));
        for (Map.Entry<String, String> e : yarn.getConfig()) {
            props.setProperty("spark.hadoop." + e.getKey(), e.getValue());
        }
        props.setProperty("spark.hadoop.fs.defaultFS", hdfsUri);
        props.setProperty("spark.hadoop.dfs.replication", "1");
        props.setProperty("spark.yarn.jars",
                sparkClasspath().stream().map(jar -> "local:" + jar).collect(Collectors.joining(",")));
        String javaHome = System.getProperty("java.home");
        props.setProperty("spark.yarn.appMasterEnv.JAVA_HOME", javaHome);
        props.setProperty("spark.executorEnv.JAVA_HOME", javaHome);
        props.setProperty("spark.executor.instances", "2");
        props.setProperty("spark.executor.cores", "1");
        props.setProperty("spark.executor.memory", "1g");
        props.setProperty("spark.driver.memory", "1g");
        props.setProperty("spark.ui.enabled", "false");
        props.setProperty("spark.yarn.submit.waitAppCompletion", "true");
        props.setProperty("spark.yarn.report.interval", "500ms");
        Path file = base.resolve("spark.properties");
        try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            props.store(out, "YarnClusterModeIT");
        }
        return file;
    }

    /** Spark's jars, as the build resolved them (the pom's sparkprop.spark.classpath). */
    private static List<String> sparkClasspath() {
        String classpath = System.getProperty("sparkprop.spark.classpath");
        if (classpath == null || classpath.isBlank()) {
            fail("sparkprop.spark.classpath is not set: run this test through Maven (mvn verify)");
        }
        return Arrays.stream(classpath.split(File.pathSeparator)).filter(s -> !s.isBlank()).toList();
    }

    /** The shaded job jar {@code package} built. */
    private static Path jobJar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("sparkprop-spark-job-.*\\.jar"))
                    .filter(p -> !p.getFileName().toString().startsWith("original-"))
                    .findFirst().orElseThrow(() -> new AssertionError("No job jar in target/: run mvn verify"));
        }
    }

    /** The application id spark-submit's YARN client prints once the ResourceManager accepted it. */
    private static ApplicationId awaitApplication(Process submit, Path log) throws Exception {
        Pattern submitted = Pattern.compile("Submitted application (application_\\d+_\\d+)");
        String[] id = new String[1];
        awaitUntil(submit, log, "the application's id", () -> {
            Matcher m = submitted.matcher(read(log));
            if (m.find()) {
                id[0] = m.group(1);
                return true;
            }
            return false;
        });
        return ApplicationId.fromString(id[0]);
    }

    /** The ApplicationMaster's JVM (the driver, in cluster mode) of {@code app}, if it runs. */
    private static Optional<ProcessHandle> applicationMaster(ApplicationId app) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                .map(c -> c.contains("org.apache.spark.deploy.yarn.ApplicationMaster") && c.contains(app.toString())
                        && p.info().command().map(j -> j.endsWith("/java")).orElse(false))
                .orElse(false)).findFirst();
    }

    private static int countMatches(String text, String regex) {
        return (int) Pattern.compile(regex).matcher(text).results().count();
    }

    /** Every container's stdout and stderr of {@code app} on the NodeManager, concatenated. */
    private static String containerLogs(ApplicationId app) throws IOException {
        StringBuilder all = new StringBuilder();
        for (String dir : yarn.getNodeManager(0).getConfig().getTrimmedStrings(YarnConfiguration.NM_LOG_DIRS)) {
            Path appLogs = Path.of(dir.replaceFirst("^file:", "")).resolve(app.toString());
            if (!Files.isDirectory(appLogs)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(appLogs)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    all.append("==== ").append(f).append('\n').append(read(f)).append('\n');
                }
            }
        }
        return all.toString();
    }

    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    private static void awaitUntil(Process process, Path log, String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.holds()) {
            if (!process.isAlive()) {
                fail("spark-submit exited with code " + process.exitValue() + " before " + what + ":\n" + read(log));
            }
            if (System.nanoTime() > deadline) {
                fail("No " + what + " after " + TIMEOUT_SECONDS + " s:\n" + read(log));
            }
            Thread.sleep(100);
        }
    }

    private static int awaitExit(Process process, Path log) throws Exception {
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("spark-submit did not end within " + TIMEOUT_SECONDS + " s:\n" + read(log));
        }
        return process.exitValue();
    }

    /** Runs {@code body}; if it fails, prints the client's log and the containers' logs first. */
    private static void check(Path log, String containerLogs, Body body) throws Exception {
        try {
            body.run();
        } catch (Exception | AssertionError e) {
            System.err.println("---- spark-submit " + log + "\n" + read(log) + "---- containers\n" + containerLogs);
            throw e;
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
