package io.sparkprop.bench.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScalingReportTest {

    @Test
    void theReportOnSyntheticRoundsChecksTheStructureTheHeldOutErrorAndTabulatesEveryModel() {
        List<Measurement> measured = SyntheticRounds.measure(new CostModel(SyntheticRounds.plausible()), 0.02, 5);
        String report = ScalingReport.report("synthetic", measured, ScalingReport.Options.defaults());
        assertTrue(report.contains("Every measurement's stages and tasks match the counting formulas"), report);
        assertTrue(report.contains("## Held-out check: params=2400000, partitions=32"), report);
        assertTrue(report.contains(": within"), report);
        // 3 sizes x 2 k x 2 kinds, 3 executor counts each, weak and strong.
        assertEquals(2 * 12 * 3, report.lines().filter(l -> l.matches("\\| [0-9,]+ \\| (1|64) \\| .*%? \\|")).count(),
                report);
    }

    @Test
    void eachModelKAndKindIsTabulatedWithItsMeasuredRowsPerStep() {
        List<RoundConfig> bases = ScalingReport.bases(SyntheticRounds.measure(
                new CostModel(SyntheticRounds.plausible()), 0, 1));
        assertEquals(12, bases.size());
        assertTrue(bases.stream().allMatch(b -> b.rowsPerStep() == SyntheticRounds.ROWS_PER_STEP && !b.exchangeOnly()));
        assertEquals(235_146, bases.get(0).params());
    }

    @Test
    void aStructureThatDiffersFromTheMeasuredCountersIsListed() {
        List<Measurement> measured = new ArrayList<>(SyntheticRounds.measure(
                new CostModel(SyntheticRounds.plausible()), 0.02, 5));
        Measurement m = measured.get(0);
        measured.set(0, new Measurement(m.config(), m.roundMs(), m.computeMs(), 0, 0, 0, m.stages() + 1, m.tasks(),
                m.driverInBytes(), m.driverOutBytes(), m.shuffleWriteBytes(), m.shuffleReadBytes()));
        String report = ScalingReport.report("synthetic", measured, ScalingReport.Options.defaults());
        assertTrue(report.contains("1 of " + measured.size() + " measurements differ from the counting formulas"), report);
    }
}
