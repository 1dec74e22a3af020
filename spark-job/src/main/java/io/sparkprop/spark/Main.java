package io.sparkprop.spark;

import io.sparkprop.core.GradientCheck;
import io.sparkprop.spark.cli.ExportCommand;
import io.sparkprop.spark.cli.GenerateCommand;
import io.sparkprop.spark.cli.GradcheckCommand;
import io.sparkprop.spark.cli.InspectCommand;
import io.sparkprop.spark.cli.ModelDataCommands;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.session.SparkSettings;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The command line: {@code train}, {@code evaluate}, {@code predict}, {@code gradcheck},
 * {@code inspect}, {@code generate} and {@code export} (which take no config). Runs under
 * {@code spark-submit} (master and resources from there) or directly, where it defaults to
 * {@code local[*]}. Kryo with our registrator is the default serializer.
 *
 * <p>Exit codes: 0 success, 1 training or check failure (non-finite loss, failed gradient check),
 * 2 bad usage, config or input (the message names the key, file or row).
 */
public final class Main {

    static final String USAGE = String.join("\n",
            "usage: sparkprop <command> --config URI [--set key=value ...] [options]",
            "",
            "commands:",
            "  train      train a network, or resume it from its checkpoints; options: --run-dir URI (default",
            "             runs/<timestamp>), --resume (require a checkpoint to continue from)",
            "  evaluate   metrics of a model on data.test (or data.validation); options: --model URI [--output URI]",
            "  predict    predictions of a model for data.test (or data.validation); options: --model URI --output URI",
            "  gradcheck  check the network's gradient numerically; options: [--rows N (8)] [--params N (2000)]",
            "  inspect    sparkprop inspect PATH: summary of a model, a checkpoint, or a run's checkpoints",
            "  export     sparkprop export --model URI --output URI [--format onnx] [--precision float32|float64]",
            "             (no --config): the model as ONNX, its feature scaling folded in",
            "  generate   sparkprop generate --output URI [options] (no --config): write a synthetic dataset, labels",
            "             from a seeded tanh teacher network plus Gaussian noise; options: --format parquet|libsvm",
            "             (parquet), --rows N (100000), --features D (100), --task classification|regression",
            "             (classification), --classes K (10), --outputs M (1; regression), --hidden H (32),",
            "             --noise SIGMA (0.1), --partitions P (Spark's default parallelism), --seed S (42)",
            "",
            "The config file (any Hadoop URI) holds 'key = value' lines; conf/reference.conf lists every key.",
            "--set key=value overrides one key and may be repeated.");

    private Main() {
    }

    public static void main(String[] args) {
        int code;
        SparkSession spark = null;
        try {
            Args parsed = Args.parse(args);
            if (parsed == null) {
                System.out.println(USAGE);
                System.exit(0);
                return;
            }
            if (parsed.command.equals("inspect")) {
                System.out.print(InspectCommand.run(parsed.inspectPath, new org.apache.hadoop.conf.Configuration()));
                System.exit(0);
                return;
            }
            if (parsed.command.equals("export")) {
                System.out.println(ExportCommand.run(parsed.export, new org.apache.hadoop.conf.Configuration()));
                System.exit(0);
                return;
            }
            spark = session(parsed.command);
            code = run(spark, parsed);
        } catch (IllegalArgumentException e) {
            System.err.println("sparkprop: " + e.getMessage());
            code = 2;
        } catch (IllegalStateException e) {
            System.err.println("sparkprop: " + e.getMessage());
            code = 1;
        } catch (Exception e) {
            System.err.println("sparkprop: " + e);
            e.printStackTrace();
            code = 1;
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
        System.exit(code);
    }

    /** Runs a parsed command line on {@code spark} (which is left running); returns the exit code. */
    public static int run(SparkSession spark, String... args) throws Exception {
        Args parsed = Args.parse(args);
        if (parsed == null) {
            System.out.println(USAGE);
            return 0;
        }
        return run(spark, parsed);
    }

    private static int run(SparkSession spark, Args args) throws Exception {
        if (args.command.equals("inspect")) {
            System.out.print(InspectCommand.run(args.inspectPath, spark.sparkContext().hadoopConfiguration()));
            return 0;
        }
        if (args.command.equals("export")) {
            System.out.println(ExportCommand.run(args.export, spark.sparkContext().hadoopConfiguration()));
            return 0;
        }
        if (args.command.equals("generate")) {
            GenerateCommand.Summary summary = GenerateCommand.run(spark, args.generate);
            System.out.println("Wrote " + summary.rows() + " rows in " + summary.partitions() + " partitions to "
                    + summary.output() + "; to train on them, set:\n" + summary.trainingConfig());
            return 0;
        }
        JobConfig config = JobConfig.load(args.config, spark.sparkContext().hadoopConfiguration())
                .withOverrides(args.sets);
        switch (args.command) {
            case "train" -> {
                String runDir = args.runDir != null ? args.runDir
                        : "runs/" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
                if (args.resume && args.runDir == null) {
                    throw new IllegalArgumentException("--resume needs the --run-dir of the run to continue");
                }
                TrainCommand.run(spark, config, runDir, args.resume);
                return 0;
            }
            case "evaluate" -> {
                ModelDataCommands.evaluate(spark, config, args.require("--model", args.model), args.output);
                return 0;
            }
            case "predict" -> {
                ModelDataCommands.predict(spark, config, args.require("--model", args.model),
                        args.require("--output", args.output));
                return 0;
            }
            case "gradcheck" -> {
                GradientCheck.Result result = GradcheckCommand.run(spark, config, args.rows, args.params);
                System.out.println(result);
                return result.passed() ? 0 : 1;
            }
            default -> throw new AssertionError(args.command);
        }
    }

    /** A session for {@code command}: spark-submit's settings win; otherwise local mode with Kryo. */
    public static SparkSession session(String command) {
        SparkConf conf = new SparkConf();
        conf.setIfMissing("spark.master", "local[*]");
        conf.setIfMissing("spark.app.name", "sparkprop " + command);
        conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        conf.setIfMissing("spark.kryo.registrator", SparkpropKryoRegistrator.class.getName());
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        SparkSettings.TUNED.forEach(conf::setIfMissing);
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /** The parsed command line. */
    static final class Args {
        String command;
        String config;
        final List<String> sets = new ArrayList<>();
        String runDir;
        String model;
        String output;
        boolean resume;
        String inspectPath;
        GenerateCommand.Options generate;
        ExportCommand.Options export;
        int rows = 8;
        int params = 2000;

        /** The parsed arguments, or {@code null} when help was asked for. */
        static Args parse(String[] argv) {
            if (argv.length == 0 || List.of("help", "-h", "--help").contains(argv[0])) {
                return null;
            }
            Args a = new Args();
            a.command = argv[0];
            if (!List.of("train", "evaluate", "predict", "gradcheck", "inspect", "generate", "export")
                    .contains(a.command)) {
                throw new IllegalArgumentException("Unknown command '" + a.command
                        + "'; expected one of train, evaluate, predict, gradcheck, inspect, generate, export\n" + USAGE);
            }
            if (a.command.equals("export")) {
                a.export = ExportCommand.Options.parse(java.util.Arrays.copyOfRange(argv, 1, argv.length));
                return a;
            }
            if (a.command.equals("generate")) {
                a.generate = GenerateCommand.Options.parse(generateOptions(argv));
                return a;
            }
            if (a.command.equals("inspect")) {
                if (argv.length != 2) {
                    throw new IllegalArgumentException("inspect takes one PATH\n" + USAGE);
                }
                a.inspectPath = argv[1];
                return a;
            }
            for (int i = 1; i < argv.length; i++) {
                String option = argv[i];
                if (option.equals("--resume")) {
                    a.resume = true;
                    continue;
                }
                if (i + 1 >= argv.length) {
                    throw new IllegalArgumentException("Option " + option + " needs a value\n" + USAGE);
                }
                String value = argv[++i];
                switch (option) {
                    case "--config" -> a.config = value;
                    case "--set" -> a.sets.add(value);
                    case "--run-dir" -> a.runDir = value;
                    case "--model" -> a.model = value;
                    case "--output" -> a.output = value;
                    case "--rows" -> a.rows = parseInt(option, value);
                    case "--params" -> a.params = parseInt(option, value);
                    default -> throw new IllegalArgumentException("Unknown option '" + option + "' for " + a.command
                            + "\n" + USAGE);
                }
            }
            a.require("--config", a.config);
            return a;
        }

        /** generate's {@code --name value} pairs; it has no --config, and each option may appear once. */
        private static Map<String, String> generateOptions(String[] argv) {
            Map<String, String> given = new LinkedHashMap<>();
            for (int i = 1; i < argv.length; i++) {
                String option = argv[i];
                if (!GenerateCommand.OPTIONS.contains(option)) {
                    throw new IllegalArgumentException("Unknown option '" + option + "' for generate"
                            + (option.equals("--config") ? " (generate takes no config)" : "") + "\n" + USAGE);
                }
                if (i + 1 >= argv.length) {
                    throw new IllegalArgumentException("Option " + option + " needs a value\n" + USAGE);
                }
                if (given.put(option, argv[++i]) != null) {
                    throw new IllegalArgumentException("Option " + option + " is given twice");
                }
            }
            return given;
        }

        String require(String option, String value) {
            if (value == null) {
                throw new IllegalArgumentException(command + " needs " + option + "\n" + USAGE);
            }
            return value;
        }

        private static int parseInt(String option, String value) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Option " + option + " needs an integer but got '" + value + "'");
            }
        }
    }
}
