package io.sparkprop.spark;

import io.sparkprop.spark.cli.ExportCommand;
import io.sparkprop.spark.cli.GenerateCommand;
import io.sparkprop.spark.cli.PredictCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.spark.SparkBuildInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The command line's grammar, declared with picocli: the commands, each with its own options and
 * {@code --help}, and {@code --version}. Parsing only: nothing here reads a file or starts Spark;
 * {@link Main} acts on the result.
 *
 * <p>Each command accepts only its own options, as {@code --opt value} or {@code --opt=value}; any
 * other option, a missing required one or a value of the wrong type is an
 * {@link IllegalArgumentException} naming the option and the command, followed by that command's
 * usage (the caller turns it into exit code 2).
 */
final class Arguments {

    /** The commands, in the order the usage lists them: the subcommands declared on {@link Sparkprop}, but help. */
    static final List<String> COMMANDS = commandNames();

    /** What a command line asked for: text to print (help or version), or a command to run. */
    record Parsed(String text, Object command) {

        boolean isText() {
            return text != null;
        }
    }

    private Arguments() {
    }

    /**
     * Parses {@code argv}. No arguments, {@code help [COMMAND]}, {@code --help} and
     * {@code --version} (at the top or after a command) give text to print; anything else gives one
     * of the command classes below, filled in.
     *
     * @throws IllegalArgumentException on a usage error, with the message and the usage of the command
     */
    static Parsed parse(String... argv) {
        CommandLine line = commandLine();
        StringWriter text = new StringWriter();
        line.setOut(new PrintWriter(text, true));
        for (CommandLine sub : line.getSubcommands().values()) {
            sub.setOut(new PrintWriter(text, true));
        }
        if (argv.length == 0) {
            return new Parsed(line.getUsageMessage(), null);
        }
        CommandLine.ParseResult result;
        try {
            result = line.parseArgs(argv);
        } catch (CommandLine.ParameterException e) {
            throw usageError(e, argv);
        }
        if (CommandLine.printHelpIfRequested(result)) {
            return new Parsed(text.toString(), null);
        }
        if (!result.hasSubcommand()) {
            throw new IllegalArgumentException("Expected a command, one of " + String.join(", ", COMMANDS) + "\n"
                    + line.getUsageMessage());
        }
        return new Parsed(null, result.subcommand().commandSpec().userObject());
    }

    private static List<String> commandNames() {
        List<String> names = new ArrayList<>();
        for (Class<?> sub : Sparkprop.class.getAnnotation(Command.class).subcommands()) {
            if (sub != HelpCommand.class) {
                names.add(sub.getAnnotation(Command.class).name());
            }
        }
        return List.copyOf(names);
    }

    /** The top-level usage: the commands and what they do. */
    static String usage() {
        return commandLine().getUsageMessage();
    }

    private static CommandLine commandLine() {
        CommandLine line = new CommandLine(new Sparkprop());
        line.setUsageHelpWidth(100);
        return line;
    }

    private static IllegalArgumentException usageError(CommandLine.ParameterException e, String[] argv) {
        CommandLine where = e.getCommandLine();
        String command = where.getCommandName();
        String message;
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
            String first = unmatched.getUnmatched().get(0);
            if (where.getCommandSpec().userObject() instanceof Sparkprop && !first.startsWith("-")) {
                message = "Unknown command '" + first + "'; expected one of " + String.join(", ", COMMANDS);
            } else if (first.startsWith("-")) {
                String name = first.contains("=") ? first.substring(0, first.indexOf('=')) : first;
                message = "Unknown option '" + name + "' for " + command
                        + (command.equals("generate") && name.equals("--config") ? " (generate takes no config)" : "")
                        + "; its options are " + String.join(", ", optionNames(where));
            } else {
                message = "Unexpected argument '" + first + "' for " + command;
            }
        } else {
            message = e.getMessage() + " (" + command + ")";
        }
        return new IllegalArgumentException(message + "\n\n" + where.getUsageMessage(), e);
    }

    private static List<String> optionNames(CommandLine line) {
        List<String> names = new ArrayList<>();
        for (CommandLine.Model.OptionSpec option : line.getCommandSpec().options()) {
            names.add(option.longestName());
        }
        return names;
    }

    /** sparkprop's version, the Spark it runs on, and Java's. */
    static final class Version implements CommandLine.IVersionProvider {

        /** This build's version, from the job jar's {@code version.properties} (Maven fills it in). */
        static String sparkprop() {
            Properties properties = new Properties();
            try (InputStream in = Arguments.class.getResourceAsStream("version.properties")) {
                if (in == null) {
                    return "(unknown: version.properties is missing)";
                }
                properties.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read sparkprop's version.properties", e);
            }
            return properties.getProperty("version", "(unknown)");
        }

        @Override
        public String[] getVersion() {
            return new String[] {"sparkprop " + sparkprop(), "Spark " + SparkBuildInfo.spark_version() + ", Java "
                    + Runtime.version()};
        }
    }

    @Command(name = "sparkprop", mixinStandardHelpOptions = true, versionProvider = Version.class,
            subcommands = {Train.class, Evaluate.class, Predict.class, Gradcheck.class, Inspect.class, Generate.class,
                    Export.class, HelpCommand.class},
            synopsisSubcommandLabel = "COMMAND",
            description = {"Data-parallel training of multilayer perceptrons on Spark.",
                    "Run 'sparkprop COMMAND --help' for a command's options."},
            footer = {"",
                    "The config file (any Hadoop URI; a relative one is read from the working directory when it is"
                            + " there, else from the default file system) holds 'key = value' lines; conf/reference.conf"
                            + " lists every key. '#' starts a comment at the start of a line or after whitespace; a value in"
                            + " double quotes keeps its '#'.",
                    "Exit codes: 0 success, 1 training or check failure, 2 bad usage, config or input."})
    static final class Sparkprop {
    }

    /** The options of the commands that read a config. */
    static final class ConfigOptions {

        @Option(names = "--config", required = true, paramLabel = "URI",
                description = "The config file: 'key = value' lines (conf/reference.conf lists every key).")
        String config;

        @Option(names = "--set", paramLabel = "KEY=VALUE",
                description = "Overrides one config key; may be repeated.")
        List<String> sets = new ArrayList<>();
    }

    @Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Train a network, or resume it from its checkpoints.")
    static final class Train {

        @Mixin
        ConfigOptions options;

        @Option(names = "--run-dir", paramLabel = "URI",
                description = "The run directory (default: runs/<timestamp>).")
        String runDir;

        @Option(names = "--resume", description = "Require a checkpoint in --run-dir to continue from.")
        boolean resume;
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Metrics of a model on data.test (or data.validation).")
    static final class Evaluate {

        @Mixin
        ConfigOptions options;

        @Option(names = "--model", required = true, paramLabel = "URI", description = "The model file (model.spm).")
        String model;

        @Option(names = "--output", paramLabel = "URI", description = "Also write the metrics as one JSON object.")
        String output;
    }

    @Command(name = "predict", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Predictions of a model for the data at --input, read with the config's data.* keys;"
                    + " labels are not needed.",
                    "Writes a directory of Parquet (or RFC 4180 CSV with a header): the --passthrough columns"
                            + " (else input_file and input_row), then prediction, probability_<k> and"
                            + " rawPrediction_<k> (classification); prediction_<k>, probability_<k> and"
                            + " rawPrediction_<k> (multi-label); prediction, or prediction_<k> for several outputs"
                            + " (regression). Rows in input order.",
                    "Features are found by the column names the model records, else by position."})
    static final class Predict {

        @Mixin
        ConfigOptions options;

        @Option(names = "--model", required = true, paramLabel = "URI", description = "The model file (model.spm).")
        String model;

        @Option(names = "--input", required = true, paramLabel = "URI",
                description = "The data to score: a file, directory or glob in data.format.")
        String input;

        @Option(names = "--output", required = true, paramLabel = "URI",
                description = "The directory to write; must not exist unless --overwrite.")
        String output;

        @Option(names = "--output-format", paramLabel = "parquet|csv", description = "Default: parquet.")
        String outputFormat;

        @Option(names = "--passthrough", split = ",", paramLabel = "COL[,COL...]", hideParamSyntax = true,
                description = "Input columns (CSV, Parquet) to copy into the output, such as an ID; without them"
                        + " the output has input_file and input_row.")
        List<String> passthrough;

        @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
        boolean overwrite;

        /** The options given, converted and checked by {@link PredictCommand.Options#of}. */
        PredictCommand.Options predictOptions() {
            return PredictCommand.Options.of(model, input, output, outputFormat, passthrough, overwrite);
        }
    }

    @Command(name = "gradcheck", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Check the network's gradient numerically, at its initial weights.")
    static final class Gradcheck {

        @Mixin
        ConfigOptions options;

        @Option(names = "--rows", paramLabel = "N", defaultValue = "8",
                description = "Rows to check on (default: ${DEFAULT-VALUE}).")
        int rows;

        @Option(names = "--params", paramLabel = "N", defaultValue = "2000",
                description = "Parameters to sample (default: ${DEFAULT-VALUE}).")
        int params;
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Summary of a model, a checkpoint, or a run's checkpoints (no config).")
    static final class Inspect {

        @Parameters(arity = "1", paramLabel = "PATH", description = "A model file, a checkpoint or a run directory.")
        String path;
    }

    @Command(name = "generate", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Write a synthetic dataset (no config) and print the config lines that train on it.",
                    "Labels come from a seeded tanh teacher network plus Gaussian noise."})
    static final class Generate {

        @Option(names = "--output", paramLabel = "URI", description = "Where to write; must not exist.")
        String output;

        @Option(names = "--format", paramLabel = "parquet|libsvm", description = "Default: parquet.")
        String format;

        @Option(names = "--rows", paramLabel = "N", description = "Default: 100000.")
        String rows;

        @Option(names = "--features", paramLabel = "D", description = "Default: 100.")
        String features;

        @Option(names = "--task", paramLabel = "classification|regression", description = "Default: classification.")
        String task;

        @Option(names = "--classes", paramLabel = "K", description = "Classification: default 10.")
        String classes;

        @Option(names = "--outputs", paramLabel = "M", description = "Regression: default 1.")
        String outputs;

        @Option(names = "--hidden", paramLabel = "H", description = "The teacher's width; default 32.")
        String hidden;

        @Option(names = "--noise", paramLabel = "SIGMA", description = "Default: 0.1.")
        String noise;

        @Option(names = "--partitions", paramLabel = "P", description = "Default: Spark's default parallelism.")
        String partitions;

        @Option(names = "--seed", paramLabel = "S", description = "Default: 42.")
        String seed;

        @Option(names = "--nonzeros", paramLabel = "N", description = {"Sparse, click-through-like rows: N distinct"
                + " features of value 1 each, by Zipf popularity. Default: dense rows."})
        String nonzeros;

        @Option(names = "--zipf-exponent", paramLabel = "S", description = "With --nonzeros: P(rank r) ~ r^-S;"
                + " default 1.0.")
        String zipfExponent;

        /** The options given, by name, as {@link GenerateCommand.Options#parse} takes them. */
        GenerateCommand.Options options() {
            Map<String, String> given = new LinkedHashMap<>();
            put(given, "--output", output);
            put(given, "--format", format);
            put(given, "--rows", rows);
            put(given, "--features", features);
            put(given, "--task", task);
            put(given, "--classes", classes);
            put(given, "--outputs", outputs);
            put(given, "--hidden", hidden);
            put(given, "--noise", noise);
            put(given, "--partitions", partitions);
            put(given, "--seed", seed);
            put(given, "--nonzeros", nonzeros);
            put(given, "--zipf-exponent", zipfExponent);
            return GenerateCommand.Options.parse(given);
        }

        private static void put(Map<String, String> given, String name, String value) {
            if (value != null) {
                given.put(name, value);
            }
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Write a model as ONNX (no config), its feature scaling folded in as the first node.",
                    "Takes a model.spm of train, or a saved estimator model's data/model.spm."})
    static final class Export {

        @Option(names = "--model", required = true, paramLabel = "URI", description = "The model file to export.")
        String model;

        @Option(names = "--output", required = true, paramLabel = "URI", description = "The ONNX file to write.")
        String output;

        @Option(names = "--format", paramLabel = "onnx", description = "Default: onnx (the only format).")
        String format;

        @Option(names = "--precision", paramLabel = "float32|float64", description = "The graph's element type;"
                + " default float32.")
        String precision;

        /** The options given, converted and checked by {@link ExportCommand.Options#of}. */
        ExportCommand.Options options() {
            return ExportCommand.Options.of(model, output, format, precision);
        }
    }
}
