package io.sparkprop.spark;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import io.sparkprop.core.Network;
import io.sparkprop.spark.session.TrainingSession;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package rules of docs/architecture.md, checked on the compiled main classes of trainer-core
 * and spark-job (ArchUnit): the core imports no Spark, Hadoop or Scala; no package cycles; the
 * estimators do not import the command line; nothing imports benchmark or test-harness code.
 */
class LayeringTest {

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // The two modules' class locations only: scanning every jar of Spark's classpath for the
        // package would take seconds.
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importLocations(Set.of(Location.of(Network.class.getProtectionDomain().getCodeSource().getLocation()),
                        Location.of(TrainingSession.class.getProtectionDomain().getCodeSource().getLocation())));
    }

    @Test
    void bothModulesAreImported() {
        // The rules below would pass vacuously on an empty import.
        assertTrue(classes.contain("io.sparkprop.core.Network"), "trainer-core's classes are imported");
        assertTrue(classes.contain("io.sparkprop.spark.session.TrainingSession"), "spark-job's classes are imported");
    }

    @Test
    void theCoreKnowsNothingOfSparkHadoopOrScala() {
        noClasses().that().resideInAPackage("io.sparkprop.core..").should().dependOnClassesThat()
                .resideInAnyPackage("org.apache.spark..", "org.apache.hadoop..", "scala..")
                .because("trainer-core is the backprop core, usable without a cluster").check(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.sparkprop.(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void theEstimatorsDoNotImportTheCommandLine() {
        noClasses().that().resideInAPackage("io.sparkprop.spark.ml..").should().dependOnClassesThat()
                .resideInAPackage("io.sparkprop.spark.cli..").check(classes);
    }

    @Test
    void benchmarksAndHarnessesAreNotMainCode() {
        noClasses().should().resideInAPackage("..bench..")
                .because("harnesses live in the benchmarks module, out of the user's jar").check(classes);
        noClasses().should().haveSimpleName("EstimatorCheck")
                .because("the cluster test's check lives in the benchmarks module").check(classes);
    }
}
