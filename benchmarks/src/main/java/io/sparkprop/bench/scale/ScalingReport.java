package io.sparkprop.bench.scale;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads {@code scripts/bench-scale}'s measurements, fits {@link CostModel} to them, checks it on a
 * held-out configuration, and prints (markdown, to stdout) the coefficients with their units, the
 * structure check (counted against measured stages, tasks and bytes), the held-out errors, and the
 * modeled throughput and scaling efficiency at 16, 64 and 256 executors, weak and strong.
 * docs/scaling.md describes the method; {@code scripts/fit-scale} runs it.
 */
public final class ScalingReport {

    static final String USAGE = """
            Usage: scripts/fit-scale MEASUREMENTS.csv [options]
              --holdout SPEC         the held-out configuration: params=N,partitions=P[,local_steps=K]
                                     [,exchange=tree|reduce-scatter][,exchange_only=true|false]
                                     (default: the middle model size at its largest P)
              --executors LIST       executor counts to model (default 16,64,256)
              --cores C              cores (task slots, partitions) per modeled executor (default 1)
              --rows-per-step B      weak scaling: rows per partition step (default: as measured)
              --global-batch B       strong scaling: the global batch (default 128, conf/mnist.conf)
            """;

    /** A structure mismatch above this relative difference in bytes is listed. */
    private static final double BYTES_SLACK = 0.10;

    /**
     * What to print.
     *
     * @param holdout the held-out configuration, or null for {@link Holdout#defaultFor}
     * @param executors executor counts to model
     * @param coresPerExecutor task slots per modeled executor
     * @param rowsPerStep weak scaling's rows per partition step, or null for each model's measured value
     * @param globalBatch strong scaling's global batch
     */
    public record Options(Holdout holdout, List<Integer> executors, int coresPerExecutor, Integer rowsPerStep,
                          int globalBatch) {

        public Options {
            if (executors.isEmpty() || executors.stream().anyMatch(e -> e < 1)) {
                throw new IllegalArgumentException("--executors must list counts >= 1 but got " + executors);
            }
            if (coresPerExecutor < 1) {
                throw new IllegalArgumentException("--cores must be >= 1 but got " + coresPerExecutor);
            }
            if (rowsPerStep != null && rowsPerStep < 1) {
                throw new IllegalArgumentException("--rows-per-step must be >= 1 but got " + rowsPerStep);
            }
            if (globalBatch < 1) {
                throw new IllegalArgumentException("--global-batch must be >= 1 but got " + globalBatch);
            }
            executors = List.copyOf(executors);
        }

        /** The defaults: default held-out, 16, 64, 256 one-core executors, measured b, global batch 128. */
        public static Options defaults() {
            return new Options(null, List.of(16, 64, 256), 1, null, 128);
        }
    }

    private ScalingReport() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.print(USAGE);
            return;
        }
        Path file = Path.of(args[0]);
        Options d = Options.defaults();
        Holdout holdout = d.holdout();
        List<Integer> executors = d.executors();
        int cores = d.coresPerExecutor();
        Integer rows = d.rowsPerStep();
        int batch = d.globalBatch();
        for (int i = 1; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("Option " + option + " needs a value\n" + USAGE);
            }
            String value = args[++i];
            switch (option) {
                case "--holdout" -> holdout = Holdout.parse(value);
                case "--executors" -> executors = Arrays.stream(value.split(",")).map(String::trim)
                        .map(Integer::parseInt).toList();
                case "--cores" -> cores = Integer.parseInt(value);
                case "--rows-per-step" -> rows = Integer.parseInt(value);
                case "--global-batch" -> batch = Integer.parseInt(value);
                default -> throw new IllegalArgumentException("Unknown option " + option + "\n" + USAGE);
            }
        }
        List<Measurement> measurements = MeasurementFile.read(file);
        System.out.print(report(file.toString(), measurements, new Options(holdout, executors, cores, rows, batch)));
    }

    /** The whole report, markdown. */
    public static String report(String source, List<Measurement> measurements, Options options) {
        StringBuilder out = new StringBuilder();
        out.append("# Cost model of a round: ").append(measurements.size()).append(" measurements from ").append(source)
                .append("\n\n");
        structureCheck(measurements, out);
        CostModel.Fit fit = CostModel.fit(measurements);
        out.append("## Coefficients (fitted to all ").append(fit.measurements()).append(" measurements)\n\n");
        coefficients(fit, out);
        out.append(String.format(Locale.ROOT, "%nRound time, modeled against measured: RMS relative error %.1f%%, "
                + "largest %.1f%%.%n%n", 100 * fit.rmsRelativeError(), 100 * fit.maxRelativeError()));
        Holdout holdout = options.holdout() == null ? Holdout.defaultFor(measurements) : options.holdout();
        heldOut(holdout.validate(measurements), holdout, out);
        List<RoundConfig> bases = bases(measurements);
        out.append("## Modeled scaling, weak: b rows per partition step, global batch P b\n\n");
        scalingTable(fit.model(), bases, options, true, out);
        out.append("\n## Modeled scaling, strong: global batch ").append(options.globalBatch())
                .append(" rows, ceil(").append(options.globalBatch()).append(" / P) per partition step\n\n");
        scalingTable(fit.model(), bases, options, false, out);
        out.append("\nAll executors have ").append(options.coresPerExecutor()).append(" core(s), one partition per core. "
                + "Efficiency = throughput(P) / (P x throughput of one slot with no exchange).\n");
        return out.toString();
    }

    private static void structureCheck(List<Measurement> measurements, StringBuilder out) {
        List<String> rows = new ArrayList<>();
        for (Measurement m : measurements) {
            RoundStructure s = RoundStructure.of(m.config());
            boolean off = s.stages() != m.stages() || s.tasks() != m.tasks()
                    || farApart(s.driverInBytes(), m.driverInBytes()) || farApart(s.driverOutBytes(), m.driverOutBytes())
                    || farApart(s.shuffleBytes(), m.shuffleWriteBytes()) || farApart(s.shuffleBytes(), m.shuffleReadBytes());
            if (off) {
                rows.add(String.format(Locale.ROOT, "| %s | %d/%d | %d/%d | %s/%s | %s/%s | %s/%s | %s |", label(m.config()),
                        s.stages(), m.stages(), s.tasks(), m.tasks(), mb(s.driverInBytes()), mb(m.driverInBytes()),
                        mb(s.driverOutBytes()), mb(m.driverOutBytes()), mb(s.shuffleBytes()), mb(m.shuffleWriteBytes()),
                        mb(m.shuffleReadBytes())));
            }
        }
        out.append("## Structure: counted against measured\n\n");
        if (rows.isEmpty()) {
            out.append("Every measurement's stages and tasks match the counting formulas, and its bytes lie within ")
                    .append(Math.round(100 * BYTES_SLACK)).append("% of them.\n\n");
            return;
        }
        out.append(rows.size()).append(" of ").append(measurements.size()).append(
                " measurements differ from the counting formulas (stages or tasks, or bytes by more than ")
                .append(Math.round(100 * BYTES_SLACK)).append("%); counted/measured, MB:\n\n")
                .append("| configuration | stages | tasks | driver in | driver out | shuffle (write) | shuffle read |\n")
                .append("|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> out.append(r).append('\n'));
        out.append('\n');
    }

    private static boolean farApart(long counted, long measured) {
        return Math.abs(counted - measured) > BYTES_SLACK * Math.max(counted, measured);
    }

    private static void coefficients(CostModel.Fit fit, StringBuilder out) {
        out.append("| term | coefficient | ± standard error | unit | reads as |\n|---|---|---|---|---|\n");
        for (CostTerm term : CostTerm.values()) {
            double c = fit.model().coefficient(term);
            double se = fit.standardErrors().get(term);
            out.append(String.format(Locale.ROOT, "| %s | %.4g | %s | %s | %s |%n", term.description(), c,
                    Double.isNaN(se) ? "at the bound 0" : String.format(Locale.ROOT, "%.2g", se), term.unit(),
                    readsAs(term, c)));
        }
    }

    /** The coefficient in a physical unit: a rate for the byte terms and the compute per row. */
    private static String readsAs(CostTerm term, double c) {
        if (c == 0) {
            return "not measurable here";
        }
        return switch (term) {
            case ROW_PARAMS -> String.format(Locale.ROOT, "%.1f GFLOP/s at 6 FLOPs per row and parameter", 6 / c);
            case DRIVER_BYTES, NETWORK_BYTES, UPDATE -> String.format(Locale.ROOT, "%.0f MB/s", 1000 / c);
            default -> "";
        };
    }

    private static void heldOut(Holdout.Result result, Holdout holdout, StringBuilder out) {
        out.append("## Held-out check: params=").append(holdout.params()).append(", partitions=")
                .append(holdout.partitions());
        if (holdout.localSteps() != null) {
            out.append(", local_steps=").append(holdout.localSteps());
        }
        if (holdout.exchange() != null) {
            out.append(", exchange=").append(holdout.exchange().label());
        }
        if (holdout.exchangeOnly() != null) {
            out.append(", exchange_only=").append(holdout.exchangeOnly());
        }
        out.append("\n\nFitted to the other ").append(result.fit().measurements()).append(" measurements.\n\n")
                .append("| configuration | measured ms | modeled ms | error |\n|---|---|---|---|\n");
        for (Holdout.Prediction p : result.predictions()) {
            out.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %+.1f%% |%n", label(p.measurement().config()),
                    p.measurement().roundMs(), p.modeledMs(), 100 * p.relativeError()));
        }
        out.append(String.format(Locale.ROOT, "%nLargest error %.1f%%: %s (the target is within %.0f%%).%n%n",
                100 * result.maxRelativeError(), result.passes() ? "within" : "NOT within", 100 * Holdout.TOLERANCE));
    }

    /**
     * One computing configuration per model size, k, optimizer and exchange kind, with the rows per
     * step measured most often for it, sorted by size, k, kind; and for a size measured only in
     * exchange-only rounds, the same k values, kinds and optimizer at the computing rows per step
     * (its compute is then the fitted compute term's extrapolation in N).
     */
    static List<RoundConfig> bases(List<Measurement> measurements) {
        Map<String, List<RoundConfig>> groups = measurements.stream().map(Measurement::config)
                .filter(c -> !c.exchangeOnly())
                .collect(Collectors.groupingBy(c -> c.params() + "/" + c.localSteps() + "/" + c.stateSlots() + "/"
                        + c.exchange() + "/" + c.treeDepth(), LinkedHashMap::new, Collectors.toList()));
        List<RoundConfig> bases = new ArrayList<>();
        for (List<RoundConfig> group : groups.values()) {
            int rows = group.stream().collect(Collectors.groupingBy(RoundConfig::rowsPerStep, Collectors.counting()))
                    .entrySet().stream().max(Map.Entry.<Integer, Long>comparingByValue()
                            .thenComparing(Map.Entry.comparingByKey())).orElseThrow().getKey();
            bases.add(group.get(0).at(1, 1, rows));
        }
        // Sizes measured only exchange-only (the largest model, whose compute would take too long
        // here): modeled with the fitted compute per row and parameter, at the rows per step, the
        // k values and the optimizer of the computing measurements.
        List<RoundConfig> computing = measurements.stream().map(Measurement::config).filter(c -> !c.exchangeOnly())
                .toList();
        if (!computing.isEmpty()) {
            RoundConfig like = computing.get(0);
            int rows = bases.stream().mapToInt(RoundConfig::rowsPerStep).max().orElse(like.rowsPerStep());
            List<Integer> ks = computing.stream().map(RoundConfig::localSteps).distinct().sorted().toList();
            List<ExchangeKind> kinds = computing.stream().map(RoundConfig::exchange).distinct().sorted().toList();
            measurements.stream().map(m -> m.config().params()).distinct()
                    .filter(n -> computing.stream().noneMatch(c -> c.params() == n))
                    .forEach(n -> ks.forEach(k -> kinds.forEach(kind -> bases.add(new RoundConfig(kind, false, 1, 1,
                            1, n, k, like.stateSlots(), rows, like.treeDepth(), 1)))));
        }
        bases.sort(Comparator.comparingLong(RoundConfig::params).thenComparingInt(RoundConfig::localSteps)
                .thenComparing(RoundConfig::exchange));
        return bases;
    }

    private static void scalingTable(CostModel model, List<RoundConfig> bases, Options options, boolean weak,
                                     StringBuilder out) {
        out.append("| params | k | exchange | executors | rows/step | round ms | compute ms | examples/s | efficiency |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        for (RoundConfig base : bases) {
            for (int e : options.executors()) {
                Scaling.Point p = weak
                        ? Scaling.weak(model, base, e, options.coresPerExecutor(),
                                options.rowsPerStep() == null ? base.rowsPerStep() : options.rowsPerStep())
                        : Scaling.strong(model, base, e, options.coresPerExecutor(), options.globalBatch());
                out.append(String.format(Locale.ROOT, "| %,d | %d | %s | %d | %d | %.1f | %.1f | %,.0f | %.1f%% |%n",
                        base.params(), base.localSteps(), base.exchange().label(), p.executors(), p.rowsPerStep(),
                        p.roundMs(), p.computeMs(), p.examplesPerSecond(), 100 * p.efficiency()));
            }
        }
    }

    private static String label(RoundConfig c) {
        return String.format(Locale.ROOT, "%s%s N=%d k=%d P=%d E=%dx%d b=%d", c.exchange().label(),
                c.exchangeOnly() ? " (exchange only)" : "", c.params(), c.localSteps(), c.partitions(), c.executors(),
                c.coresPerExecutor(), c.rowsPerStep());
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.2f", bytes / 1e6);
    }

}
