package io.sparkprop.bench.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeasurementFileTest {

    @TempDir
    Path dir;

    @Test
    void whatIsWrittenReadsBackEqual() throws IOException {
        List<Measurement> measured = SyntheticRounds.measure(new CostModel(SyntheticRounds.plausible()), 0.02, 3);
        Path file = dir.resolve("scale.csv");
        MeasurementFile.write(file, measured);
        assertEquals(measured, MeasurementFile.read(file));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temp file is left behind");
        }
    }

    @Test
    void columnsMayComeInAnyOrderAndCommentsAreSkipped() throws IOException {
        Path file = dir.resolve("scale.csv");
        Files.writeString(file, """
                # bench-scale, 2 one-core workers
                round_ms,exchange,exchange_only,partitions,executors,cores,params,local_steps,state_slots,rows_per_step,tree_depth,host_cores,compute_ms,exchange_ms,broadcast_ms,update_ms,stages,tasks,driver_in_bytes,driver_out_bytes,shuffle_write_bytes,shuffle_read_bytes
                221.0,tree,false,2,2,1,235146,64,2,64,2,2,199.7,13.1,4.1,0.9,1,2,11287008,5643504,0,0
                """);
        Measurement m = MeasurementFile.read(file).get(0);
        assertEquals(new RoundConfig(ExchangeKind.TREE, false, 2, 2, 1, 235_146, 64, 2, 64, 2, 2), m.config());
        assertEquals(221.0, m.roundMs());
        assertEquals(199.7, m.computeMs());
        assertEquals(11_287_008, m.driverInBytes());
        assertEquals(221.0 - 199.7, m.overheadMs(), 1e-12);
    }

    @Test
    void anUnknownColumnIsAnErrorThatListsTheColumns() throws IOException {
        Path file = dir.resolve("scale.csv");
        Files.writeString(file, String.join(",", MeasurementFile.COLUMNS).replace("round_ms", "round_s") + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MeasurementFile.read(file));
        assertTrue(e.getMessage().contains("unknown column 'round_s'") && e.getMessage().contains("shuffle_read_bytes"),
                e.getMessage());
    }

    @Test
    void aMissingColumnIsNamed() throws IOException {
        Path file = dir.resolve("scale.csv");
        Files.writeString(file, String.join(",", MeasurementFile.COLUMNS).replace(",tasks", "") + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MeasurementFile.read(file));
        assertTrue(e.getMessage().contains("missing: [tasks]"), e.getMessage());
    }

    @Test
    void aBadValueNamesTheFileTheLineAndTheColumn() throws IOException {
        Path file = dir.resolve("scale.csv");
        Files.writeString(file, String.join(",", MeasurementFile.COLUMNS) + "\n"
                + "tree,false,2,2,1,235146,64,2,64,2,2,221.0,199.7,13.1,4.1,0.9,1,2,11287008,5643504,0,0\n"
                + "tree,false,4,4,1,235146,64,2,64,2,2,221.0,199.7,13.1,4.1,0.9,1,4,11287008,5643504,0,lots\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MeasurementFile.read(file));
        assertTrue(e.getMessage().startsWith(file + ", line 3: shuffle_read_bytes must be a whole number but got 'lots'"),
                e.getMessage());
    }

    @Test
    void aFileWithoutMeasurementsIsRefused() throws IOException {
        Path file = dir.resolve("scale.csv");
        Files.writeString(file, String.join(",", MeasurementFile.COLUMNS) + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MeasurementFile.read(file));
        assertTrue(e.getMessage().contains("at least one measurement"), e.getMessage());
    }
}
