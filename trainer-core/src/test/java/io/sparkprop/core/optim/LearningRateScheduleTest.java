package io.sparkprop.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Schedule values worked by hand; the golden test covers the rest against the reference. */
class LearningRateScheduleTest {

    private static void assertRejected(Executable call, String... expectedFragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String fragment : expectedFragments) {
            assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should contain '" + fragment + "'");
        }
    }

    @Test
    void warmupRampsLinearlyThenCosineStartsAtTheBaseRate() {
        LearningRateSchedule schedule = LearningRateSchedule.cosine(0.1, 20).withWarmup(4);
        // η0 (step + 1) / W for step < W = 4.
        assertEquals(0.025, schedule.rate(0), 1e-15);
        assertEquals(0.05, schedule.rate(1), 1e-15);
        assertEquals(0.075, schedule.rate(2), 1e-15);
        assertEquals(0.1, schedule.rate(3), 1e-15);
        // s = step - 4: cos(0) = 1 gives η0; cos(π/2) = 0 gives η0 / 2; s >= T gives ηmin = 0.
        assertEquals(0.1, schedule.rate(4), 1e-15);
        assertEquals(0.05, schedule.rate(14), 1e-15);
        assertEquals(0.0, schedule.rate(24), 1e-15);
        assertEquals(0.0, schedule.rate(1000), 1e-15);
    }

    @Test
    void cosineEndsAtMinRate() {
        LearningRateSchedule schedule = LearningRateSchedule.cosine(0.1, 10, 0.01);
        assertEquals(0.1, schedule.rate(0), 1e-15);
        assertEquals(0.055, schedule.rate(5), 1e-15);
        assertEquals(0.01, schedule.rate(10), 1e-15);
        assertEquals(0.01, schedule.rate(11), 1e-15);
    }

    @Test
    void stepDecayIsAStaircaseAndExponentialIsSmooth() {
        LearningRateSchedule step = LearningRateSchedule.stepDecay(1.0, 0.5, 3);
        double[] expected = {1, 1, 1, 0.5, 0.5, 0.5, 0.25};
        for (int s = 0; s < expected.length; s++) {
            assertEquals(expected[s], step.rate(s), 0.0, "step " + s);
        }
        LearningRateSchedule exponential = LearningRateSchedule.exponential(1.0, 0.5, 2);
        assertEquals(1.0, exponential.rate(0), 0.0);
        assertEquals(Math.sqrt(0.5), exponential.rate(1), 1e-15);
        assertEquals(0.5, exponential.rate(2), 0.0);
        assertEquals(0.25, exponential.rate(4), 0.0);
    }

    @Test
    void constantIsConstantAndWarmupZeroIsNoWarmup() {
        LearningRateSchedule constant = LearningRateSchedule.constant(0.3);
        assertEquals(0.3, constant.rate(0), 0.0);
        assertEquals(0.3, constant.rate(Long.MAX_VALUE), 0.0);
        assertEquals(constant, constant.withWarmup(5).withWarmup(0));
        assertNotEquals(constant, constant.withWarmup(5));
        assertEquals(0.1, constant.withWarmup(3).rate(0), 1e-15);
    }

    @Test
    void badArgumentsNameTheValue() {
        assertRejected(() -> LearningRateSchedule.constant(0.0),
                "base learning rate must be finite and > 0 but got 0.0");
        assertRejected(() -> LearningRateSchedule.constant(-0.1), "base learning rate", "-0.1");
        assertRejected(() -> LearningRateSchedule.constant(Double.NaN), "base learning rate", "NaN");
        assertRejected(() -> LearningRateSchedule.stepDecay(0.1, 0.0, 5), "gamma must be in (0, 1] but got 0.0");
        assertRejected(() -> LearningRateSchedule.exponential(0.1, 1.5, 5), "gamma must be in (0, 1] but got 1.5");
        assertRejected(() -> LearningRateSchedule.stepDecay(0.1, 0.5, 0), "stepSize must be >= 1 but got 0");
        assertRejected(() -> LearningRateSchedule.exponential(0.1, 0.5, -3), "decaySteps must be >= 1 but got -3");
        assertRejected(() -> LearningRateSchedule.cosine(0.1, 0), "decaySteps must be >= 1 but got 0");
        assertRejected(() -> LearningRateSchedule.cosine(0.1, 10, 0.2), "minRate must be in [0, 0.1]", "got 0.2");
        assertRejected(() -> LearningRateSchedule.cosine(0.1, 10, -0.01), "minRate", "got -0.01");
        assertRejected(() -> LearningRateSchedule.constant(0.1).withWarmup(-1), "warmupSteps must be >= 0 but got -1");
        assertRejected(() -> LearningRateSchedule.constant(0.1).rate(-2), "step must be >= 0 but got -2");
    }

    @Test
    void toStringDescribesTheSchedule() {
        assertEquals("cosine(baseRate=0.1, decaySteps=1000, minRate=0.0) after 50 warm-up steps",
                LearningRateSchedule.cosine(0.1, 1000).withWarmup(50).toString());
        assertEquals("stepDecay(baseRate=0.1, gamma=0.5, stepSize=7)",
                LearningRateSchedule.stepDecay(0.1, 0.5, 7).toString());
    }
}
