package io.sparkprop.bench.scale;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;

/**
 * A linear model of one training round's time, with one non-negative coefficient per
 * {@link CostTerm}:
 * <pre>
 *   round = waves * compute + overhead
 *   compute  = s (c_rowParams k b N + c_localUpdate k N [k > 1] + c_step k + c_taskParams N)
 *                                                                            (one partition)
 *   overhead = c_round + c_stage stages + c_task tasks + c_driver (driverIn + driverOut)
 *            + c_network executorNetworkBytes + c_update 8N
 * </pre>
 * where waves = ceil(P / (E cores)), s = {@link RoundConfig#timeSharing()} (1 with a core per
 * slot; the concurrent tasks per host core when the executors share fewer cores) and the counts
 * come from {@link RoundStructure}, whose executor bytes are time-shared the same way. It assumes the
 * slowest partition's compute does not grow with P (no stragglers), each partial is merged as it is
 * received (the merge is priced with the driver's bytes), and stages run one after another while
 * the tasks of a stage overlap except for their serial launch on the driver.
 *
 * <p>{@link #fit} fits the compute terms to the measured {@code compute_ms} and the overhead terms
 * to the rest of the round ({@link Measurement#overheadMs()}), each by non-negative least squares
 * on relative errors (every row divided by its measured round, or compute, time), so a 20 ms round
 * weighs as much as a 2 s one.
 */
public final class CostModel {

    private final double[] coefficients;

    /** A model with these coefficients, one for every term, each finite and >= 0, in its term's unit. */
    public CostModel(Map<CostTerm, Double> coefficients) {
        this.coefficients = new double[CostTerm.values().length];
        for (CostTerm term : CostTerm.values()) {
            Double c = coefficients.get(term);
            if (c == null || !Double.isFinite(c) || c < 0) {
                throw new IllegalArgumentException("The coefficient of " + term + " must be finite and >= 0 but got "
                        + c);
            }
            this.coefficients[term.ordinal()] = c;
        }
    }

    /** The coefficient of {@code term}, in {@link CostTerm#unit()}. */
    public double coefficient(CostTerm term) {
        return coefficients[term.ordinal()];
    }

    /** All coefficients by term. */
    public Map<CostTerm, Double> coefficients() {
        Map<CostTerm, Double> out = new EnumMap<>(CostTerm.class);
        for (CostTerm term : CostTerm.values()) {
            out.put(term, coefficients[term.ordinal()]);
        }
        return out;
    }

    /** One partition's compute in a round of {@code config}, ms (0 when exchange-only). */
    public double computeMs(RoundConfig config) {
        return sum(config, RoundStructure.of(config), true);
    }

    /** The round's time besides compute, ms. */
    public double overheadMs(RoundConfig config) {
        return sum(config, RoundStructure.of(config), false);
    }

    /** The whole round: the compute stage's waves of one partition's compute, plus the overhead, ms. */
    public double roundMs(RoundConfig config) {
        return config.waves() * computeMs(config) + overheadMs(config);
    }

    private double sum(RoundConfig config, RoundStructure structure, boolean compute) {
        double ms = 0;
        for (CostTerm term : CostTerm.values()) {
            if (term.isCompute() == compute) {
                ms += coefficients[term.ordinal()] * term.feature(config, structure);
            }
        }
        return ms;
    }

    /**
     * A fitted model and how well it fits.
     *
     * @param model the coefficients
     * @param standardErrors each coefficient's standard error, in its unit, from the weighted residuals
     *     of its group's fit; NaN for a coefficient at the bound 0 (not estimated)
     * @param rmsRelativeError the root mean square of (modeled - measured) / measured round time over
     *     the measurements fitted
     * @param maxRelativeError the largest |modeled - measured| / measured round time among them
     * @param measurements how many were fitted
     */
    public record Fit(CostModel model, Map<CostTerm, Double> standardErrors, double rmsRelativeError,
                      double maxRelativeError, int measurements) {
    }

    /**
     * Fits the model to {@code measurements}: the compute terms to the rows that compute, the
     * overhead terms to all rows.
     *
     * @throws IllegalArgumentException when no row computes, or there are fewer rows than a group's terms
     */
    public static Fit fit(List<Measurement> measurements) {
        List<Measurement> computing = measurements.stream().filter(m -> !m.config().exchangeOnly()).toList();
        List<CostTerm> computeTerms = Arrays.stream(CostTerm.values()).filter(CostTerm::isCompute).toList();
        List<CostTerm> overheadTerms = Arrays.stream(CostTerm.values()).filter(t -> !t.isCompute()).toList();
        if (computing.size() <= computeTerms.size()) {
            throw new IllegalArgumentException("Fitting the compute terms needs more than " + computeTerms.size()
                    + " measurements with compute (exchange_only = false) but got " + computing.size());
        }
        if (measurements.size() <= overheadTerms.size()) {
            throw new IllegalArgumentException("Fitting the overhead terms needs more than " + overheadTerms.size()
                    + " measurements but got " + measurements.size());
        }
        Map<CostTerm, Double> coefficients = new EnumMap<>(CostTerm.class);
        Map<CostTerm, Double> errors = new EnumMap<>(CostTerm.class);
        fitGroup(computing, computeTerms, Measurement::computeMs, Measurement::computeMs, coefficients, errors);
        fitGroup(measurements, overheadTerms, Measurement::overheadMs, Measurement::roundMs, coefficients, errors);
        CostModel model = new CostModel(coefficients);
        double squares = 0;
        double max = 0;
        for (Measurement m : measurements) {
            double relative = relativeError(model, m);
            squares += relative * relative;
            max = Math.max(max, Math.abs(relative));
        }
        return new Fit(model, errors, Math.sqrt(squares / measurements.size()), max, measurements.size());
    }

    /** (modeled - measured) / measured round time of {@code m}. */
    public static double relativeError(CostModel model, Measurement m) {
        return (model.roundMs(m.config()) - m.roundMs()) / m.roundMs();
    }

    /**
     * Fits {@code terms} to {@code target} by NNLS with each row divided by {@code scale}, and puts
     * the coefficients and their standard errors into the maps.
     */
    private static void fitGroup(List<Measurement> rows, List<CostTerm> terms,
                                 ToDoubleFunction<Measurement> target,
                                 ToDoubleFunction<Measurement> scale,
                                 Map<CostTerm, Double> coefficients, Map<CostTerm, Double> errors) {
        int n = rows.size();
        double[][] a = new double[n][terms.size()];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            Measurement m = rows.get(i);
            RoundStructure structure = RoundStructure.of(m.config());
            double s = scale.applyAsDouble(m);
            if (!(s > 0)) {
                throw new IllegalArgumentException("A fitted measurement needs a time > 0 to weigh its error by, but "
                        + m.config() + " has " + s + " ms");
            }
            for (int j = 0; j < terms.size(); j++) {
                a[i][j] = terms.get(j).feature(m.config(), structure) / s;
            }
            y[i] = target.applyAsDouble(m) / s;
        }
        double[] x = Nnls.solve(a, y);
        List<Integer> active = new ArrayList<>();
        for (int j = 0; j < terms.size(); j++) {
            coefficients.put(terms.get(j), x[j]);
            errors.put(terms.get(j), Double.NaN);
            if (x[j] > 0) {
                active.add(j);
            }
        }
        if (active.isEmpty() || n <= active.size()) {
            return;
        }
        // On its active set the NNLS solution is the unconstrained least-squares one, so OLS's standard
        // errors on those columns are the coefficients' (Commons Math, s^2 (AᵀA)^-1 on the diagonal).
        double[][] sub = new double[n][active.size()];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < active.size(); c++) {
                sub[i][c] = a[i][active.get(c)];
            }
        }
        OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression();
        ols.setNoIntercept(true);
        ols.newSampleData(y, sub);
        double[] se = ols.estimateRegressionParametersStandardErrors();
        for (int c = 0; c < active.size(); c++) {
            errors.put(terms.get(active.get(c)), se[c]);
        }
    }
}
