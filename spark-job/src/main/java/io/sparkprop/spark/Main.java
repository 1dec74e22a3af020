package io.sparkprop.spark;

import io.sparkprop.core.GradientCheck;
import io.sparkprop.spark.cli.ExportCommand;
import io.sparkprop.spark.cli.GenerateCommand;
import io.sparkprop.spark.cli.GradcheckCommand;
import io.sparkprop.spark.cli.InspectCommand;
import io.sparkprop.spark.cli.ModelDataCommands;
import io.sparkprop.spark.cli.PredictCommand;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.session.SparkSettings;
import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkUserAppException;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * The command line: {@code train}, {@code evaluate}, {@code predict}, {@code gradcheck},
 * {@code inspect}, {@code generate} and {@code export} (the grammar is {@link Arguments}). Runs under
 * {@code spark-submit} (master and resources from there) or directly, where it defaults to
 * {@code local[*]}. Kryo with our registrator is the default serializer.
 *
 * <h2>Two entry points</h2>
 * <ul>
 *   <li>{@link #main} is spark-submit's, and behaves as a Spark application must: it returns
 *       normally on success and never calls {@code System.exit}, because YARN's ApplicationMaster
 *       takes a user class that exits before returning for a failed attempt ("EXIT_EARLY") and
 *       starts another. A failure it has explained (the message is printed to stderr first) is
 *       thrown as {@link SparkUserAppException} with the exit code, which spark-submit turns into
 *       its exit code and YARN into a FAILED final status (it carries no cause, so spark-submit
 *       adds no stack trace to the message); any other exception is thrown as it is.</li>
 *   <li>{@link LocalLauncher#main} is {@code scripts/sparkprop}'s: the same run, ended with
 *       {@code System.exit(code)} so shells and CI see the code.</li>
 * </ul>
 * Exit codes: 0 success (help and {@code --version} included), 1 training or check failure
 * (non-finite loss, failed gradient check, an unexpected error), 2 bad usage, config or input (the
 * message names the option, key, file or row).
 *
 * <h2>Config before Spark</h2>
 * The command line and the config file (with its {@code --set} overrides) are parsed and checked
 * before the SparkSession starts, and for {@code train} and {@code gradcheck} so are the rules that
 * span keys ({@link TrainingConfig#from}): a misspelt key fails in about a second, not after Spark
 * (or a YARN container) has started. The file is read with a Hadoop configuration built from the
 * {@code spark.hadoop.*} settings, as the session's will be ({@link #hadoopConfiguration()}).
 *
 * <h2>Config keys as Spark conf</h2>
 * A Spark setting {@code spark.sparkprop.<key>} sets the config key {@code <key>}, between the
 * file and {@code --set}: the file &lt; Spark conf &lt; {@code --set}
 * ({@link JobConfig#withSparkConf}). Under spark-submit the driver's Spark conf is in its system
 * properties before any session starts: {@code SparkSubmit} copies every {@code --conf},
 * {@code --properties-file} and {@code spark-defaults.conf} setting there before it calls
 * {@code main} (client mode, and the driver that a Kubernetes or standalone cluster starts), and
 * YARN's ApplicationMaster does the same for a cluster-mode driver. So they are read, and an
 * unknown key refused, before Spark starts ({@link #sparkConf()}), without touching Spark.
 */
public final class Main {

    /** What a run ended with: the exit code, and the exception behind a non-zero one (or null). */
    record Exit(int code, Throwable cause) {

        static final Exit OK = new Exit(0, null);
    }

    private Main() {
    }

    /**
     * spark-submit's entry point: returns normally on success.
     *
     * @throws SparkUserAppException with exit code 2 (usage, config, input) or 1 (training or check
     *                               failure), after printing {@code sparkprop: message} to stderr
     * @throws Exception             anything unexpected, as it was thrown
     */
    public static void main(String[] args) throws Exception {
        Exit exit = execute(args, System.out, System.err);
        if (exit.code() != 0) {
            // Without the cause: the message is on stderr already, and spark-submit prints a cause's
            // stack trace, which for a misspelt key is noise.
            throw new SparkUserAppException(exit.code(), null);
        }
    }

    /**
     * Parses {@code args}, reads and checks the config, starts a session (or joins the one already
     * running), runs the command, and stops the session if it started it. Explained failures are
     * printed to {@code err} as {@code sparkprop: message} and returned with their code; anything
     * else is thrown.
     */
    static Exit execute(String[] args, PrintStream out, PrintStream err) throws Exception {
        try {
            Arguments.Parsed parsed = Arguments.parse(args);
            if (parsed.isText()) {
                out.print(parsed.text());
                out.flush();
                return Exit.OK;
            }
            Object command = parsed.command();
            if (command instanceof Arguments.Inspect inspect) {
                out.print(InspectCommand.run(inspect.path, hadoopConfiguration()));
                out.flush();
                return Exit.OK;
            }
            if (command instanceof Arguments.Export export) {
                out.println(ExportCommand.run(export.options(), hadoopConfiguration()));
                out.flush();
                return Exit.OK;
            }
            JobConfig config = configOf(command, Main::hadoopConfiguration, defaultFsIsLocal(), sparkConf());
            boolean joined = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
            SparkSession spark = session(commandName(command));
            try {
                int code = run(spark, command, config);
                return code == 0 ? Exit.OK : new Exit(code, null);
            } finally {
                if (!joined) {
                    spark.stop();
                }
            }
        } catch (IllegalArgumentException e) {
            err.println("sparkprop: " + e.getMessage());
            return new Exit(2, e);
        } catch (IllegalStateException e) {
            err.println("sparkprop: " + e.getMessage());
            return new Exit(1, e);
        }
    }

    /**
     * Runs a command line on {@code spark} (which is left running); returns the exit code (0, or 1
     * for a failed gradient check). Help and {@code --version} print and return 0. The
     * {@code spark.sparkprop.*} settings are {@code spark}'s.
     *
     * @throws IllegalArgumentException on bad usage, config or input
     * @throws IllegalStateException    when training fails
     */
    public static int run(SparkSession spark, String... args) throws Exception {
        Arguments.Parsed parsed = Arguments.parse(args);
        if (parsed.isText()) {
            System.out.print(parsed.text());
            return 0;
        }
        Object command = parsed.command();
        if (command instanceof Arguments.Inspect inspect) {
            System.out.print(InspectCommand.run(inspect.path, spark.sparkContext().hadoopConfiguration()));
            return 0;
        }
        if (command instanceof Arguments.Export export) {
            System.out.println(ExportCommand.run(export.options(), spark.sparkContext().hadoopConfiguration()));
            return 0;
        }
        Map<String, String> sparkConf = new TreeMap<>();
        for (Tuple2<String, String> setting : spark.sparkContext().getConf().getAll()) {
            sparkConf.put(setting._1(), setting._2());
        }
        return run(spark, command, configOf(command, () -> spark.sparkContext().hadoopConfiguration(), false,
                sparkConf));
    }

    /**
     * The command's config, read and checked as far as it can be without Spark: every key and value
     * of the file, of the {@code spark.sparkprop.*} settings of {@code sparkConf} and of the
     * overrides, and for train and gradcheck the rules between keys. Null for {@code generate},
     * which takes none (and ignores {@code spark.sparkprop.*}, as inspect and export do).
     */
    private static JobConfig configOf(Object command, Supplier<Configuration> hadoopConf,
                                      boolean defaultFsIsLocal, Map<String, String> sparkConf) {
        Arguments.ConfigOptions options;
        if (command instanceof Arguments.Train train) {
            if (train.resume && train.runDir == null) {
                throw new IllegalArgumentException("--resume needs the --run-dir of the run to continue");
            }
            options = train.options;
        } else if (command instanceof Arguments.Evaluate evaluate) {
            options = evaluate.options;
        } else if (command instanceof Arguments.Predict predict) {
            predict.predictOptions(); // checks the options now, before Spark starts
            options = predict.options;
        } else if (command instanceof Arguments.Gradcheck gradcheck) {
            options = gradcheck.options;
        } else if (command instanceof Arguments.Generate generate) {
            generate.options(); // checks the options now, before Spark starts
            return null;
        } else {
            throw new AssertionError(command);
        }
        JobConfig config = JobConfig.load(options.config, hadoopConf, defaultFsIsLocal).withSparkConf(sparkConf)
                .withOverrides(options.sets);
        if (command instanceof Arguments.Train || command instanceof Arguments.Gradcheck) {
            TrainingConfig.from(config);
        }
        // evaluate and predict take the network and the task from the model file, so the rules
        // between keys are checked when the model has been read.
        return config;
    }

    private static int run(SparkSession spark, Object command, JobConfig config) throws Exception {
        if (command instanceof Arguments.Generate generate) {
            GenerateCommand.Summary summary = GenerateCommand.run(spark, generate.options());
            System.out.println("Wrote " + summary.rows() + " rows in " + summary.partitions() + " partitions to "
                    + summary.output() + "; to train on them, set:\n" + summary.trainingConfig());
            return 0;
        }
        if (command instanceof Arguments.Train train) {
            String runDir = train.runDir != null ? train.runDir
                    : "runs/" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            TrainCommand.run(spark, config, runDir, train.resume);
            return 0;
        }
        if (command instanceof Arguments.Evaluate evaluate) {
            ModelDataCommands.evaluate(spark, config, evaluate.model, evaluate.output);
            return 0;
        }
        if (command instanceof Arguments.Predict predict) {
            PredictCommand.Summary summary = PredictCommand.run(spark, config, predict.predictOptions());
            System.out.println("Wrote " + summary.rows() + " predictions to " + summary.output()
                    + (summary.skipped() > 0 ? " (skipped " + summary.skipped() + " bad rows)" : ""));
            return 0;
        }
        if (command instanceof Arguments.Gradcheck gradcheck) {
            GradientCheck.Result result = GradcheckCommand.run(spark, config, gradcheck.rows, gradcheck.params);
            System.out.println(result);
            return result.passed() ? 0 : 1;
        }
        throw new AssertionError(command);
    }

    private static String commandName(Object command) {
        return command.getClass().getAnnotation(picocli.CommandLine.Command.class).name();
    }

    /**
     * The Hadoop configuration the session will have, without starting one (or touching Spark, whose
     * first use costs a host-name lookup): Hadoop's defaults and site files ({@code HADOOP_CONF_DIR}
     * on the classpath, as on YARN) overlaid by every {@code spark.hadoop.*} setting. Those come from
     * the system properties, where spark-submit puts {@code --conf} and {@code spark-defaults.conf}
     * settings and where {@code new SparkConf()} reads them.
     */
    static Configuration hadoopConfiguration() {
        Configuration hadoop = new Configuration();
        String prefix = "spark.hadoop.";
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(prefix)) {
                hadoop.set(name.substring(prefix.length()), System.getProperty(name));
            }
        }
        return hadoop;
    }

    /**
     * The Spark settings of a driver that has no session yet: the {@code spark.*} system
     * properties, which is where spark-submit puts them and where {@code new SparkConf()} reads
     * them (read here without touching Spark, whose first use costs about 0.4 s).
     */
    static Map<String, String> sparkConf() {
        Map<String, String> settings = new TreeMap<>();
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("spark.")) {
                settings.put(name, System.getProperty(name));
            }
        }
        return settings;
    }

    /**
     * Whether the default file system is surely the local one, told without building a Hadoop
     * configuration: no {@code spark.hadoop.fs.defaultFS} setting and no {@code core-site.xml} on the
     * classpath (where {@code HADOOP_CONF_DIR} puts it), so Hadoop's own default, {@code file:///},
     * holds.
     */
    static boolean defaultFsIsLocal() {
        return System.getProperty("spark.hadoop.fs.defaultFS") == null
                && Thread.currentThread().getContextClassLoader().getResource("core-site.xml") == null
                && Main.class.getClassLoader().getResource("core-site.xml") == null;
    }

    /** A session for {@code command}: spark-submit's settings win; otherwise local mode with Kryo. */
    public static SparkSession session(String command) {
        SparkConf conf = new SparkConf();
        conf.setIfMissing("spark.master", "local[*]");
        conf.setIfMissing("spark.app.name", "sparkprop " + command);
        conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        conf.setIfMissing("spark.kryo.registrator", SparkpropKryoRegistrator.class.getName());
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        SparkSettings.tune(conf);
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
