package io.sparkprop.bench.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

/**
 * The fit recovers known coefficients from synthetic timings ({@link SyntheticRounds}).
 *
 * <p>The tolerance is derived, not tuned. Each fitted row is divided by its round (or compute)
 * time, so a row's residual is its relative noise: for compute rows e_c, for overhead rows
 * e_r - (waves compute / round) e_c, whose standard deviation is at most sqrt(2) sigma, with sigma =
 * noise / sqrt(3) for noise uniform in [-noise, noise]. Least squares then gives coefficient j a
 * standard deviation of at most sqrt(2) sigma sqrt((AᵀA)^-1_jj), A being the scaled design of its
 * group. The test allows 5 of those.
 */
class CostModelTest {

    private static final double NOISE = 0.02;
    private static final double SIGMA = NOISE / Math.sqrt(3);
    private static final double STANDARD_ERRORS_ALLOWED = 5;

    @Test
    void theFitRecoversKnownCoefficientsWithinTheDerivedTolerance() {
        Map<CostTerm, Double> truth = SyntheticRounds.plausible();
        CostModel model = new CostModel(truth);
        List<Measurement> measured = SyntheticRounds.measure(model, NOISE, 16);
        CostModel.Fit fit = CostModel.fit(measured);
        Map<CostTerm, Double> tolerance = tolerances(model, measured);
        for (CostTerm term : CostTerm.values()) {
            double tol = tolerance.get(term);
            // The derived tolerance must be tight enough to mean something: under half the value, so a fit of 0 could not pass.
            assertTrue(tol < 0.5 * truth.get(term), term + ": tolerance " + tol + " against " + truth.get(term));
            assertEquals(truth.get(term), fit.model().coefficient(term), tol, term.toString());
            double se = fit.standardErrors().get(term);
            assertTrue(se > 0 && se < tol, term + ": reported standard error " + se + ", tolerance " + tol);
        }
        assertTrue(fit.rmsRelativeError() < 2 * NOISE, "RMS relative error " + fit.rmsRelativeError());
        assertEquals(measured.size(), fit.measurements());
    }

    @Test
    void aCoefficientThatIsZeroComesOutNonNegativeAndNearZero() {
        Map<CostTerm, Double> truth = SyntheticRounds.plausible();
        truth.put(CostTerm.UPDATE, 0.0);
        truth.put(CostTerm.STAGE, 0.0);
        CostModel model = new CostModel(truth);
        List<Measurement> measured = SyntheticRounds.measure(model, NOISE, 17);
        CostModel.Fit fit = CostModel.fit(measured);
        Map<CostTerm, Double> tolerance = tolerances(new CostModel(SyntheticRounds.plausible()), measured);
        for (CostTerm term : CostTerm.values()) {
            double c = fit.model().coefficient(term);
            assertTrue(c >= 0, term + " = " + c);
            assertEquals(truth.get(term), c, tolerance.get(term), term.toString());
        }
    }

    @Test
    void theHeldOutConfigurationIsPredictedWithinTheNoise() {
        CostModel model = new CostModel(SyntheticRounds.plausible());
        List<Measurement> measured = SyntheticRounds.measure(model, NOISE, 18);
        Holdout holdout = Holdout.defaultFor(measured);
        assertEquals(new Holdout(2_400_000, 32, null, null, null), holdout);
        Holdout.Result result = holdout.validate(measured);
        // 2 k x 2 kinds x (with and without compute on 2 host core counts, and with compute at b = 16)
        assertEquals(20, result.predictions().size());
        assertEquals(measured.size() - 20, result.fit().measurements());
        // The noise alone is up to 2% of the measured round; the rest is the fit's error at P = 32.
        assertTrue(result.maxRelativeError() < 2.5 * NOISE, "held-out error " + result.maxRelativeError());
        assertTrue(result.passes());
    }

    @Test
    void withoutNoiseTheFitIsExact() {
        CostModel model = new CostModel(SyntheticRounds.plausible());
        CostModel.Fit fit = CostModel.fit(SyntheticRounds.measure(model, 0, 1));
        for (CostTerm term : CostTerm.values()) {
            assertEquals(model.coefficient(term), fit.model().coefficient(term), 1e-9 * model.coefficient(term),
                    term.toString());
        }
        assertEquals(0, fit.maxRelativeError(), 1e-12);
    }

    @Test
    void aRoundIsItsWavesOfComputePlusItsOverhead() {
        // By hand, for tree P = 16 on 8 executors, k = 64, b = 64, N = 1,000,000, Adam:
        // compute = 0.17e-6 * 64 * 64 * 1e6 + 2e-6 * 64 * 1e6 + 0.5 * 64 + 20e-6 * 1e6
        //         = 696.32 + 128 + 32 + 20 = 876.32 ms, 2 waves;
        // M = 24 MB; 2 stages, 20 tasks; driver 4 M in + M out = 120 MB; busiest executor M + 4 M = 120 MB;
        // overhead = 8 + 3 * 2 + 0.3 * 20 + 1.0 * 120 + 1.5 * 120 + 0.5 * 8 = 324 ms.
        CostModel model = new CostModel(SyntheticRounds.plausible());
        RoundConfig c = new RoundConfig(ExchangeKind.TREE, false, 16, 8, 1, 1_000_000, 64, 2, 64, 2, 8);
        assertEquals(876.32, model.computeMs(c), 1e-9);
        assertEquals(324, model.overheadMs(c), 1e-9);
        assertEquals(2 * 876.32 + 324, model.roundMs(c), 1e-9);
        // The same 8 executors sharing 2 cores: a task runs 4x slower (8 at once on 2 cores); the
        // broadcast's 8 fetches of M over 2 cores are 4 M (was M), the level's 16 M over 2 cores 8 M
        // (was 4 M): 12 M = 288 MB on the path, overhead 324 + 1.5 * (288 - 120) = 576 ms.
        RoundConfig shared = new RoundConfig(ExchangeKind.TREE, false, 16, 8, 1, 1_000_000, 64, 2, 64, 2, 2);
        assertEquals(4 * 876.32, model.computeMs(shared), 1e-9);
        assertEquals(576, model.overheadMs(shared), 1e-9);
        assertEquals(2 * 4 * 876.32 + 576, model.roundMs(shared), 1e-9);
    }

    /** STANDARD_ERRORS_ALLOWED sqrt(2) sigma sqrt((AᵀA)^-1_jj) per term, A the group's scaled design. */
    private static Map<CostTerm, Double> tolerances(CostModel model, List<Measurement> measured) {
        Map<CostTerm, Double> out = new EnumMap<>(CostTerm.class);
        for (boolean compute : new boolean[] {true, false}) {
            List<CostTerm> terms = Arrays.stream(CostTerm.values()).filter(t -> t.isCompute() == compute).toList();
            List<Measurement> rows = measured.stream().filter(m -> !compute || !m.config().exchangeOnly()).toList();
            double[][] a = new double[rows.size()][terms.size()];
            for (int i = 0; i < rows.size(); i++) {
                RoundConfig c = rows.get(i).config();
                double scale = compute ? model.computeMs(c) : model.roundMs(c);
                for (int j = 0; j < terms.size(); j++) {
                    a[i][j] = terms.get(j).feature(c, RoundStructure.of(c)) / scale;
                }
            }
            RealMatrix design = new Array2DRowRealMatrix(a, false);
            RealMatrix inverse = MatrixUtils.inverse(design.transpose().multiply(design));
            double residual = (compute ? 1 : Math.sqrt(2)) * SIGMA;
            for (int j = 0; j < terms.size(); j++) {
                out.put(terms.get(j), STANDARD_ERRORS_ALLOWED * residual * Math.sqrt(inverse.getEntry(j, j)));
            }
        }
        return out;
    }
}
