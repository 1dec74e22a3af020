package io.sparkprop.bench.scale;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A held-out configuration: the measurements of one model size at one partition count (optionally
 * narrowed to one k, exchange kind, or exchange-only or not). {@link #validate} fits the model to
 * all other measurements and predicts these.
 *
 * @param params N of the held-out model
 * @param partitions P of the held-out measurements
 * @param localSteps k, or null for every k
 * @param exchange the exchange kind, or null for both
 * @param exchangeOnly true or false, or null for both
 */
public record Holdout(long params, int partitions, Integer localSteps, ExchangeKind exchange, Boolean exchangeOnly) {

    /** The largest relative error of a round time that {@link Result#passes()} accepts (issue 16). */
    public static final double TOLERANCE = 0.20;

    public Holdout {
        if (params < 1 || partitions < 1) {
            throw new IllegalArgumentException("A held-out configuration needs params and partitions >= 1 but got params "
                    + params + ", partitions " + partitions);
        }
    }

    /** Whether {@code m} belongs to this held-out configuration. */
    public boolean matches(Measurement m) {
        RoundConfig c = m.config();
        return c.params() == params && c.partitions() == partitions
                && (localSteps == null || c.localSteps() == localSteps)
                && (exchange == null || c.exchange() == exchange)
                && (exchangeOnly == null || c.exchangeOnly() == exchangeOnly);
    }

    /**
     * The default: the middle model size among the measurements (the upper middle for an even count;
     * the 2.4M-parameter model of {@code scripts/bench-scale}'s three) at the largest P it was
     * measured at, every k, kind, and exchange-only or not.
     */
    public static Holdout defaultFor(List<Measurement> measurements) {
        List<Long> sizes = measurements.stream().map(m -> m.config().params()).distinct().sorted().toList();
        long params = sizes.get(sizes.size() / 2);
        int partitions = measurements.stream().filter(m -> m.config().params() == params)
                .map(m -> m.config().partitions()).max(Comparator.naturalOrder()).orElseThrow();
        return new Holdout(params, partitions, null, null, null);
    }

    /**
     * Parses {@code params=N,partitions=P[,local_steps=K][,exchange=KIND][,exchange_only=BOOL]}, the
     * measurement file's column names.
     */
    public static Holdout parse(String text) {
        Long params = null;
        Integer partitions = null;
        Integer k = null;
        ExchangeKind kind = null;
        Boolean only = null;
        for (String part : text.split(",")) {
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("A held-out configuration is key=value pairs separated by commas but got '"
                        + part + "' in '" + text + "'");
            }
            String key = kv[0].trim();
            String value = kv[1].trim();
            try {
                switch (key) {
                    case "params" -> params = Long.parseLong(value);
                    case "partitions" -> partitions = Integer.parseInt(value);
                    case "local_steps" -> k = Integer.parseInt(value);
                    case "exchange" -> kind = ExchangeKind.parse(value);
                    case "exchange_only" -> only = switch (value) {
                        case "true" -> true;
                        case "false" -> false;
                        default -> throw new IllegalArgumentException("exchange_only must be true or false but got '"
                                + value + "'");
                    };
                    default -> throw new IllegalArgumentException("Unknown key '" + key
                            + "' in a held-out configuration; the keys are params, partitions, local_steps, exchange, exchange_only");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " must be a whole number but got '" + value + "'", e);
            }
        }
        if (params == null || partitions == null) {
            throw new IllegalArgumentException("A held-out configuration needs params and partitions but got '" + text + "'");
        }
        return new Holdout(params, partitions, k, kind, only);
    }

    /**
     * One held-out measurement and its prediction.
     *
     * @param measurement as measured
     * @param modeledMs the round time the model fitted without it predicts
     * @param relativeError (modeled - measured) / measured
     */
    public record Prediction(Measurement measurement, double modeledMs, double relativeError) {
    }

    /**
     * The check.
     *
     * @param fit the model fitted to every measurement but the held-out ones
     * @param predictions the held-out ones, predicted
     */
    public record Result(CostModel.Fit fit, List<Prediction> predictions) {

        /** The largest |relative error| among the held-out measurements. */
        public double maxRelativeError() {
            return predictions.stream().mapToDouble(p -> Math.abs(p.relativeError())).max().orElse(0);
        }

        /** Whether every held-out round is predicted within {@link #TOLERANCE}. */
        public boolean passes() {
            return maxRelativeError() <= TOLERANCE;
        }
    }

    /**
     * Fits on every measurement this does not match and predicts those it does.
     *
     * @throws IllegalArgumentException when it matches no measurement
     */
    public Result validate(List<Measurement> measurements) {
        List<Measurement> train = new ArrayList<>();
        List<Measurement> held = new ArrayList<>();
        for (Measurement m : measurements) {
            (matches(m) ? held : train).add(m);
        }
        if (held.isEmpty()) {
            throw new IllegalArgumentException("The held-out configuration " + this + " matches no measurement");
        }
        CostModel.Fit fit = CostModel.fit(train);
        List<Prediction> predictions = new ArrayList<>();
        for (Measurement m : held) {
            double modeled = fit.model().roundMs(m.config());
            predictions.add(new Prediction(m, modeled, (modeled - m.roundMs()) / m.roundMs()));
        }
        return new Result(fit, predictions);
    }
}
